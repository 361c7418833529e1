"""The Arm PrimeCell PL031 real-time clock (ARM DDI 0224) and its device-tree node.

RTCDR reads the seconds since 1970: the date the machine starts at (``rtc_base``) plus
the virtual time since. Writing RTCLR sets the clock; RTCMR is the match value, whose
interrupt (RTCRIS, masked by RTCIMSC) is raised when the clock reaches it and cleared
through RTCICR. RTCCR's start bit always reads 1 (the clock runs). The PrimeCell
identification registers let Linux's AMBA bus find the driver.
"""

from __future__ import annotations

import time
from typing import Any

from qconf.devices.base import Device
from qconf.devices.rtc.types import epoch_seconds
from qconf.dtb import TreeWriter, cells
from qconf.emu.context import DeviceContext
from qconf.model.objects import Object

__all__ = ("Pl031", "fdt_node")

DR, MR, LR, CR, IMSC, RIS, MIS, ICR = 0x00, 0x04, 0x08, 0x0C, 0x10, 0x14, 0x18, 0x1C
IDS = (0x31, 0x10, 0x14, 0x00, 0x0D, 0xF0, 0x05, 0xB1)  # PeriphID0-3, PCellID0-3 at 0xFE0
SECOND = 1_000_000_000


class Pl031(Device):
    """A PL031 on virtual time."""

    STATE = ("offset", "match", "mask", "raw", "_armed")

    def __init__(self, ctx: DeviceContext) -> None:
        super().__init__(ctx)
        base = ctx.obj.get("rtc_base")
        start = int(time.time()) if base == "utc" else epoch_seconds(base)
        self.offset = start  # seconds at virtual time 0
        self.match = self.mask = self.raw = 0
        self._event: Any = None
        self._armed = False  # the match event runs from the first write of RTCMR on

    def seconds(self) -> int:
        """What RTCDR reads now."""
        return (self.offset + self.ctx.clock.now() // SECOND) & 0xFFFFFFFF

    def rearm(self) -> None:
        if self._armed:
            self._arm()

    def _arm(self) -> None:
        """Schedule the match interrupt for the next time the clock equals RTCMR."""
        self._armed = True
        if self._event is not None:
            self._event.cancelled = True
            self._event = None
        now = self.ctx.clock.now()
        ahead = (self.match - self.seconds()) & 0xFFFFFFFF or 1 << 32
        when = (now // SECOND + ahead) * SECOND
        self._event = self.ctx.clock.at(when, self._matched)

    def _matched(self) -> None:
        self._event = None
        self.raw = 1
        self._update()
        self._arm()

    def _update(self) -> None:
        self.raise_irq("irq", bool(self.raw & self.mask))

    def read(self, offset: int, size: int) -> int:
        if offset == DR:
            return self.seconds()
        if offset == MR:
            return self.match
        if offset == LR:
            return self.seconds()
        if offset == CR:
            return 1
        if offset == IMSC:
            return self.mask
        if offset == RIS:
            return self.raw
        if offset == MIS:
            return self.raw & self.mask
        if 0xFE0 <= offset < 0x1000 and offset % 4 == 0:
            return IDS[(offset - 0xFE0) // 4]
        return 0

    def write(self, offset: int, size: int, value: int) -> None:
        value &= 0xFFFFFFFF
        if offset == LR:
            self.offset = value - self.ctx.clock.now() // SECOND
            self._arm()
        elif offset == MR:
            self.match = value
            self._arm()
        elif offset == IMSC:
            self.mask = value & 1
        elif offset == ICR:
            self.raw &= ~value & 1
        self._update()


def fdt_node(w: TreeWriter, obj: Object, depth: int) -> str:
    """``pl031@BASE``: its registers, its GIC interrupt (an SPI) and the bus clock."""
    name = f"pl031@{obj.get('base'):x}"
    clock = w.fixed_clock(24_000_000)
    w.emit(depth, f"{name} {{")
    w.emit(depth + 1, 'clock-names = "apb_pclk";')
    w.emit(depth + 1, f"clocks = <0x{clock:x}>;")
    wires = [wire for wire in w.machine.wires if wire.source is obj and wire.index >= 32]
    if wires:
        w.emit(depth + 1, f"interrupts = <0x00 0x{wires[0].index - 32:x} 0x04>;")
    w.emit(depth + 1, f"reg = <{cells(obj.get('base'))} {cells(obj.get('size'))}>;")
    w.emit(depth + 1, 'compatible = "arm,pl031", "arm,primecell";')
    w.emit(depth, "};")
    return name
