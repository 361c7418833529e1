"""A generic memory-mapped timer."""

from __future__ import annotations

from pydantic import Field

from qconf.devices.common import IrqProps, MmioProps
from qconf.model.props import ClockIn
from qconf.model.registry import TypeInfo, TypeRegistry


class TimerProps(IrqProps, MmioProps):
    freq: ClockIn = Field(
        1_000_000, description="Count rate of the down-counter: a frequency or a clock's path."
    )


def register(registry: TypeRegistry) -> None:
    registry.add(TypeInfo("timer", TimerProps, "A 32-bit down-counting timer with reload and an "
                          "interrupt on expiry.", "timer", __name__,
                          behaviour="qconf.devices.timer.model:Timer"))  # fmt: skip
