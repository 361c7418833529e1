"""Device models: what each device type does when the guest touches its registers.

A model gets its object (for properties), the emulation (virtual time, interrupt lines,
stop requests) and its character backend; nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from qconf.model.objects import Object

if TYPE_CHECKING:
    from qconf.emu.chardev import Chardev
    from qconf.emu.emulator import Emulation

__all__ = ("MODELS", "MmioModel")


class MmioModel(Protocol):
    def read(self, offset: int, size: int) -> int: ...

    def write(self, offset: int, size: int, value: int) -> None: ...


class _Device:
    def __init__(self, obj: Object, emu: Emulation) -> None:
        self.obj = obj
        self.emu = emu

    def raise_irq(self, output: str, level: bool) -> None:
        self.emu.irqs.set(self.obj, output, level)

    def chardev(self) -> Chardev:
        return self.emu.chardev_of(self.obj)


class Ns16550a(_Device):
    """The 16550A subset guests use: THR/RBR, IER, IIR, LCR (DLAB), LSR, SCR."""

    def __init__(self, obj: Object, emu: Emulation) -> None:
        super().__init__(obj, emu)
        self.shift = obj.get("reg_shift")
        self.ier = self.lcr = self.mcr = self.scr = self.dll = self.dlm = 0
        self.out = self.chardev()
        self.rx: int | None = None

    def _poll(self) -> None:
        if self.rx is None:
            self.rx = self.out.read()

    def _update(self) -> None:
        self._poll()
        self.raise_irq("irq", bool((self.ier & 0x2) or (self.ier & 0x1 and self.rx is not None)))

    def read(self, offset: int, size: int) -> int:
        reg = offset >> self.shift
        dlab = self.lcr & 0x80
        if reg == 0:
            if dlab:
                return self.dll
            self._poll()
            value, self.rx = (self.rx or 0), None
            self._update()
            return value
        if reg == 1:
            return self.dlm if dlab else self.ier
        if reg == 2:  # IIR: 0xc0 FIFOs enabled; 0x1 none pending, 0x4 rx, 0x2 thr empty
            self._poll()
            if self.ier & 0x1 and self.rx is not None:
                return 0xC4
            return 0xC2 if self.ier & 0x2 else 0xC1
        if reg == 3:
            return self.lcr
        if reg == 4:
            return self.mcr
        if reg == 5:  # LSR: THR empty, transmitter empty, data ready
            self._poll()
            return 0x60 | (1 if self.rx is not None else 0)
        if reg == 6:
            return 0xB0  # MSR: DCD, DSR, CTS
        return self.scr

    def write(self, offset: int, size: int, value: int) -> None:
        reg = offset >> self.shift
        value &= 0xFF
        dlab = self.lcr & 0x80
        if reg == 0:
            if dlab:
                self.dll = value
            else:
                self.out.write(bytes((value,)))
        elif reg == 1:
            if dlab:
                self.dlm = value
            else:
                self.ier = value & 0x0F
                self._update()
        elif reg == 3:
            self.lcr = value
        elif reg == 4:
            self.mcr = value
        elif reg == 7:
            self.scr = value


class Pl011(_Device):
    """PL011: DR, FR, IBRD/FBRD, LCR_H, CR, IMSC, RIS, MIS, ICR, peripheral ids."""

    ID = (0x11, 0x10, 0x14, 0x00, 0x0D, 0xF0, 0x05, 0xB1)

    def __init__(self, obj: Object, emu: Emulation) -> None:
        super().__init__(obj, emu)
        self.out = self.chardev()
        self.regs = {0x24: 0, 0x28: 0, 0x2C: 0, 0x30: 0x300, 0x38: 0}
        self.rx: int | None = None

    def _ris(self) -> int:
        if self.rx is None:
            self.rx = self.out.read()
        return 0x20 | (0x10 if self.rx is not None else 0)  # TX always ready

    def _update(self) -> None:
        self.raise_irq("irq", bool(self._ris() & self.regs[0x38]))

    def read(self, offset: int, size: int) -> int:
        if offset == 0x00:
            self._ris()
            value, self.rx = (self.rx or 0), None
            self._update()
            return value
        if offset == 0x18:  # FR: TXFE, RXFE when empty
            return 0x80 | (0 if self._ris() & 0x10 else 0x10)
        if offset == 0x3C:
            return self._ris()
        if offset == 0x40:
            return self._ris() & self.regs[0x38]
        if 0xFE0 <= offset < 0x1000:
            return self.ID[(offset - 0xFE0) >> 2]
        return self.regs.get(offset, 0)

    def write(self, offset: int, size: int, value: int) -> None:
        if offset == 0x00:
            self.out.write(bytes((value & 0xFF,)))
        elif offset in self.regs:
            self.regs[offset] = value
            self._update()


class CmsdkUart(_Device):
    """Arm CMSDK APB UART: DATA, STATE, CTRL, INTSTATUS, BAUDDIV."""

    def __init__(self, obj: Object, emu: Emulation) -> None:
        super().__init__(obj, emu)
        self.out = self.chardev()
        self.ctrl = self.bauddiv = 0
        self.rx: int | None = None

    def read(self, offset: int, size: int) -> int:
        if self.rx is None:
            self.rx = self.out.read()
        if offset == 0x0:
            value, self.rx = (self.rx or 0), None
            return value
        if offset == 0x4:
            return 0x2 if self.rx is not None else 0  # bit 0 TX full never
        if offset == 0x8:
            return self.ctrl
        if offset == 0x10:
            return self.bauddiv
        return 0

    def write(self, offset: int, size: int, value: int) -> None:
        if offset == 0x0 and self.ctrl & 0x1:  # TX enabled
            self.out.write(bytes((value & 0xFF,)))
        elif offset == 0x8:
            self.ctrl = value & 0x7F
        elif offset == 0x10:
            self.bauddiv = value


class SifiveTest(_Device):
    """The test finisher: 0x5555 pass (status 0), 0x3333 | code << 16 fail, 0x7777 reset."""

    def read(self, offset: int, size: int) -> int:
        return 0

    def write(self, offset: int, size: int, value: int) -> None:
        kind, code = value & 0xFFFF, (value >> 16) & 0xFFFF
        if kind == 0x5555:
            self.emu.request_stop(0, f"{self.obj.key}: guest powered off (pass)")
        elif kind == 0x3333:
            self.emu.request_stop(code or 1, f"{self.obj.key}: guest reported failure {code}")
        elif kind == 0x7777:
            self.emu.request_stop(0, f"{self.obj.key}: guest asked for a reset")


class Poweroff(_Device):
    """A write ends the run; with ``exit_code``, the value written is the exit status."""

    def read(self, offset: int, size: int) -> int:
        return 0

    def write(self, offset: int, size: int, value: int) -> None:
        code = value & 0xFF if self.obj.get("exit_code") else 0
        self.emu.request_stop(code, f"{self.obj.key}: guest powered off (status {code})")


class Clint(_Device):
    """RISC-V CLINT: msip (0x0 + 4h), mtimecmp (0x4000 + 8h), mtime (0xbff8) from virtual
    time at the ``timebase`` rate."""

    def __init__(self, obj: Object, emu: Emulation) -> None:
        super().__init__(obj, emu)
        harts: int = obj.get("num_harts")
        self.timebase: int = obj.get("timebase")
        self.msip = [0] * harts
        self.mtimecmp = [2**64 - 1] * harts

    def mtime(self) -> int:
        return self.emu.time.now * self.timebase // 1_000_000_000

    def timer_pending(self, hart: int) -> bool:
        return hart < len(self.mtimecmp) and self.mtime() >= self.mtimecmp[hart]

    def soft_pending(self, hart: int) -> bool:
        return hart < len(self.msip) and bool(self.msip[hart] & 1)

    def _rw64(self, old: int, offset: int, size: int, value: int) -> int:
        shift = (offset & 7) * 8
        mask = ((1 << (size * 8)) - 1) << shift
        return (old & ~mask) | ((value << shift) & mask)

    def read(self, offset: int, size: int) -> int:
        if offset < 0x4000:
            hart = offset >> 2
            return int(self.msip[hart]) if hart < len(self.msip) else 0
        if offset >= 0xBFF8:
            return (self.mtime() >> ((offset - 0xBFF8) * 8)) & ((1 << (size * 8)) - 1)
        hart = (offset - 0x4000) >> 3
        if hart >= len(self.mtimecmp):
            return 0
        return (self.mtimecmp[hart] >> ((offset & 7) * 8)) & ((1 << (size * 8)) - 1)

    def write(self, offset: int, size: int, value: int) -> None:
        if offset < 0x4000:
            hart = offset >> 2
            if hart < len(self.msip):
                self.msip[hart] = value & 1
            return
        if offset >= 0xBFF8:
            return  # mtime follows virtual time
        hart = (offset - 0x4000) >> 3
        if hart >= len(self.mtimecmp):
            return
        self.mtimecmp[hart] = self._rw64(self.mtimecmp[hart], offset - 0x4000, size, value)
        # wake waiting harts when the compare value is reached
        ticks = self.mtimecmp[hart]
        when = -(-ticks * 1_000_000_000 // self.timebase)  # first ns with mtime >= ticks
        if when < 2**62:
            self.emu.time.at(when, lambda: None)


Factory = Callable[[Object, "Emulation"], MmioModel]

MODELS: dict[str, Factory] = {
    "ns16550a": Ns16550a,
    "pl011": Pl011,
    "cmsdk-apb-uart": CmsdkUart,
    "sifive-test": SifiveTest,
    "poweroff": Poweroff,
    "clint": Clint,
}
"""Device type -> its model. Types not listed here (PLIC, NVIC, timers... for now) are
mapped as unimplemented: accesses read 0 and are logged once."""
