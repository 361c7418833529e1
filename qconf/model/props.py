"""Property declarations: the base class every type's properties derive from, and the
value types with units (``Frequency``, ``Size``, ``Address``, ``Duration``, ``Integer``).

A unit type converts text (``"1GHz"``) or numbers to a canonical ``int`` and carries a
:class:`Unit` that says how to print the value back (``1000000000`` -> ``1GHz``) and what
to show in ``qconf types`` and the JSON Schema.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, WithJsonSchema

from qconf.config import units

__all__ = (
    "Address",
    "Duration",
    "Frequency",
    "Integer",
    "IrqRef",
    "Props",
    "Size",
    "Unit",
    "unit_of",
)


@dataclass(frozen=True)
class Unit:
    """How a unit-typed value is named, printed and described."""

    name: str
    format: Callable[[int], str]
    example: str


class Props(BaseModel):
    """Base of every type's property model: unknown keys are errors, values immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=False,
                              use_attribute_docstrings=False)  # fmt: skip


def _int_or_text(pattern: str, unit: str, example: str, minimum: int | None = None) -> Any:
    integer: dict[str, Any] = {"type": "integer"}
    if minimum is not None:
        integer["minimum"] = minimum
    return WithJsonSchema({
        "anyOf": [integer, {"type": "string", "pattern": pattern}],
        "x-unit": unit,
        "examples": [example],
    })  # fmt: skip


_NUM = r"^\s*[+-]?([0-9][0-9_]*(\.[0-9_]+)?|0[xX][0-9a-fA-F_]+)\s*"
_INT_PATTERN = r"^[+-]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9][0-9_]*)$"

HZ = Unit("Hz", units.format_frequency, "1GHz")
BYTES = Unit("bytes", units.format_size, "64KiB")
ADDRESS = Unit("address", lambda v: f"0x{v:x}", "0x8000_0000")
NS = Unit("ns", units.format_duration, "10ms")

Integer = Annotated[int, BeforeValidator(units.parse_int),
                    _int_or_text(_INT_PATTERN, "1", "0x10")]  # fmt: skip
_HZ_RE = _NUM + r"(Hz|kHz|KHz|MHz|GHz)?\s*$"
_SIZE_RE = _NUM + r"(B|K|KiB|M|MiB|G|GiB|T|TiB)?\s*$"
Frequency = Annotated[int, BeforeValidator(units.parse_frequency), HZ,
                      _int_or_text(_HZ_RE, "Hz", HZ.example, 0)]  # fmt: skip
Size = Annotated[int, BeforeValidator(units.parse_size), BYTES,
                 _int_or_text(_SIZE_RE, "bytes", BYTES.example, 0)]  # fmt: skip
Address = Annotated[int, BeforeValidator(units.parse_int), ADDRESS,
                    _int_or_text(_INT_PATTERN, "address", ADDRESS.example, 0)]  # fmt: skip
Duration = Annotated[int, BeforeValidator(units.parse_duration), NS,
                     _int_or_text(_NUM + r"(ns|us|µs|ms|s)?\s*$", "ns", NS.example, 0)]  # fmt: skip

_IRQ_RE = re.compile(r"^/?[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*(\[\d+\])?$")


def _check_irq(value: str) -> str:
    if not _IRQ_RE.match(value):
        raise ValueError(
            f"{value!r} is not an interrupt input: write OBJECT.LINE[N], e.g. soc.plic.in[10]"
        )
    return value


IrqRef = Annotated[str, AfterValidator(_check_irq),
                   WithJsonSchema({"type": "string", "pattern": _IRQ_RE.pattern,
                                   "examples": ["soc.plic.in[10]"]})]  # fmt: skip
"""The interrupt input an output line is wired to: ``soc.plic.in[10]`` (the object path
from the machine root, the input line, the index). Resolved when the machine is built."""


def unit_of(metadata: list[Any], annotation: Any = None) -> Unit | None:
    """The :class:`Unit` among a field's metadata, or inside its annotation (for
    ``Frequency | None``), if any."""
    for item in metadata:
        if isinstance(item, Unit):
            return item
    if annotation is not None:
        for arg in typing.get_args(annotation):
            found = unit_of(list(getattr(arg, "__metadata__", ())), arg)
            if found is not None:
                return found
    return None
