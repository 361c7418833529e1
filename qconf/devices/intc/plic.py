"""The RISC-V PLIC model (QEMU virt layout) and its device-tree node."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qconf.arch.riscv import MEI, SEI
from qconf.arch.riscv.fdt import interrupts_extended
from qconf.devices.base import Device
from qconf.dtb import TreeWriter
from qconf.emu.context import DeviceContext, cores_of
from qconf.model.objects import Object


class Plic(Device):
    """RISC-V PLIC (QEMU virt layout): priorities at +0, pending bits at +0x1000, enables
    at +0x2000 + 0x80 * context, threshold and claim/complete at +0x200000 + 0x1000 *
    context. Context 2h is hart h's M mode, 2h + 1 its S mode. Sources are level
    triggered: a source is pending while its input is high and it is not being served
    (claimed and not yet completed)."""

    STATE = ("priority", "enable", "threshold", "serving")

    def __init__(self, ctx: DeviceContext) -> None:
        super().__init__(ctx)
        obj = ctx.obj
        self.sources: int = obj.get("num_sources") + 1
        contexts = 2 * obj.get("num_harts")
        words = (self.sources + 31) // 32
        self.priority = [0] * self.sources
        self.enable = [[0] * words for _ in range(contexts)]
        self.threshold = [0] * contexts
        self.serving: set[int] = set()
        self.harts: list[Any] = []  # the cores it serves

    def _changed(self) -> None:
        """A register access may have changed what a context has to take: the harts see
        their lines at once (in ``mip``)."""
        for core in self.harts:
            core.interrupts_changed()

    def _pending(self, src: int) -> bool:
        return src not in self.serving and self.ctx.input_level("in", src)

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

    def connect(self, cores: Sequence[Any]) -> None:
        """Serve the harts that see it (context 2h is hart h's M mode, 2h + 1 its S mode)."""
        for core in cores_of(cores, "riscv"):
            core.sources.append(self)
            self.harts.append(core)

    def pending_for(self, hartid: int) -> int:
        """The ``mip`` bits it asserts for hart ``hartid`` (MEIP, SEIP)."""
        return (1 << MEI if self.context_pending(2 * hartid) else 0) | (
            1 << SEI if self.context_pending(2 * hartid + 1) else 0)  # fmt: skip

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
                self._changed()
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
        self._changed()


def fdt_node(w: TreeWriter, obj: Object, depth: int) -> str:
    """``plic@BASE``: each hart's M (11) and S (9) external interrupts."""
    name = f"plic@{obj.get('base'):x}"
    w.emit(depth, f"{name} {{")
    w.emit(depth + 1, f"phandle = <0x{w.phandle(obj.path):x}>;")
    w.emit(depth + 1, f"riscv,ndev = <0x{obj.get('num_sources'):x}>;")
    w.reg(obj, depth + 1)
    w.emit(depth + 1, f"interrupts-extended = <{interrupts_extended(w, (11, 9))}>;")
    w.emit(depth + 1, "interrupt-controller;")
    w.emit(depth + 1, 'compatible = "sifive,plic-1.0.0", "riscv,plic0";')
    w.emit(depth + 1, "#address-cells = <0x00>;")
    w.emit(depth + 1, "#interrupt-cells = <0x01>;")
    w.emit(depth, "};")
    return name
