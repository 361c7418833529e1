"""UART models: NS16550A, Arm PL011 and the Arm CMSDK APB UART (types declared in
:mod:`qconf.devices.uart`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qconf.emu.devices.base import _Device
from qconf.model.objects import Object

if TYPE_CHECKING:
    from qconf.emu.emulator import Emulation


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

    def input_wakes(self) -> bool:
        """Whether input would raise an interrupt (the receive interrupt is enabled)."""
        return bool(self.ier & 0x1)

    def poll_input(self) -> None:
        """Between slices: input that arrived raises the receive interrupt (if enabled)."""
        if self.input_wakes():
            self._update()

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

    def input_wakes(self) -> bool:
        """Whether input would raise an interrupt (RXIM is set)."""
        return bool(self.regs[0x38] & 0x10)

    def poll_input(self) -> None:
        """Between slices: input that arrived raises the receive interrupt (if enabled)."""
        if self.input_wakes():
            self._update()

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
