"""Device models: what each device type does when the guest touches its registers.

A model gets its object (for properties), the emulation (virtual time, interrupt lines,
stop requests) and its character backend; nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

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
        return _Tapped(self.emu.chardev_of(self.obj), self.obj, self.emu)


class _Tapped:
    """A device's character backend, with its output also shown to listeners (QMP
    clients that asked for console events)."""

    def __init__(self, inner: Chardev, obj: Object, emu: Emulation) -> None:
        self.inner, self.obj, self.emu = inner, obj, emu

    def write(self, data: bytes) -> None:
        self.inner.write(data)
        for listener in self.emu.listeners:
            listener(self.obj, data)

    def read(self) -> int | None:
        typed = self.emu.console_input.get(self.obj)
        if typed:  # written over QMP (qconf-console-write) comes first
            return typed.popleft()
        return self.inner.read()

    def wait_fd(self) -> int | None:
        return self.inner.wait_fd()

    def close(self) -> None:
        self.inner.close()


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
        return self.emu.now() * self.timebase // 1_000_000_000

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
                if value & 1:
                    self.emu.cut_slice()
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
        if self.timer_pending(hart):
            self.emu.cut_slice()
        elif when < 2**62:
            self.emu.time.at(when, lambda: None)


class Nvic(_Device):
    """The System Control Space of a v7-M/v6-M core: NVIC, SysTick and the SCB registers
    guests touch. The core asks :meth:`pending_exception` between quanta."""

    CPUID: ClassVar[dict[str, int]] = {"cortex-m0": 0x410CC200, "cortex-m3": 0x412FC231,
                                       "cortex-m4": 0x410FC241}  # fmt: skip

    def __init__(self, obj: Object, emu: Emulation) -> None:
        super().__init__(obj, emu)
        self.num_irq: int = obj.get("num_irq")
        words = (self.num_irq + 31) // 32
        self.enabled = [0] * words
        self.pend = [0] * words
        self.prio = bytearray(self.num_irq)
        self.shpr = bytearray(12)
        self.vtor: int | None = None
        self.cpu_freq = 25_000_000
        self.cpu_model = "cortex-m3"
        self.refclk: int | None = obj.get("systick_refclk")
        self.csr = self.rvr = 0
        self.systick_pending = False
        self.pendsv_pending = False
        self.prigroup = 0  # AIRCR.PRIGROUP: bits below 1 << (prigroup + 1) are subpriority
        self.core: Any = None  # the Cortex-M core this NVIC serves (set by the emulator)
        self._epoch = 0  # when the counter last held _start
        self._start = 0
        self._wrap: Any = None

    # --- SysTick on virtual time ------------------------------------------------------

    def _hz(self) -> int:
        return self.cpu_freq if self.csr & 4 or not self.refclk else self.refclk

    def _ns(self, ticks: int) -> int:
        return -(-ticks * 1_000_000_000 // self._hz())

    def _cvr(self) -> int:
        if not self.csr & 1:
            return self._start
        elapsed = (self.emu.now() - self._epoch) * self._hz() // 1_000_000_000
        return max(0, self._start - elapsed)

    def _arm(self, start: int) -> None:
        if self._wrap is not None:
            self._wrap.cancelled = True
            self._wrap = None
        self._epoch, self._start = self.emu.now(), start
        if self.csr & 1 and start > 0:
            self._wrap = self.emu.time.at(self._epoch + self._ns(start), self._wrapped)

    def _wrapped(self) -> None:
        self.csr |= 1 << 16  # COUNTFLAG
        if self.csr & 2:
            self.systick_pending = True
        self._wrap = None
        self._arm(self.rvr + 1)

    # --- what the core asks -----------------------------------------------------------

    def priority(self, number: int) -> int:
        """An exception's priority: fixed for reset, NMI and HardFault (-3, -2, -1), else
        its SHPR or IPR byte (lower is more urgent)."""
        if number < 4:
            return number - 4
        if number < 16:
            return self.shpr[number - 4]
        return self.prio[number - 16] if number - 16 < self.num_irq else 256

    def group_priority_of(self, value: int) -> int:
        """The part of a priority value that decides preemption (AIRCR.PRIGROUP)."""
        if value < 0:
            return value
        return value & ~((2 << self.prigroup) - 1) & 0xFF

    def group_priority(self, number: int) -> int:
        return self.group_priority_of(self.priority(number))

    def pending_exception(self) -> int | None:
        """The most urgent pending and enabled exception (lowest priority value, then
        lowest number), whether or not the core can take it now."""
        best: tuple[int, int] | None = None
        if self.pendsv_pending:
            best = (self.shpr[10], 14)
        if self.systick_pending:
            cand = (self.shpr[11], 15)
            best = cand if best is None or cand < best else best
        active = set(self._active())
        for n in range(self.num_irq):
            if not self.enabled[n >> 5] >> (n & 31) & 1 or 16 + n in active:
                continue
            if self.pend[n >> 5] >> (n & 31) & 1 or self.emu.irqs.input_level(self.obj, "in", n):
                cand = (self.prio[n], 16 + n)
                if best is None or cand < best:
                    best = cand
        return None if best is None else best[1]

    def acknowledge(self, number: int) -> None:
        """The core entered exception ``number``: it is no longer pending."""
        if number == 15:
            self.systick_pending = False
        elif number == 14:
            self.pendsv_pending = False
        elif number >= 16:
            n = number - 16
            self.pend[n >> 5] &= ~(1 << (n & 31))

    def _active(self) -> list[int]:
        """The exceptions the core is handling, the innermost last."""
        return self.core.active if self.core is not None else []

    def _changed(self) -> None:
        """A write may have made an exception takeable: let the scheduler look now."""
        self.emu.cut_slice()

    # --- registers --------------------------------------------------------------------

    def read(self, offset: int, size: int) -> int:
        if offset == 0x004:
            return len(self.enabled) - 1
        if offset == 0x010:
            value = self.csr
            self.csr &= ~(1 << 16)  # COUNTFLAG clears on read
            return value
        if offset == 0x014:
            return self.rvr
        if offset == 0x018:
            return self._cvr()
        if offset == 0x01C:
            return 1 << 31  # no reference clock calibration
        if 0x100 <= offset < 0x140 or 0x180 <= offset < 0x1C0:
            i = (offset & 0x3F) >> 2
            return self.enabled[i] if i < len(self.enabled) else 0
        if 0x200 <= offset < 0x240 or 0x280 <= offset < 0x2C0:
            i = (offset & 0x3F) >> 2
            return self.pend[i] if i < len(self.pend) else 0
        if 0x400 <= offset < 0x400 + self.num_irq:
            n = offset - 0x400
            return int.from_bytes(self.prio[n : n + size].ljust(size, b"\0"), "little")
        if offset == 0xD00:
            return self.CPUID.get(self.cpu_model, 0x412FC231)
        if offset == 0xD04:  # ICSR
            stack = self._active()
            current = stack[-1] if stack else 0
            pending = self.pending_exception() or 0
            flags = int(pending >= 16) << 22 | int(self.systick_pending) << 26
            return current | pending << 12 | flags | int(self.pendsv_pending) << 28
        if offset == 0xD08:
            return self.vtor or 0
        if offset == 0xD0C:
            return 0xFA050000 | self.prigroup << 8
        if offset == 0xD24:  # SHCSR: which system handlers are active
            active = set(self._active())
            bits = {11: 7, 12: 8, 14: 10, 15: 11}
            return sum(1 << bit for number, bit in bits.items() if number in active)
        if 0x300 <= offset < 0x340:  # IABR: active interrupts
            i = (offset - 0x300) >> 2
            active = set(self._active())
            return sum(1 << b for b in range(32) if 16 + i * 32 + b in active)
        if 0xD18 <= offset < 0xD24:
            n = offset - 0xD18
            return int.from_bytes(self.shpr[n : n + size].ljust(size, b"\0"), "little")
        return 0

    def write(self, offset: int, size: int, value: int) -> None:
        if offset == 0x010:
            was = self.csr & 1
            self.csr = (self.csr & (1 << 16)) | (value & 0x7)
            if self.csr & 1 and not was:
                self._arm(self._start or self.rvr)
            elif not self.csr & 1:
                self._arm(self._cvr())
        elif offset == 0x014:
            self.rvr = value & 0xFFFFFF
        elif offset == 0x018:  # any write clears the counter and COUNTFLAG
            self.csr &= ~(1 << 16)
            self._arm(self.rvr)
        elif 0x100 <= offset < 0x140:
            i = (offset - 0x100) >> 2
            if i < len(self.enabled):
                self.enabled[i] |= value
            self._changed()
        elif 0x180 <= offset < 0x1C0:
            i = (offset - 0x180) >> 2
            if i < len(self.enabled):
                self.enabled[i] &= ~value
        elif 0x200 <= offset < 0x240:
            i = (offset - 0x200) >> 2
            if i < len(self.pend):
                self.pend[i] |= value
            self._changed()
        elif 0x280 <= offset < 0x2C0:
            i = (offset - 0x280) >> 2
            if i < len(self.pend):
                self.pend[i] &= ~value
        elif 0x400 <= offset < 0x400 + self.num_irq:
            n = offset - 0x400
            self.prio[n : n + size] = value.to_bytes(size, "little")[: self.num_irq - n]
            self._changed()
        elif offset == 0xF00:  # STIR: pend an interrupt by number
            n = value & 0x1FF
            if n < self.num_irq:
                self.pend[n >> 5] |= 1 << (n & 31)
            self._changed()
        elif offset == 0xD04:  # ICSR
            if value & (1 << 26):
                self.systick_pending = True
            if value & (1 << 25):
                self.systick_pending = False
            if value & (1 << 28):
                self.pendsv_pending = True
            if value & (1 << 27):
                self.pendsv_pending = False
            self._changed()
        elif offset == 0xD08:
            self.vtor = value & ~0x7F
        elif offset == 0xD0C and value >> 16 == 0x05FA:  # AIRCR, with its key
            if value & 0x4:
                self.emu.request_stop(0, f"{self.obj.key}: guest requested a system reset")
            self.prigroup = value >> 8 & 7
            self._changed()
        elif 0xD18 <= offset < 0xD24:
            n = offset - 0xD18
            self.shpr[n : n + size] = value.to_bytes(size, "little")[: 12 - n]
            self._changed()


class Plic(_Device):
    """RISC-V PLIC (QEMU virt layout): priorities at +0, pending bits at +0x1000, enables
    at +0x2000 + 0x80 * context, threshold and claim/complete at +0x200000 + 0x1000 *
    context. Context 2h is hart h's M mode, 2h + 1 its S mode. Sources are level
    triggered: a source is pending while its input is high and it is not being served
    (claimed and not yet completed)."""

    def __init__(self, obj: Object, emu: Emulation) -> None:
        super().__init__(obj, emu)
        self.sources: int = obj.get("num_sources") + 1
        contexts = 2 * obj.get("num_harts")
        words = (self.sources + 31) // 32
        self.priority = [0] * self.sources
        self.enable = [[0] * words for _ in range(contexts)]
        self.threshold = [0] * contexts
        self.serving: set[int] = set()

    def _pending(self, src: int) -> bool:
        return src not in self.serving and self.emu.irqs.input_level(self.obj, "in", src)

    def _best(self, ctx: int) -> int:
        if ctx >= len(self.threshold):
            return 0
        best, best_prio = 0, self.threshold[ctx]
        for word, enabled in enumerate(self.enable[ctx]):
            bits = enabled
            while bits:  # only the enabled sources
                low = bits & -bits
                bits ^= low
                src = word * 32 + low.bit_length() - 1
                pick = 0 < src < self.sources and self.priority[src] > best_prio
                if pick and self._pending(src):
                    best, best_prio = src, self.priority[src]
        return best

    def context_pending(self, ctx: int) -> bool:
        """Whether context ``ctx`` has an interrupt to take (its xEIP line)."""
        return self._best(ctx) != 0

    def read(self, offset: int, size: int) -> int:
        if offset < 0x1000:
            src = offset >> 2
            return self.priority[src] if src < self.sources else 0
        if offset < 0x2000:
            word = (offset - 0x1000) >> 2
            return sum(1 << (s & 31) for s in range(word * 32, min(self.sources, word * 32 + 32))
                       if s and self._pending(s))  # fmt: skip
        if offset < 0x200000:
            ctx, word = (offset - 0x2000) >> 7, ((offset - 0x2000) & 0x7F) >> 2
            if ctx < len(self.enable) and word < len(self.enable[ctx]):
                return self.enable[ctx][word]
            return 0
        ctx, reg = (offset - 0x200000) >> 12, offset & 0xFFF
        if ctx >= len(self.threshold):
            return 0
        if reg == 0:
            return self.threshold[ctx]
        if reg == 4:  # claim
            src = self._best(ctx)
            if src:
                self.serving.add(src)
            return src
        return 0

    def write(self, offset: int, size: int, value: int) -> None:
        if offset < 0x1000:
            src = offset >> 2
            if 0 < src < self.sources:
                self.priority[src] = value & 7
        elif 0x2000 <= offset < 0x200000:
            ctx, word = (offset - 0x2000) >> 7, ((offset - 0x2000) & 0x7F) >> 2
            if ctx < len(self.enable) and word < len(self.enable[ctx]):
                self.enable[ctx][word] = value & 0xFFFFFFFF
        elif offset >= 0x200000:
            ctx, reg = (offset - 0x200000) >> 12, offset & 0xFFF
            if ctx < len(self.threshold):
                if reg == 0:
                    self.threshold[ctx] = value & 7
                elif reg == 4:  # complete
                    self.serving.discard(value)


class Gic(_Device):
    """GICv2 distributor and CPU interface for one core. INTID 16-31 are the core's
    private lines (the generic timer: 27 virtual, 30 physical), 32 and up the ``in``
    lines wired to it (``gic.in[33]`` is SPI 1). Level-sensitive; an acknowledged
    interrupt is active until the guest writes EOIR."""

    def __init__(self, obj: Object, emu: Emulation) -> None:
        super().__init__(obj, emu)
        self.lines: int = obj.get("num_irq")
        words = (self.lines + 31) // 32
        self.enabled = [0] * words
        self.pend = [0] * words
        self.active: set[int] = set()
        self.prio = bytearray(self.lines)
        self.targets = bytearray(self.lines)
        self.cfg = [0] * (words * 2)
        self.dctlr = self.cctlr = self.pmr = self.bpr = 0
        self.core: Any = None  # the AArch64 core it serves, set by the emulator

    def _level(self, intid: int) -> bool:
        if 16 <= intid < 32:
            return self.core is not None and bool(self.core.timer_level(intid))
        return intid >= 32 and self.emu.irqs.input_level(self.obj, "in", intid)

    def _pending(self, intid: int) -> bool:
        bit = self.pend[intid >> 5] >> (intid & 31) & 1
        return intid not in self.active and (bool(bit) or self._level(intid))

    def highest(self) -> int | None:
        best: tuple[int, int] | None = None
        for word, enabled in enumerate(self.enabled):
            bits = enabled
            while bits:
                low = bits & -bits
                intid = word * 32 + low.bit_length() - 1
                bits ^= low
                if intid < self.lines and self.prio[intid] < self.pmr and self._pending(intid):
                    cand = (self.prio[intid], intid)
                    if best is None or cand < best:
                        best = cand
        return None if best is None else best[1]

    def irq_level(self) -> bool:
        """The IRQ line to the core."""
        return bool(self.dctlr & 1 and self.cctlr & 1) and self.highest() is not None

    def read_region(self, region: str, offset: int, size: int) -> int:
        if region == "cpu":
            if offset == 0x00:
                return self.cctlr
            if offset == 0x04:
                return self.pmr
            if offset == 0x08:
                return self.bpr
            if offset in (0x0C, 0x18):  # IAR acknowledges; HPPIR only looks
                intid = self.highest() if self.dctlr & 1 and self.cctlr & 1 else None
                if intid is None:
                    return 1023
                if offset == 0x0C:
                    self.active.add(intid)
                    self.pend[intid >> 5] &= ~(1 << (intid & 31))
                    self._sync()
                return intid
            if offset == 0xFC:
                return 0x0202143B  # GICC_IIDR of a GIC-400
            return 0
        if offset == 0x000:
            return self.dctlr
        if offset == 0x004:
            return (self.lines // 32) - 1  # ITLinesNumber, one CPU
        if 0x100 <= offset < 0x180 or 0x180 <= offset < 0x200:
            i = (offset & 0x7F) >> 2
            return self.enabled[i] if i < len(self.enabled) else 0
        if 0x200 <= offset < 0x300:
            i = (offset & 0x7F) >> 2
            if i >= len(self.pend):
                return 0
            return sum(1 << b for b in range(32) if self._pending(i * 32 + b)
                       and i * 32 + b < self.lines)  # fmt: skip
        if 0x400 <= offset < 0x400 + self.lines:
            n = offset - 0x400
            return int.from_bytes(self.prio[n : n + size].ljust(size, b"\0"), "little")
        if 0x800 <= offset < 0x800 + self.lines:
            n = offset - 0x800
            if n < 32:
                return int.from_bytes(b"\x01" * size, "little")  # private: this core
            return int.from_bytes(self.targets[n : n + size].ljust(size, b"\0"), "little")
        if 0xC00 <= offset < 0xC00 + 4 * len(self.cfg):
            return self.cfg[(offset - 0xC00) >> 2]
        return 0

    def _sync(self) -> None:
        if self.core is not None:
            self.core.update_irq()

    def write_region(self, region: str, offset: int, size: int, value: int) -> None:
        self._write(region, offset, size, value)
        self._sync()

    def _write(self, region: str, offset: int, size: int, value: int) -> None:
        if region == "cpu":
            if offset == 0x00:
                self.cctlr = value & 1
            elif offset == 0x04:
                self.pmr = value & 0xFF
            elif offset == 0x08:
                self.bpr = value & 7
            elif offset == 0x10:  # EOIR
                self.active.discard(value & 0x3FF)
            return
        if offset == 0x000:
            self.dctlr = value & 1
        elif 0x100 <= offset < 0x180:
            i = (offset - 0x100) >> 2
            if i < len(self.enabled):
                self.enabled[i] |= value
        elif 0x180 <= offset < 0x200:
            i = (offset - 0x180) >> 2
            if i < len(self.enabled):
                self.enabled[i] &= ~value
        elif 0x200 <= offset < 0x280:
            i = (offset - 0x200) >> 2
            if i < len(self.pend):
                self.pend[i] |= value
        elif 0x280 <= offset < 0x300:
            i = (offset - 0x280) >> 2
            if i < len(self.pend):
                self.pend[i] &= ~value
        elif 0x400 <= offset < 0x400 + self.lines:
            n = offset - 0x400
            self.prio[n : n + size] = value.to_bytes(size, "little")[: self.lines - n]
        elif 0x800 <= offset < 0x800 + self.lines:
            n = offset - 0x800
            self.targets[n : n + size] = value.to_bytes(size, "little")[: self.lines - n]
        elif 0xC00 <= offset < 0xC00 + 4 * len(self.cfg):
            self.cfg[(offset - 0xC00) >> 2] = value

    def read(self, offset: int, size: int) -> int:  # pragma: no cover - windows by name
        return self.read_region("dist", offset, size)

    def write(self, offset: int, size: int, value: int) -> None:  # pragma: no cover
        self.write_region("dist", offset, size, value)


class Timer(_Device):
    """The `timer` type, register-compatible with Arm's CMSDK APB timer: CTRL (+0x0: bit 0
    enable, bit 3 interrupt enable), VALUE (+0x4), RELOAD (+0x8), INTSTATUS/INTCLEAR
    (+0xC). It counts VALUE down at ``freq`` in virtual time; reaching zero sets the
    interrupt (a level, until cleared) and reloads."""

    def __init__(self, obj: Object, emu: Emulation) -> None:
        super().__init__(obj, emu)
        self.hz: int = emu.machine.clock_rate(obj, "freq")
        self.ctrl = self.reload = self.status = 0
        self._value = 0
        self._epoch = 0
        self._event: Any = None

    def _now_value(self) -> int:
        if not self.ctrl & 1:
            return self._value
        ticks = (self.emu.now() - self._epoch) * self.hz // 1_000_000_000
        return max(0, self._value - ticks)

    def _restart(self, value: int) -> None:
        if self._event is not None:
            self._event.cancelled = True
            self._event = None
        self._value, self._epoch = value, self.emu.now()
        if self.ctrl & 1 and value > 0:
            when = self._epoch + -(-value * 1_000_000_000 // self.hz)
            self._event = self.emu.time.at(when, self._expired)

    def _expired(self) -> None:
        self._event = None
        self.status = 1
        self._update()
        self._restart(self.reload)

    def _update(self) -> None:
        self.raise_irq("irq", bool(self.status and self.ctrl & 8))

    def read(self, offset: int, size: int) -> int:
        if offset == 0x0:
            return self.ctrl
        if offset == 0x4:
            return self._now_value()
        if offset == 0x8:
            return self.reload
        if offset == 0xC:
            return self.status
        return 0

    def write(self, offset: int, size: int, value: int) -> None:
        value &= 0xFFFFFFFF
        if offset == 0x0:
            current = self._now_value()
            self.ctrl = value & 0xF
            self._restart(current)
        elif offset == 0x4:
            self._restart(value)
        elif offset == 0x8:
            self.reload = value
            self._restart(value)  # writing RELOAD also loads VALUE, as on the CMSDK timer
        elif offset == 0xC and value & 1:
            self.status = 0
        self._update()


class Mailbox(_Device):
    """Two sides (A, B), each with a window of registers at +0x00 (A) and +0x20 (B):

    ======  =========  ==================================================================
    offset  register   meaning
    ======  =========  ==================================================================
    +0x00   TX         write: post a word to the other side's FIFO (full: dropped)
    +0x04   RX         read: take the next word from this side's FIFO (empty: 0)
    +0x08   STATUS     bit 0: a word is waiting; bit 1: the other side's FIFO is full
    +0x0C   DOORBELL   write: ring the other side (bits OR in); read: this side's bits
    +0x10   CLEAR      write: clear this side's doorbell bits
    +0x14   IRQ_EN     bit 0: interrupt when a word waits; bit 1: when a doorbell rings
    ======  =========  ==================================================================

    Each side's interrupt (``irq_a``, ``irq_b``) is a level: high while what it enables
    is there.
    """

    def __init__(self, obj: Object, emu: Emulation) -> None:
        from collections import deque

        super().__init__(obj, emu)
        self.depth: int = obj.get("fifo_depth")
        self.fifo = (deque[int](), deque[int]())  # words waiting for side A, for side B
        self.bells = [0, 0]
        self.irq_en = [0, 0]

    def _update(self) -> None:
        for side, output in ((0, "irq_a"), (1, "irq_b")):
            en = self.irq_en[side]
            level = bool(en & 1 and self.fifo[side]) or bool(en & 2 and self.bells[side])
            self.raise_irq(output, level)

    def read(self, offset: int, size: int) -> int:
        side, reg = (offset >> 5) & 1, offset & 0x1F
        other = 1 - side
        value = 0
        if reg == 0x04 and self.fifo[side]:
            value = self.fifo[side].popleft()
        elif reg == 0x08:
            value = (1 if self.fifo[side] else 0) | (
                2 if len(self.fifo[other]) >= self.depth else 0
            )
        elif reg == 0x0C:
            value = self.bells[side]
        elif reg == 0x14:
            value = self.irq_en[side]
        self._update()
        return value

    def write(self, offset: int, size: int, value: int) -> None:
        side, reg = (offset >> 5) & 1, offset & 0x1F
        other = 1 - side
        value &= 0xFFFFFFFF
        if reg == 0x00 and len(self.fifo[other]) < self.depth:
            self.fifo[other].append(value)
        elif reg == 0x0C:
            self.bells[other] |= value
        elif reg == 0x10:
            self.bells[side] &= ~value
        elif reg == 0x14:
            self.irq_en[side] = value & 3
        self._update()


Factory = Callable[[Object, "Emulation"], MmioModel]

MODELS: dict[str, Factory] = {
    "ns16550a": Ns16550a,
    "pl011": Pl011,
    "cmsdk-apb-uart": CmsdkUart,
    "sifive-test": SifiveTest,
    "poweroff": Poweroff,
    "clint": Clint,
    "nvic": Nvic,
    "mailbox": Mailbox,
    "plic": Plic,
    "gic": Gic,
    "timer": Timer,
}
"""Device type -> its model. A device type not listed here is mapped as unimplemented:
accesses read 0, writes are ignored, and the first one is noted."""
