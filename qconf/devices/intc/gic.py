"""The GICv2 model (distributor and CPU interface for one AArch64 core) and its
device-tree node."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qconf.devices.base import Device
from qconf.devices.intc.banks import write_set_clear
from qconf.dtb import TreeWriter, cells
from qconf.emu.context import DeviceContext, cores_of
from qconf.model.objects import Object


class Gic(Device):
    """GICv2 distributor and CPU interface for one core. INTID 16-31 are the core's
    private lines (the generic timer: 27 virtual, 30 physical), 32 and up the ``in``
    lines wired to it (``gic.in[33]`` is SPI 1). Level-sensitive; an acknowledged
    interrupt is active until the guest writes EOIR."""

    STATE = ("enabled", "pend", "active", "prio", "targets", "cfg", "dctlr", "cctlr", "pmr",
             "bpr")  # fmt: skip

    def __init__(self, ctx: DeviceContext) -> None:
        super().__init__(ctx)
        obj = ctx.obj
        self.lines: int = obj.get("num_irq")
        words = (self.lines + 31) // 32
        self.enabled = [0] * words
        self.pend = [0] * words
        self.active: set[int] = set()
        self.prio = bytearray(self.lines)
        self.targets = bytearray(self.lines)
        self.cfg = [0] * (words * 2)
        self.dctlr = self.cctlr = self.pmr = self.bpr = 0
        self.core: Any = None  # the AArch64 core it serves, it connects itself

    def connect(self, cores: Sequence[Any]) -> None:
        """Serve the first AArch64 core that sees it and has no GIC yet."""
        for core in cores_of(cores, "aarch64"):
            if core.gic is None:
                core.gic, self.core = self, core
                return

    def _level(self, intid: int) -> bool:
        if 16 <= intid < 32:
            return self.core is not None and bool(self.core.timer_level(intid))
        return intid >= 32 and self.ctx.input_level("in", intid)

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
        if write_set_clear(offset, value, self.enabled, self.pend, 0x80) is not None:
            return
        if offset == 0x000:
            self.dctlr = value & 1
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


def fdt_node(w: TreeWriter, obj: Object, depth: int) -> str:
    """``intc@DIST``: the distributor and the CPU interface, three interrupt cells."""
    name = f"intc@{obj.get('dist_base'):x}"
    w.emit(depth, f"{name} {{")
    w.emit(depth + 1, f"phandle = <0x{w.phandle(obj.path):x}>;")
    w.emit(depth + 1, f"reg = <{cells(obj.get('dist_base'))} {cells(0x10000)} "
                      f"{cells(obj.get('cpu_base'))} {cells(0x10000)}>;")  # fmt: skip
    w.emit(depth + 1, 'compatible = "arm,cortex-a15-gic";')
    w.emit(depth + 1, "interrupt-controller;")
    w.emit(depth + 1, "#interrupt-cells = <0x03>;")
    w.emit(depth, "};")
    return name
