"""The RISC-V CLINT model: software interrupts and the machine timer on virtual time,
and its device-tree node."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qconf.arch.riscv import MSI, MTI
from qconf.arch.riscv.fdt import interrupts_extended
from qconf.devices.base import Device
from qconf.dtb import TreeWriter
from qconf.emu.context import DeviceContext, cores_of
from qconf.emu.vtime import wake
from qconf.model.objects import Object


class Clint(Device):
    """RISC-V CLINT: msip (0x0 + 4h), mtimecmp (0x4000 + 8h), mtime (0xbff8) from virtual
    time at the ``timebase`` rate. Its wake-up events (at each mtimecmp it was given) do
    nothing but end a slice, and checkpoints keep them by time."""

    STATE = ("msip", "mtimecmp")

    def __init__(self, ctx: DeviceContext) -> None:
        super().__init__(ctx)
        obj = ctx.obj
        harts: int = obj.get("num_harts")
        self.timebase: int = obj.get("timebase")
        self.msip = [0] * harts
        self.mtimecmp = [2**64 - 1] * harts
        self.harts: dict[int, list[Any]] = {}  # the cores it serves, by hart id

    def connect(self, cores: Sequence[Any]) -> None:
        """Serve the harts that see it: their timer and software interrupts, and the
        ``time`` CSR (of each hart that has no CLINT yet)."""
        for core in cores_of(cores, "riscv"):
            core.sources.append(self)
            self.harts.setdefault(core.hartid, []).append(core)
            if core.clock is None:
                core.clock = self

    def _changed(self, hart: int) -> None:
        """Hart ``hart``'s lines may have changed: it sees them at once (in ``mip``)."""
        for core in self.harts.get(hart, ()):
            core.interrupts_changed()

    def pending_for(self, hartid: int) -> int:
        """The ``mip`` bits it asserts for hart ``hartid`` (MTIP, MSIP)."""
        return (1 << MTI if self.timer_pending(hartid) else 0) | (
            1 << MSI if self.soft_pending(hartid) else 0)  # fmt: skip

    def mtime(self) -> int:
        return self.ctx.clock.now() * self.timebase // 1_000_000_000

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
                self._changed(hart)
                if value & 1:  # a waiting hart wakes between slices: end this one
                    self.ctx.run.cut_slice()
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
        self._changed(hart)
        if self.timer_pending(hart):
            self.ctx.run.cut_slice()
        elif when < 2**62:
            self.ctx.clock.at(when, wake)


def fdt_node(w: TreeWriter, obj: Object, depth: int) -> str:
    """``clint@BASE``: each hart's software (3) and timer (7) interrupts."""
    name = f"clint@{obj.get('base'):x}"
    w.emit(depth, f"{name} {{")
    w.emit(depth + 1, f"interrupts-extended = <{interrupts_extended(w, (3, 7))}>;")
    w.reg(obj, depth + 1)
    w.emit(depth + 1, 'compatible = "sifive,clint0", "riscv,clint0";')
    w.emit(depth, "};")
    return name
