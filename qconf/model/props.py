"""Property declarations: the base class every type's properties derive from, and the
value types with units (``Frequency``, ``Size``, ``Address``, ``Duration``, ``Integer``).

A unit type converts text (``"1GHz"``) or numbers to a canonical ``int`` and carries a
:class:`~qconf.model.annotations.Unit` that says how to print the value back
(``1000000000`` -> ``1GHz``) and what to show in ``qconf types`` and the JSON Schema.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from annotated_types import Ge, Le
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, WithJsonSchema

from qconf.config import units
from qconf.model.annotations import (
    ADDRESS,
    BYTES,
    HZ,
    NS,
    FilePath,
    Unit,
    Wiring,
    path_of,
    unit_of,
    wiring_of,
)

__all__ = (
    "Address",
    "ChardevSpec",
    "ClockIn",
    "ClockLink",
    "CpuLink",
    "Duration",
    "FilePath",
    "Frequency",
    "HostPath",
    "Integer",
    "IrqRef",
    "IrqRefs",
    "MemoryLink",
    "ObjectLink",
    "Props",
    "Size",
    "Unit",
    "Wiring",
    "empty_list",
    "path_of",
    "unit_of",
    "wiring_of",
)


class Props(BaseModel):
    """Base of every type's property model: unknown keys are errors, values immutable.

    A model's validator is built when it first validates (``defer_build``): a run pays
    only for the types its machine uses, not for every registered one."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=False,
                              use_attribute_docstrings=False, defer_build=True)  # fmt: skip


def empty_list() -> list[Any]:
    """``default_factory`` for list properties: pydantic reads a factory's signature, and
    ``inspect.signature(list)`` parses a text signature with the tokenizer, whose regular
    expressions take milliseconds to compile on the first run; a plain function is free."""
    return []


def _int_or_text(pattern: str, unit: str, example: str, minimum: int | None = None) -> Any:
    integer: dict[str, Any] = {"type": "integer"}
    if minimum is not None:
        integer["minimum"] = minimum
    return WithJsonSchema({
        "anyOf": [integer, {"type": "string", "pattern": pattern}],
        "x-unit": unit,
        "examples": [example],
    })  # fmt: skip


MAX_ADDRESS = (1 << 64) - 1

_NUM = r"^\s*[+-]?([0-9][0-9_]*(\.[0-9_]+)?|0[xX][0-9a-fA-F_]+)\s*"
_INT_PATTERN = r"^[+-]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9][0-9_]*)$"


Integer = Annotated[int, BeforeValidator(units.parse_int),
                    _int_or_text(_INT_PATTERN, "1", "0x10")]  # fmt: skip
_HZ_RE = _NUM + r"(Hz|kHz|KHz|MHz|GHz)?\s*$"
_SIZE_RE = _NUM + r"(B|K|KiB|M|MiB|G|GiB|T|TiB)?\s*$"
Frequency = Annotated[int, BeforeValidator(units.parse_frequency), HZ,
                      _int_or_text(_HZ_RE, "Hz", HZ.example, 0)]  # fmt: skip
Size = Annotated[int, BeforeValidator(units.parse_size), BYTES,
                 _int_or_text(_SIZE_RE, "bytes", BYTES.example, 0)]  # fmt: skip
Address = Annotated[int, BeforeValidator(units.parse_int), ADDRESS, Ge(0), Le(MAX_ADDRESS),
                    _int_or_text(_INT_PATTERN, "address", ADDRESS.example, 0)]  # fmt: skip
"""A bus address: 0 to 2**64 - 1 (what a 64-bit bus and Unicorn's map can hold)."""
Duration = Annotated[int, BeforeValidator(units.parse_duration), NS,
                     _int_or_text(_NUM + r"(ns|us|µs|ms|s)?\s*$", "ns", NS.example, 0)]  # fmt: skip

HostPath = Annotated[str, FilePath(),
                     WithJsonSchema({"type": "string", "x-path": True,
                                     "examples": ["../guests/riscv/hello.elf"]})]  # fmt: skip
"""A file on the host (a firmware, a kernel, an image): relative to the file that sets
it, or to the working directory from ``--set`` and QMP; absolute once validated."""

ChardevSpec = Annotated[str, FilePath(("file:", "unix:"))]
"""A console: a chardev object's path, or a spec (``stdio``, ``file:PATH``,
``unix:PATH``, ``tcp:HOST:PORT``...) whose ``file:`` and ``unix:`` paths are
:data:`HostPath` paths."""

_NAME = r"[A-Za-z0-9_$-]+"
_PATH = rf"(/|/?{_NAME}([./]{_NAME})*)"
_IRQ_RE = re.compile(rf"^/?{_NAME}([./]{_NAME})*(\[[0-9]{{1,9}}\])?$")
_PATH_RE = re.compile(rf"^{_PATH}$")


def _check_irq(value: str) -> str:
    if not _IRQ_RE.match(value):
        raise ValueError(
            f"{value!r} is not an interrupt input: write OBJECT.LINE[N], e.g. soc.plic.in[10]"
        )
    return value


def _check_path(value: str) -> str:
    if not _PATH_RE.match(value):
        raise ValueError(
            f"{value!r} is not an object path: write names joined by dots (soc.plic), "
            "or an absolute path (/soc/plic)"
        )
    return value


IrqRef = Annotated[str, AfterValidator(_check_irq), Wiring("irq"),
                   WithJsonSchema({"type": "string", "pattern": _IRQ_RE.pattern,
                                   "examples": ["soc.plic.in[10]"]})]  # fmt: skip
"""The interrupt input an output line is wired to: ``soc.plic.in[10]`` (the controller's
path, its input line, the index). Resolved when the machine is built, like every link."""

IrqRefs = IrqRef | list[IrqRef]
"""One input, or several (fan-out: the output drives each of them)."""


def _link_schema(example: str) -> Any:
    return WithJsonSchema({"type": "string", "pattern": _PATH_RE.pattern, "examples": [example]})


ObjectLink = Annotated[str, AfterValidator(_check_path), Wiring("link"), _link_schema("soc.plic")]
"""The path of another object: dotted names looked up from the object's container
outwards (``soc.plic``), or absolute from the machine (``/soc/plic``)."""
CpuLink = Annotated[str, AfterValidator(_check_path), Wiring("link", "cpu"), _link_schema("cpu0")]
MemoryLink = Annotated[str, AfterValidator(_check_path), Wiring("link", "memory"),
                       _link_schema("ram")]  # fmt: skip
ClockLink = Annotated[str, AfterValidator(_check_path), Wiring("link", "clock"),
                      _link_schema("clocks.apb")]  # fmt: skip


_FREQ_TEXT = r"^\s*[0-9][0-9_.]*\s*(Hz|kHz|KHz|MHz|GHz)?\s*$"


def _clock_in(value: object) -> object:
    if isinstance(value, str) and (value.strip()[:1].isalpha() or value.startswith("/")):
        return _check_path(value.strip())
    return units.parse_frequency(value)


ClockIn = Annotated[int | str, BeforeValidator(_clock_in), Wiring("clock", "clock"), HZ,
                    WithJsonSchema({"anyOf": [
                        {"type": "integer", "minimum": 1},
                        {"type": "string", "pattern": _FREQ_TEXT},
                        {"type": "string", "pattern": _PATH_RE.pattern}],
                        "x-unit": "Hz", "examples": ["24MHz", "clocks.apb"]})]  # fmt: skip
"""A clock input: a fixed frequency (``24MHz``) or the path of a ``clock`` object whose
derived frequency it takes (``clocks.apb``)."""
