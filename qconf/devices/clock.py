"""Clock sources: a fixed frequency, or another clock's frequency times mul / div."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import Field

from qconf.errors import BuildError, QconfError
from qconf.model.objects import Object
from qconf.model.props import ClockLink, Frequency, Integer, Props
from qconf.model.registry import TypeInfo, TypeRegistry, no_regions

if TYPE_CHECKING:
    from qconf.assembly.machine import Machine


class ClockProps(Props):
    freq: Frequency | None = Field(
        None, ge=1, description="The frequency of a source clock; unset: derived from 'source'."
    )
    source: ClockLink | None = Field(
        None, description="The clock this one is derived from (freq is then source * mul / div)."
    )
    mul: Integer = Field(1, ge=1, description="Multiplier applied to the source frequency.")
    div: Integer = Field(1, ge=1, description="Divider applied to the source frequency.")


def check_clock(clock: Object, machine: Machine) -> Sequence[QconfError]:
    """A clock is a source (``freq``) or derived (``source``), never both nor neither."""
    if (clock.get("freq") is None) != (clock.get("source") is None):
        return ()
    return (BuildError(
        "a clock needs exactly one of 'freq' (a source) or 'source' (derived)",
        code="E607", origin=clock.origin, path=clock.key,
        hint="set freq: 24MHz, or source: PATH with mul/div",
    ),)  # fmt: skip


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
            check=check_clock,
        )
    )
