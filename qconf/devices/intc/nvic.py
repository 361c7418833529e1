"""The Cortex-M System Control Space model: NVIC, SysTick and the SCB registers.

The NVIC's enable, pending and priority registers, and its inputs' levels, live in a
ctypes structure (:class:`~qconf.arch.cortexm.exceptions.NvicState`) that the core's
exception entry and return read, natively or not; the attributes below are views of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from qconf.arch.cortexm.exceptions import NvicState, pending_exception
from qconf.devices.base import Device
from qconf.devices.intc.banks import write_set_clear
from qconf.emu.context import DeviceContext, cores_of


class Nvic(Device):
    """The System Control Space of a v7-M/v6-M core: NVIC, SysTick and the SCB registers
    guests touch. The core reads :attr:`state_struct` to choose what to take."""

    CPUID: ClassVar[dict[str, int]] = {"cortex-m0": 0x410CC200, "cortex-m3": 0x412FC231,
                                       "cortex-m4": 0x410FC241}  # fmt: skip
    STATE = ("enabled", "pend", "prio", "shpr", "vtor", "csr", "rvr", "systick_pending",
             "pendsv_pending", "prigroup", "_epoch", "_start")  # fmt: skip

    def __init__(self, ctx: DeviceContext) -> None:
        super().__init__(ctx)
        obj = ctx.obj
        self.num_irq: int = obj.get("num_irq")
        self._words = (self.num_irq + 31) // 32
        self.state_struct = NvicState()
        self.state_struct.num_irq = self.num_irq
        self.cpu_freq = 25_000_000
        self.cpu_model = "cortex-m3"
        self.refclk: int | None = obj.get("systick_refclk")
        self.csr = self.rvr = 0
        self.core: Any = None  # the Cortex-M core this NVIC serves (it connects itself)
        self._epoch = 0  # when the counter last held _start
        self._start = 0
        self._wrap: Any = None

    def connect(self, cores: Sequence[Any]) -> None:
        """Serve the Cortex-M core its ``cpu`` property names, else the first one that
        sees it and has no NVIC yet."""
        named = self.ctx.link("cpu")
        for core in cores_of(cores, "arm-m"):
            if core.obj is named or (named is None and core.nvic is None):
                core.nvic, self.core = self, core
                self.cpu_freq, self.cpu_model = core.freq, core.obj.info.name
                break
        self.ctx.watch_inputs(self._input)
        self._load_levels()

    def _input(self, line: str, index: int, level: bool) -> None:
        """Input ``line[index]`` changed: a level-triggered interrupt is pending while
        its input is high (and it is not active)."""
        if line == "in" and index < self.num_irq:
            words = self.state_struct.level
            if level:
                words[index >> 5] |= 1 << (index & 31)
            else:
                words[index >> 5] &= ~(1 << (index & 31))

    def _load_levels(self) -> None:
        for n in range(self.num_irq):
            self._input("in", n, self.ctx.input_level("in", n))

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)
        self._load_levels()  # the wires' levels were loaded before the devices

    # --- the registers' state (views of state_struct) ---------------------------------

    @property
    def enabled(self) -> list[int]:
        return list(self.state_struct.enabled[: self._words])

    @enabled.setter
    def enabled(self, words: list[int]) -> None:
        self.state_struct.enabled[: self._words] = words[: self._words]

    @property
    def pend(self) -> list[int]:
        return list(self.state_struct.pend[: self._words])

    @pend.setter
    def pend(self, words: list[int]) -> None:
        self.state_struct.pend[: self._words] = words[: self._words]

    @property
    def prio(self) -> bytearray:
        return bytearray(self.state_struct.prio[: self.num_irq])

    @prio.setter
    def prio(self, values: bytearray) -> None:
        self.state_struct.prio[: self.num_irq] = list(values[: self.num_irq])

    @property
    def shpr(self) -> bytearray:
        return bytearray(self.state_struct.shpr)

    @shpr.setter
    def shpr(self, values: bytearray) -> None:
        self.state_struct.shpr[:] = list(values[:12])

    @property
    def vtor(self) -> int | None:
        s = self.state_struct
        return int(s.vtor) if s.vtor_set else None

    @vtor.setter
    def vtor(self, value: int | None) -> None:
        s = self.state_struct
        s.vtor, s.vtor_set = value or 0, value is not None

    @property
    def systick_pending(self) -> bool:
        return bool(self.state_struct.systick_pending)

    @systick_pending.setter
    def systick_pending(self, value: bool) -> None:
        self.state_struct.systick_pending = value

    @property
    def pendsv_pending(self) -> bool:
        return bool(self.state_struct.pendsv_pending)

    @pendsv_pending.setter
    def pendsv_pending(self, value: bool) -> None:
        self.state_struct.pendsv_pending = value

    @property
    def prigroup(self) -> int:
        """AIRCR.PRIGROUP: bits below 1 << (prigroup + 1) are subpriority."""
        return int(self.state_struct.prigroup)

    @prigroup.setter
    def prigroup(self, value: int) -> None:
        self.state_struct.prigroup = value

    # --- SysTick on virtual time ------------------------------------------------------

    def _hz(self) -> int:
        return self.cpu_freq if self.csr & 4 or not self.refclk else self.refclk

    def _ns(self, ticks: int) -> int:
        return -(-ticks * 1_000_000_000 // self._hz())

    def _cvr(self) -> int:
        if not self.csr & 1:
            return self._start
        elapsed = (self.ctx.clock.now() - self._epoch) * self._hz() // 1_000_000_000
        return max(0, self._start - elapsed)

    def _arm(self, start: int) -> None:
        if self._wrap is not None:
            self._wrap.cancelled = True
            self._wrap = None
        self._epoch, self._start = self.ctx.clock.now(), start
        self.rearm()
        if self._wrap is not None:  # the running slice must end by the first wrap
            self.ctx.run.cut_slice()

    def rearm(self) -> None:
        """SysTick's wrap event, from the count that runs (when it held what)."""
        if self.csr & 1 and self._start > 0:
            self._wrap = self.ctx.clock.at(self._epoch + self._ns(self._start), self._wrapped)

    def _wrapped(self) -> None:
        self.csr |= 1 << 16  # COUNTFLAG
        if self.csr & 2:
            self.systick_pending = True
        self._wrap = None
        self._arm(self.rvr + 1)

    # --- what the core asks -----------------------------------------------------------

    def pending_exception(self) -> int | None:
        """The most urgent pending and enabled exception (lowest priority value, then
        lowest number), whether or not the core can take it now."""
        return pending_exception(self.state_struct, self._active())

    def _active(self) -> list[int]:
        """The exceptions the core is handling, the innermost last."""
        return self.core.active if self.core is not None else []

    def _changed(self) -> None:
        """A write may have made an exception takeable: let the scheduler look now,
        unless what is pending waits for the running handlers to return (an RTOS's svc
        pending PendSV), which the core's exception return takes (tail-chaining)."""
        core = self.core
        if core is None or core.waiting or core.exceptions.urgent():
            self.ctx.run.cut_slice()

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
        elif 0x100 <= offset < 0x300:
            enabled, pend = self.enabled, self.pend
            setting = write_set_clear(offset, value, enabled, pend, 0x40)
            self.enabled, self.pend = enabled, pend
            if setting:
                self._changed()
        elif 0x400 <= offset < 0x400 + self.num_irq:
            n = offset - 0x400
            prio = self.prio
            prio[n : n + size] = value.to_bytes(size, "little")[: self.num_irq - n]
            self.prio = prio
            self._changed()
        elif offset == 0xF00:  # STIR: pend an interrupt by number
            n = value & 0x1FF
            if n < self.num_irq:
                self.state_struct.pend[n >> 5] |= 1 << (n & 31)
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
                self.ctx.run.request_stop(0, f"{self.obj.key}: guest requested a system reset")
            self.prigroup = value >> 8 & 7
            self._changed()
        elif 0xD18 <= offset < 0xD24:
            n = offset - 0xD18
            shpr = self.shpr
            shpr[n : n + size] = value.to_bytes(size, "little")[: 12 - n]
            self.shpr = shpr
            self._changed()
