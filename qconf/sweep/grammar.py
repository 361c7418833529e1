"""Sweeps in ``--set`` arguments, in Hydra's multirun grammar, and their expansion.

=================================  =================================================
``cpu0.freq=100MHz,1GHz``           a choice: two or more values separated by commas
``cpu0.freq=choice(100MHz,1GHz)``   the same, written as a function
``ram.size=range(64MiB,513MiB,64MiB)``
                                    ``range(start, stop, step)``: from start, by step,
                                    stopping before stop (as Hydra's and Python's);
                                    ``range(stop)`` starts at 0, ``step`` defaults to 1;
                                    named arguments (``step=64MiB``) as in Hydra
=================================  =================================================

Range bounds may carry units (``Hz``, ``KiB``, ``ms``...; all three of one quantity) or be
plain numbers (integers, ``0x`` hex, decimals); the values are written back in the
largest unit that divides them (``128MiB``), in hex when the start was. Commas inside
brackets, braces, parentheses or quotes do not separate values (``cpu0.isa=[i,m],[i,m,a]``
sweeps over two lists, ``bootargs='console=ttyS0,115200'`` is one value), and ``\\,`` is a
comma in a value. ``+path=``, ``++path=`` and ``path+=`` sweep too; ``~path`` cannot.

:func:`expand` makes every combination (the cartesian product, the first swept argument
varying slowest, as Hydra's basic sweeper) into :class:`Variant` objects whose ``sets`` are
plain ``--set`` texts in the order they were typed.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal, InvalidOperation

from qconf.config.origin import LayerKind, Origin, Source
from qconf.config.paths import PathSyntaxError, scan_path
from qconf.config.units import (
    DURATION_UNITS,
    FREQUENCY_UNITS,
    SIZE_UNITS,
    UnitError,
    format_duration,
    format_frequency,
    format_size,
)
from qconf.errors import OverrideError

__all__ = ("MAX_VARIANTS", "Axis", "Variant", "expand", "parse_axis")

MAX_VARIANTS = 100_000
"""More combinations than this are refused: a typo in a range (a step in bytes where MiB
was meant) should not start a million runs."""

GRAMMAR = (
    "a sweep is a,b,c or choice(a,b,c) or range(start,stop[,step]); quote a value that "
    "holds a comma ('a,b') or write \\,"
)


@dataclass(frozen=True)
class Axis:
    """One ``--set`` argument and the values it takes (one value: not a sweep).

    :param index: its 1-based position among the ``--set`` arguments.
    :param head: what comes before the value (``ram.size=``, ``+x=``, ``isa+=``).
    :param values: the value texts, as a ``--set`` reads them.
    """

    index: int
    text: str
    head: str
    values: tuple[str, ...]

    @property
    def swept(self) -> bool:
        return len(self.values) > 1 or self.text != self.head + self.values[0]

    def set_text(self, value: str) -> str:
        return self.text if not self.swept else self.head + value


@dataclass(frozen=True)
class Variant:
    """One combination: its number (from 0, in the order of the product), every ``--set``
    text it runs with, and the swept ones alone (``tweaks``)."""

    number: int
    sets: tuple[str, ...]
    tweaks: tuple[str, ...]

    @property
    def label(self) -> str:
        """The tweaks in one word-safe string (``ram.size=128MiB,cpu0.freq=1GHz``), for
        test ids and file names."""
        return ",".join(self.tweaks) or "default"


def _error(index: int, text: str, message: str, hint: str = GRAMMAR) -> OverrideError:
    source = Source(f"--set #{index} '{text}'", layer=f"--set #{index}", kind=LayerKind.SET)
    return OverrideError(message, code="E306", origin=Origin(source), hint=hint)


def _split(text: str) -> list[str] | None:
    """``text`` split at its top-level commas (None if it has none); ``\\,`` is a comma."""
    parts: list[str] = []
    depth, quote, current, split = 0, "", [], False
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            current.append(ch)
            if ch == quote:
                quote = ""
        elif ch == "\\" and text[i + 1 : i + 2] == ",":
            current.append(",")
            i += 1
        elif ch in "'\"":
            quote = ch
            current.append(ch)
        elif ch in "([{":
            depth += 1
            current.append(ch)
        elif ch in ")]}":
            depth -= 1
            current.append(ch)
        elif ch == "," and depth == 0:
            parts.append("".join(current).strip())
            current, split = [], True
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current).strip())
    return parts if split else None


_CALL = re.compile(r"([A-Za-z_]\w*)\((.*)\)", re.DOTALL)
_NUMBER = re.compile(r"([+-]?(?:0[xX][0-9a-fA-F_]+|[0-9][0-9_]*(?:\.[0-9_]+)?))\s*([A-Za-zµ]*)")
_QUANTITIES: tuple[tuple[dict[str, int], Callable[[int], str]], ...] = (
    (FREQUENCY_UNITS, format_frequency),
    (SIZE_UNITS, format_size),
    (DURATION_UNITS, format_duration),
)


def parse_axis(text: str, index: int) -> Axis:
    """The values one ``--set`` argument takes.

    :raises OverrideError: (E306) a sweep that does not parse, an empty or endless range,
        ``~path`` with several values, or a Hydra function qconf does not have.
    """
    pos = 2 if text.startswith("++") else 1 if text.startswith(("+", "~")) else 0
    try:
        _, pos = scan_path(text, pos)
    except PathSyntaxError:
        return Axis(index, text, text, ("",))  # not ours to judge: the resolve reports it
    rest = text[pos:]
    cut = pos + (2 if rest.startswith("+=") else 1 if rest.startswith("=") else 0)
    head, value = text[:cut], text[cut:]
    if cut == pos:  # ~path, or no value: passed on as it is
        return Axis(index, text, text, ("",))
    parts = _split(value)
    call = _CALL.fullmatch(value.strip()) if parts is None else None
    if call is not None and call.group(1) in ("choice", "range", "interval", "glob", "sort",
                                              "shuffle", "tag"):  # fmt: skip
        name, inner = call.group(1), call.group(2)
        args = _split(inner) or ([inner.strip()] if inner.strip() else [])
        if name == "choice":
            if not args or any(not a for a in args):
                raise _error(index, text, "choice() needs one or more values")
            values = tuple(args)
        elif name == "range":
            values = _range(index, text, args)
        elif name == "interval":
            raise _error(index, text, "interval() is a continuous range, which only a search "
                         "can sample; a sweep needs discrete values",
                         hint="use range(start,stop,step) or a list of values")  # fmt: skip
        else:
            raise _error(index, text, f"{name}() is not supported in qconf sweeps",
                         hint="qconf sweeps take a,b,c, choice(...) and range(...)")  # fmt: skip
    elif parts is not None:
        if any(not p for p in parts):
            raise _error(index, text, "an empty value in a sweep (two commas, or a comma at "
                         "an end)")  # fmt: skip
        values = tuple(parts)
    else:  # one value: \, is a comma all the same
        return Axis(index, text, head, (value.replace("\\,", ","),))
    if text.startswith("~"):
        raise _error(index, text, "~path deletes and takes no values to sweep")
    return Axis(index, text, head, values)


def _range(index: int, text: str, args: list[str]) -> tuple[str, ...]:
    names = ("start", "stop", "step")
    given: dict[str, str] = {}
    first_named = next((i for i, a in enumerate(args) if _named(a)), len(args))
    positional = args[:first_named]
    if len(positional) > 3 or any(not _named(a) for a in args[first_named:]):
        raise _error(index, text, "range() takes start, stop and step, positional arguments "
                     "first")  # fmt: skip
    order = ("stop",) if len(positional) == 1 else names
    for name, arg in zip(order, positional, strict=False):
        given[name] = arg
    for arg in args[len(positional) :]:
        key, _, val = arg.partition("=")
        if key.strip() in given:
            raise _error(index, text, f"range() {key.strip()} given twice")
        given[key.strip()] = val.strip()
    if "stop" not in given:
        raise _error(index, text, "range() needs at least its stop")
    texts = {k: given.get(k, "") for k in names}
    numbers, unit_of = _numbers(index, text, texts)
    start, stop, step = numbers["start"], numbers["stop"], numbers["step"]
    if step == 0:
        raise _error(index, text, "range() with a step of 0 never ends")
    count = max(0, int(((stop - start) / step).to_integral_value(rounding=ROUND_CEILING)))
    if count == 0:
        raise _error(index, text, "range() gives no values (stop is not beyond start in the "
                     "step's direction)")  # fmt: skip
    if count > MAX_VARIANTS:
        raise _error(index, text, f"range() gives {count} values, more than {MAX_VARIANTS}")
    hexa = texts["start"].lower().lstrip("+-").startswith("0x")
    return tuple(unit_of(start + i * step, hexa) for i in range(count))


def _named(arg: str) -> bool:
    key, eq, _ = arg.partition("=")
    return bool(eq) and key.strip() in ("start", "stop", "step")


def _numbers(
    index: int, text: str, texts: dict[str, str]
) -> tuple[dict[str, Decimal], Callable[[Decimal, bool], str]]:
    """The range's bounds as numbers in one quantity, and how to write a value back."""
    parsed: dict[str, tuple[Decimal, str]] = {}
    for name, arg in texts.items():
        if not arg:
            continue
        m = _NUMBER.fullmatch(arg)
        if m is None:
            raise _error(index, text, f"range() {name} {arg!r} is not a number (with a unit)")
        number = m.group(1).replace("_", "")
        try:
            value = Decimal(int(number, 16)) if "x" in number.lower() else Decimal(number)
        except (InvalidOperation, ValueError):
            raise _error(index, text, f"range() {name} {arg!r} is not a number") from None
        parsed[name] = (value, m.group(2))
    units = {unit for _, unit in parsed.values() if unit}
    scales: dict[str, int] | None = None
    formatter: Callable[[int], str] | None = None
    if units:
        for table, fmt in _QUANTITIES:
            if units <= set(table):
                scales, formatter = table, fmt
                break
        if scales is None:
            raise _error(index, text, "range() bounds in different quantities or unknown "
                         f"units ({', '.join(sorted(units))})",
                         hint="write all three in one quantity: Hz, KiB..., or ns...")  # fmt: skip
    numbers: dict[str, Decimal] = {}
    for name in ("start", "stop", "step"):
        value, unit = parsed.get(name, (Decimal(1 if name == "step" else 0), ""))
        numbers[name] = value * (scales[unit] if scales and unit else 1)
    if formatter is not None:
        fmt_unit = formatter
        for name, value in numbers.items():
            if value != value.to_integral_value():
                raise _error(index, text, f"range() {name} {texts[name]!r} is not a whole "
                             "number of the quantity's smallest unit")  # fmt: skip

        def write(value: Decimal, hexa: bool) -> str:
            try:
                return fmt_unit(int(value))
            except UnitError:  # pragma: no cover - formatters take every integer
                return str(int(value))

        return numbers, write

    def plain(value: Decimal, hexa: bool) -> str:
        if value == value.to_integral_value():
            return hex(int(value)) if hexa else str(int(value))
        return str(value.normalize())

    return numbers, plain


def expand(sets: Sequence[str]) -> list[Variant]:
    """Every combination of the swept ``--set`` arguments (one variant when none is).

    :raises OverrideError: (E306) a sweep does not parse, or there are more than
        :data:`MAX_VARIANTS` combinations.
    """
    axes = [parse_axis(text, i) for i, text in enumerate(sets, 1)]
    total = 1
    for axis in axes:
        total *= len(axis.values)
    if total > MAX_VARIANTS:
        swept = [a for a in axes if a.swept]
        raise _error(swept[-1].index, swept[-1].text,
                     f"the sweep makes {total} variants, more than {MAX_VARIANTS}",
                     hint="sweep fewer values, or split the sweep")  # fmt: skip
    out = []
    for number, combo in enumerate(itertools.product(*(axis.values for axis in axes))):
        texts = tuple(axis.set_text(v) for axis, v in zip(axes, combo, strict=True))
        tweaks = tuple(t for axis, t in zip(axes, texts, strict=True) if axis.swept)
        out.append(Variant(number, texts, tweaks))
    return out
