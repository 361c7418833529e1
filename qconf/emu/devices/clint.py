"""The RISC-V CLINT model: software interrupts and the machine timer on virtual time
(type declared in :mod:`qconf.devices.intc`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qconf.emu.devices.base import _Device
from qconf.model.objects import Object

if TYPE_CHECKING:
    from qconf.emu.emulator import Emulation


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
