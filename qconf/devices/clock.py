"""Clock sources: a fixed frequency, or another clock's frequency times mul / div."""

from __future__ import annotations

from pydantic import Field

from qconf.model.props import ClockLink, Frequency, Integer, Props
from qconf.model.registry import TypeInfo, TypeRegistry, no_regions


class ClockProps(Props):
    freq: Frequency | None = Field(
        None, ge=1, description="The frequency of a source clock; unset: derived from 'source'."
    )
    source: ClockLink | None = Field(
        None, description="The clock this one is derived from (freq is then source * mul / div)."
    )
    mul: Integer = Field(1, ge=1, description="Multiplier applied to the source frequency.")
    div: Integer = Field(1, ge=1, description="Divider applied to the source frequency.")


def register(registry: TypeRegistry) -> None:
    registry.add(
        TypeInfo(
            "clock",
            ClockProps,
            "A clock: a fixed frequency, or a source clock's times mul / div. Devices take it "
            "by path in their clock properties.",
            "clock",
            __name__,
            regions=no_regions,
        )
    )
