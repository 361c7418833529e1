"""Values with units: parse to canonical integers, format back to the shortest exact text.

=============  ====================================================  =============
quantity       accepted suffixes                                      canonical unit
=============  ====================================================  =============
integer        none; ``0x`` hex, ``0o`` octal, ``0b`` binary, ``_``    1
frequency      ``Hz kHz MHz GHz`` (``1.5GHz`` allowed if exact)        Hz
size           ``B``, ``KiB MiB GiB TiB``; ``K M G T`` alone are       bytes
               binary too (as in QEMU's ``-m 512M``); ``kB MB GB``
               are refused as ambiguous
duration       ``ns us µs ms s``                                      ns
=============  ====================================================  =============

A bare number is taken in the canonical unit. Every parser raises :class:`UnitError`
(a ``ValueError``) whose message says what was expected.
"""

from __future__ import annotations

import re

__all__ = (
    "UnitError",
    "format_duration",
    "format_frequency",
    "format_size",
    "parse_command_duration",
    "parse_duration",
    "parse_frequency",
    "parse_int",
    "parse_size",
)


class UnitError(ValueError):
    """A value cannot be read in the expected unit; the message says why and what fits."""


FREQUENCY_UNITS = {"Hz": 1, "kHz": 10**3, "KHz": 10**3, "MHz": 10**6, "GHz": 10**9}
SIZE_UNITS = {
    "B": 1,
    "K": 2**10, "KiB": 2**10,
    "M": 2**20, "MiB": 2**20,
    "G": 2**30, "GiB": 2**30,
    "T": 2**40, "TiB": 2**40,
}  # fmt: skip
AMBIGUOUS_SIZE = {"kB": "KiB", "KB": "KiB", "MB": "MiB", "GB": "GiB", "TB": "TiB"}
DURATION_UNITS = {"ns": 1, "us": 10**3, "µs": 10**3, "ms": 10**6, "s": 10**9}

MAX_DIGITS = 4300
"""Python converts text of at most this many digits to integers (``sys.int_info``)."""

_INT_RE = re.compile(r"[+-]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9][0-9_]*)")
_QTY_RE = re.compile(r"\s*([+-]?[0-9][0-9_]*(?:\.[0-9_]+)?|0[xX][0-9a-fA-F_]+)\s*([A-Za-zµ]*)\s*")


