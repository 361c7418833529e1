"""The two-sided mailbox model: FIFOs, doorbells and an interrupt per side."""

from __future__ import annotations

from qconf.devices.base import Device
from qconf.emu.context import DeviceContext


class Mailbox(Device):
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

    STATE = ("fifo", "bells", "irq_en")

    def __init__(self, ctx: DeviceContext) -> None:
        from collections import deque

        super().__init__(ctx)
        obj = ctx.obj
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
