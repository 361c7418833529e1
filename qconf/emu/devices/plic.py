"""The RISC-V PLIC model, QEMU virt layout (type declared in :mod:`qconf.devices.intc`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qconf.emu.devices.base import _Device
from qconf.model.objects import Object

if TYPE_CHECKING:
    from qconf.emu.emulator import Emulation


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