def parse_int(value: object) -> int:
    """An integer from an int or from text: decimal, ``0x``, ``0o``, ``0b``, ``_`` separators."""
    if isinstance(value, bool):
        raise UnitError(f"expected an integer, got the boolean {str(value).lower()}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, str):
        raise UnitError(f"expected an integer, got {_describe(value)}")
    text = value.strip()
    if not _INT_RE.fullmatch(text) or "__" in text or text.endswith("_"):
        raise UnitError(
            f"expected an integer (decimal, 0x hex, 0o octal or 0b binary, '_' allowed "
            f"between digits), got {_shown(value)}"
        )
    if len(text) > MAX_DIGITS:
        raise UnitError(f"expected an integer of at most {MAX_DIGITS:,} digits, got {len(text):,}")
    return int(text.replace("_", ""), 0) if text.lstrip("+-")[:2].lower() in (
        "0x", "0o", "0b") else int(text.replace("_", ""), 10)  # fmt: skip


def _quantity(value: object, units: dict[str, int], what: str, canonical: str) -> int:
    if isinstance(value, bool):
        raise UnitError(f"expected a {what}, got the boolean {str(value).lower()}")
    if isinstance(value, int):
        return value
    if not isinstance(value, str):
        raise UnitError(f"expected a {what}, got {_describe(value)}")
    if len(value) > MAX_DIGITS:
        raise UnitError(f"expected a {what} of at most {MAX_DIGITS:,} characters, "
                        f"got {len(value):,}")  # fmt: skip
    m = _QTY_RE.fullmatch(value)
    choices = ", ".join(u for u in units if u not in ("KHz", "µs"))
    if not m:
        raise UnitError(
            f"expected a {what} such as 10{choices.split(', ')[-1]}, got {_shown(value)}"
        )
    number, unit = m.group(1), m.group(2)
    if unit and unit not in units:
        if what == "size" and unit in AMBIGUOUS_SIZE:
            raise UnitError(
                f"'{unit}' is ambiguous in {_shown(value)}: write {AMBIGUOUS_SIZE[unit]} "
                f"(binary, 1024-based) or the exact number of bytes"
            )
        raise UnitError(f"unknown {what} unit {unit!r} in {_shown(value)}; use one of: {choices}")
    scale = units[unit] if unit else 1
    if number.lower().startswith(("0x", "-0x", "+0x")):
        return parse_int(number) * scale
    from decimal import Decimal, InvalidOperation, localcontext  # for parsing, not printing

    try:
        with localcontext() as ctx:
            ctx.prec = 2 * MAX_DIGITS  # exact: the default 28 digits would round long numbers
            exact = Decimal(number.replace("_", "")) * scale
    except InvalidOperation:  # pragma: no cover - the regex admits only valid numbers
        raise UnitError(f"expected a {what}, got {value!r}") from None
    if exact != exact.to_integral_value():
        raise UnitError(f"{value!r} is not a whole number of {canonical}")
    return int(exact)


def parse_frequency(value: object) -> int:
    """Hz from ``1GHz``, ``800MHz``, ``32768Hz``, ``1.5GHz`` or a bare number of Hz."""
    return _quantity(value, FREQUENCY_UNITS, "frequency", "Hz")


def parse_size(value: object) -> int:
    """Bytes from ``64KiB``, ``128M``, ``0x1000`` or a bare number of bytes."""
    return _quantity(value, SIZE_UNITS, "size", "bytes")


def parse_duration(value: object) -> int:
    """Nanoseconds from ``10ms``, ``1us``, ``2s`` or a bare number of ns."""
    return _quantity(value, DURATION_UNITS, "duration", "ns")


def parse_command_duration(value: str) -> int:
    """Nanoseconds from a duration on the command line (``--timeout``, ``--max-time``,
    ``--within``): ``10ms``, ``2s``, ``1.5s``, or a bare number of seconds (``--timeout 5``
    as it always was).

    :raises UnitError: not a duration, or not more than zero.
    """
    text = value.strip()
    try:
        ns = round(float(text) * 10**9) if _BARE_RE.fullmatch(text) else parse_duration(text)
    except ValueError as exc:
        raise UnitError(f"{exc}; write a unit (10ms, 2s) or a number of seconds") from None
    if ns <= 0:
        raise UnitError(f"{value!r} is not a duration of more than zero")
    return ns


_BARE_RE = re.compile(r"[0-9]+(\.[0-9]*)?|\.[0-9]+")


def _format(value: int, units: tuple[tuple[str, int], ...]) -> str:
    if value == 0:
        return f"0{units[-1][0]}"
    for name, scale in units:
        if value % scale == 0:
            return f"{value // scale}{name}"
    return str(value)  # pragma: no cover - the last unit always divides


def format_frequency(value: int) -> str:
    """``1000000000`` -> ``1GHz``: the largest unit that divides exactly."""
    return _format(value, (("GHz", 10**9), ("MHz", 10**6), ("kHz", 10**3), ("Hz", 1)))


def format_size(value: int) -> str:
    """``134217728`` -> ``128MiB``; sizes that are not a multiple of 1KiB stay bytes."""
    return _format(value, (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10),
                           ("B", 1)))  # fmt: skip


def format_duration(value: int) -> str:
    """``10000000`` -> ``10ms``."""
    return _format(value, (("s", 10**9), ("ms", 10**6), ("us", 10**3), ("ns", 1)))


def _shown(value: str) -> str:
    return repr(value) if len(value) <= 40 else repr(value[:37] + "...")


def _describe(value: object) -> str:
    if isinstance(value, dict):
        return "a map"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    return f"{type(value).__name__} {value!r}"
