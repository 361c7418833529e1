"""What a property's annotation says beyond its Python type: the :class:`Unit` its value
is written in (``Frequency`` carries Hz) and the :class:`Wiring` a link property makes
(``IrqRef`` wires an interrupt). :mod:`qconf.model.props` puts them into the property
types; the type registry reads them back. Nothing here needs pydantic, so a machine
restored from a snapshot (:mod:`qconf.assembly.snapshot`) has them too.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from qconf.config import units

__all__ = ("ADDRESS", "BYTES", "HZ", "NS", "UNITS", "Unit", "Wiring", "unit_of", "wiring_of")


@dataclass(frozen=True)
class Unit:
    """How a unit-typed value is named, printed and described."""

    name: str
    format: Callable[[int], str]
    example: str


@dataclass(frozen=True)
class Wiring:
    """Marks a property whose value names another object, and what it connects.

    :param kind: ``irq`` (an output wired to an input line), ``clock`` (a frequency or a
        clock object), ``link`` (any object reference).
    :param target: the category the referenced object must have (``cpu``, ``memory``,
        ``clock``), or None for any.
    """

    kind: str
    target: str | None = None


HZ = Unit("Hz", units.format_frequency, "1GHz")
BYTES = Unit("bytes", units.format_size, "64KiB")
ADDRESS = Unit("address", lambda v: f"0x{v:x}", "0x8000_0000")
NS = Unit("ns", units.format_duration, "10ms")

UNITS = {unit.name: unit for unit in (HZ, BYTES, ADDRESS, NS)}
"""Every unit by its name."""

_T = typing.TypeVar("_T")


def _marker(metadata: list[Any], annotation: Any, cls: type[_T]) -> _T | None:
    for item in metadata:
        if isinstance(item, cls):
            return item
    if annotation is not None:
        for arg in typing.get_args(annotation):
            found = _marker(list(getattr(arg, "__metadata__", ())), arg, cls)
            if found is not None:
                return found
    return None


def unit_of(metadata: list[Any], annotation: Any = None) -> Unit | None:
    """The :class:`Unit` among a field's metadata, or inside its annotation (for
    ``Frequency | None``), if any."""
    return _marker(metadata, annotation, Unit)


def wiring_of(metadata: list[Any], annotation: Any = None) -> Wiring | None:
    """The :class:`Wiring` of a field (``IrqRef | None``, ``list[IrqRef]``...), if any."""
    return _marker(metadata, annotation, Wiring)
