"""Dotted key paths: ``soc.uart0.baud``, ``cpu0.isa[2]``, ``soc."uart.0".baud``."""

from __future__ import annotations

import re

from qconf.config.node import PathKey

__all__ = ("PathSyntaxError", "parse_path", "scan_path")

_STOP = frozenset("=.[]")
_INDEX = re.compile(r"-?[0-9]+")


class PathSyntaxError(ValueError):
    """Malformed path; ``pos`` is the offending index in the text."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.pos = pos


def parse_path(text: str) -> tuple[PathKey, ...]:
    """The keys of a whole path text; raises :class:`PathSyntaxError`."""
    keys, end = scan_path(text, 0)
    if end != len(text):
        raise PathSyntaxError(f"unexpected {text[end]!r} in path", end)
    return keys


def scan_path(text: str, pos: int) -> tuple[tuple[PathKey, ...], int]:
    """Read a path starting at ``pos``; stop before ``=``, ``+=`` or the end.

    Names are bare (letters, digits, ``_ - / $``), or quoted with ``"`` or ``'`` when they
    contain dots or other characters; ``\\.`` escapes a dot in a bare name. ``[i]`` indexes a
    list.
    """
    keys: list[PathKey] = []
    n = len(text)
    expect_name = True
    while pos < n:
        ch = text[pos]
        if ch == "=" or text.startswith("+=", pos):
            break
        if ch == "[":
            close = text.find("]", pos)
            if close < 0:
                raise PathSyntaxError("unclosed '['", pos)
            inner = text[pos + 1 : close].strip()
            if not _INDEX.fullmatch(inner):
                shown = inner if len(inner) <= 20 else inner[:17] + "..."
                raise PathSyntaxError(f"list index must be an integer, got {shown!r}", pos + 1)
            if len(inner.lstrip("-")) > 9:
                raise PathSyntaxError("list index too large (more than 9 digits)", pos + 1)
            if not keys:
                raise PathSyntaxError("a path cannot start with an index", pos)
            keys.append(int(inner))
            pos = close + 1
            expect_name = False
            continue
        if ch == ".":
            if expect_name:
                raise PathSyntaxError("empty name in path", pos)
            pos += 1
            expect_name = True
            continue
        if not expect_name:
            raise PathSyntaxError(f"expected '.', '[' or '=' at {ch!r}", pos)
        if ch in "\"'":
            name, pos = _quoted(text, pos)
        else:
            name, pos = _bare(text, pos)
        keys.append(name)
        expect_name = False
    if expect_name and keys:
        raise PathSyntaxError("path ends with '.'", pos)
    if not keys:
        raise PathSyntaxError("empty path", pos)
    return tuple(keys), pos


def _quoted(text: str, pos: int) -> tuple[str, int]:
    quote = text[pos]
    out = []
    i = pos + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and quote == '"' and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if ch == quote:
            if not out:
                raise PathSyntaxError("empty quoted name", pos)
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    raise PathSyntaxError(f"unclosed {quote} in path", pos)


def _bare(text: str, pos: int) -> tuple[str, int]:
    out = []
    i = pos
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if ch in _STOP or text.startswith("+=", i):
            break
        if ch.isspace() or ch in "\"'":
            raise PathSyntaxError(f"unexpected {ch!r} in name; quote names with such characters", i)
        out.append(ch)
        i += 1
    return "".join(out), i
