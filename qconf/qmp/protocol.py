"""The QMP wire format, as QEMU 7.2 speaks it (see shared QMP notes in docs/qmp.md)."""

from __future__ import annotations

import functools
import json
import math
import re
import time
from array import array
from collections.abc import Callable
from itertools import accumulate
from typing import Any

__all__ = ("JsonStream", "QmpError", "check_envelope", "encode", "event", "greeting")

QEMU_VERSION = {"major": 7, "minor": 2, "micro": 0}  # the QMP dialect qconf speaks


class QmpError(Exception):
    """A command failed: ``klass`` is QEMU's error class (GenericError, CommandNotFound,
    DeviceNotFound), ``desc`` the message."""

    def __init__(self, desc: str, klass: str = "GenericError") -> None:
        super().__init__(desc)
        self.desc = desc
        self.klass = klass


def greeting(package: str) -> dict[str, Any]:
    return {"QMP": {"version": {"qemu": dict(QEMU_VERSION), "package": package},
                    "capabilities": ["oob"]}}  # fmt: skip


_ENCODER = json.JSONEncoder(ensure_ascii=True, allow_nan=False)


def encode(message: dict[str, Any]) -> bytes:
    """One message: compact JSON on one line, CRLF-terminated as QEMU sends it. A reply
    that is not JSON (a bug: a value JSON has no form for) becomes an error reply, with
    its ``id``, rather than invalid JSON or an exception in the server."""
    try:
        text = _ENCODER.encode(message)
    except (TypeError, ValueError) as exc:
        desc = f"qconf cannot send its reply as JSON: {exc}"
        error: dict[str, Any] = {"error": {"class": "GenericError", "desc": desc}}
        if "id" in message:  # as read from JSON, so it can be written again
            error["id"] = message["id"]
        text = json.dumps(error, ensure_ascii=True)
    return text.encode() + b"\r\n"


def event(name: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    now = time.time()
    msg: dict[str, Any] = {
        "timestamp": {"seconds": int(now), "microseconds": int(now % 1 * 1_000_000)},
        "event": name,
    }
    if data is not None:
        msg["data"] = data
    return msg


MAX_MESSAGE = 1 << 20
"""The longest client message, in bytes; longer ones are answered with an error and
their rest is skipped, so a client cannot make the server hold unbounded input. (QEMU's
is 64 MiB; qconf's largest command, ``qconf-memory-write`` of 512 KiB, fits.)"""
MAX_DEPTH = 256
"""The deepest nesting of ``[`` and ``{`` in a client message (QEMU's is 1024; Python's
JSON parser recurses, and ``json`` stays well within the interpreter's stack here)."""
MAX_TOKENS = 1 << 15
"""The most brackets, commas and colons (outside strings) in one message: parsing 1 MiB of
``[[],[],...]`` would build half a million lists, a stall of 0.2 s (QEMU's limit is
2,097,152 tokens, in 64 MiB)."""
MAX_DIGITS = 4300
"""The longest integer, in digits (Python's default limit for converting text to ``int``:
beyond it the conversion takes quadratic time). QEMU reads longer ones as ``inf``, which it
then echoes as invalid JSON; qconf refuses them."""


class _Refused(ValueError):
    """Text that is JSON, or looks like it, but that a QMP message must not hold: its
    message completes ``JSON parse error, ...``."""


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _Refused("duplicate key")  # QEMU's words; Python's json keeps the last one
    return obj


def _constant(name: str) -> Any:
    # NaN, Infinity, -Infinity: not JSON; QEMU's lexer stops at their first letter
    raise _Refused(f"stray '{name[: 2 if name.startswith('-') else 1]}'")


def _integer(text: str) -> int:
    if len(text) > MAX_DIGITS and len(text.lstrip("-")) > MAX_DIGITS:
        raise _Refused(f"integer longer than {MAX_DIGITS} digits")
    return int(text)


def _number(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _Refused("number out of range")  # it would be echoed as Infinity: not JSON
    return value


_DECODER = json.JSONDecoder(object_pairs_hook=_object, parse_constant=_constant,
                            parse_int=_integer, parse_float=_number)  # fmt: skip
_scan: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]
"""(text, index) -> (value, end): ``raw_decode`` without its Python frame (the fast path)."""

_SPACE = re.compile(rb"[ \t\r\n]*")
_SPACE_TEXT = re.compile(r"[ \t\r\n]*")
_STRAY = re.compile(rb'[^{\["\-0-9tfn]+')  # what cannot start a value: one error for a run
_BARE_START = frozenset(b"-0123456789tfn")
_DELIMITER = re.compile(rb"[^-+.0-9A-Za-z]")  # ends a bare top-level value (``1``, ``true``)
_STRING_END = re.compile(rb'(?:[^"\\]++|\\.)*+"', re.S)  # the rest of a string, its quote
_STRING_PART = re.compile(rb'(?:[^"\\]++|\\.)*+', re.S)  # as much of a string as there is
_NOT_BRACKET = bytes(c for c in range(256) if c not in b"[]{}")
_ONE_KIND = bytes.maketrans(b"{}", b"[]")
_STEP = bytes.maketrans(b"[]{}", b"\x01\xff\x01\xff")  # as signed bytes: +1, -1


def _shallow(depth: int) -> re.Pattern[bytes]:
    """A whole value of ``[`` and ``{`` nested at most ``depth`` deep, strings skipped (the
    kinds of bracket are not matched up: the parser sees to that). Possessive throughout,
    so it runs in linear time, and fails at once on what it cannot match."""
    string, other = rb'"(?:[^"\\]++|\\.)*+"', rb'[^"\[\]{}]++'
    value = rb"[\[{](?:%s|%s)*+[\]}]" % (other, string)
    for _ in range(depth - 1):
        value = rb"[\[{](?:%s|%s|%s)*+[\]}]" % (other, string, value)
    return re.compile(value, re.S)


_SHALLOW_DEPTH = 4
_SHALLOW = _shallow(_SHALLOW_DEPTH)  # most messages: found whole in one step
_FIRST_PIECE, _LONGEST_PIECE = 128, 1 << 16
_REDUCTIONS = 4
_WINDOW = 4096  # the longest message the fast path parses


class JsonStream:
    """Clients send JSON values with no framing (``{...}{...}``, split anywhere).

    Like QEMU's JSON streamer, this finds where each value ends, then parses it once: input
    is never re-parsed as it arrives, a message longer than ``max_size`` or nested deeper
    than ``max_depth`` gives one error as soon as that is seen and its rest is skipped
    (never held), and bad input gives an error and the stream goes on with the next value.

    Every step works on whole pieces of input in C (regular expressions, ``bytes``
    methods), never byte by byte in Python, so a hostile message costs about what copying
    it does: 10 MB are skipped in a few hundredths of a second. Complete messages at the
    start of what arrives are parsed directly, the common case.
    """

    def __init__(self, max_size: int = MAX_MESSAGE, max_depth: int = MAX_DEPTH,
                 max_tokens: int = MAX_TOKENS) -> None:  # fmt: skip
        self.max_size = max_size
        self.max_depth = max_depth
        self.max_tokens = max_tokens
        self._buf = bytearray()  # the value being read (nothing while skipping)
        self._depth = 0  # of ``[`` and ``{`` in it
        self._tokens = 0  # brackets, commas and colons in it
        self._string = False  # inside a string
        self._escape = False  # ... right after its backslash
        self._bare = False  # inside a top-level number or keyword
        self._skipping = False  # the rest of a message that broke a limit
        self._piece = _FIRST_PIECE  # how much of a value to look at next (it doubles)
        self._out: list[Any] = []

    def feed(self, data: bytes) -> list[Any]:
        """The complete values now available, in order; bad input gives a ``QmpError``
        in their place."""
        self._out = []
        text = data.decode("ascii") if data.isascii() else None
        pos, n, tried = 0, len(data), -1
        while pos < n:
            idle = not (self._depth or self._string or self._bare or self._skipping)
            if idle and text is not None and tried != pos:
                tried = pos = self._whole(data, text, pos)  # complete messages, at once
                if pos == n:
                    break
            if self._escape:
                self._escape = False
                pos = self._keep(data, pos, pos + 1)
            elif self._string:
                pos = self._in_string(data, pos)
            elif self._bare:
                pos = self._in_bare(data, pos)
            elif self._depth:
                pos = self._in_container(data, pos)
            else:
                pos = self._start(data, pos)
        return self._out

    def _whole(self, data: bytes, text: str, pos: int) -> int:
        """The fast path: the complete messages at ``pos`` (``text`` is ``data`` as ASCII),
        each parsed at once, and the bad ones whose end is plain; where the rest starts
        (a message that is incomplete, longer than ``_WINDOW`` or over a limit is left to
        the scanner, which measures it exactly)."""
        n = len(text)
        while True:
            if pos < n and text[pos] != "{":
                pos = _SPACE_TEXT.match(text, pos).end()  # type: ignore[union-attr]
            if pos == n or text[pos] != "{":
                return pos
            # a window from the message on: a JSON error counts lines up to where it is
            window = text[pos : pos + _WINDOW]
            try:
                value, end = _scan(window, 0)
            except StopIteration:  # not even a start (cannot happen at "{", but to be sure)
                return pos
            except (ValueError, RecursionError) as exc:  # incomplete, or bad
                m = _SHALLOW.match(data, pos) if self.max_depth >= _SHALLOW_DEPTH else None
                if m is None or m.end() - pos > len(window):
                    return pos
                value, end = _parse_error(exc), m.end() - pos  # complete, so bad
            if end > self.max_size:
                return pos
            if end > self.max_depth or 2 * end > self.max_tokens:  # long enough to be over
                brackets = window.count("{", 0, end) + window.count("[", 0, end)
                tokens = 2 * brackets + window.count(",", 0, end) + window.count(":", 0, end)
                if brackets > self.max_depth or tokens > self.max_tokens:
                    return pos  # perhaps over a limit: the scanner measures exactly
            self._out.append(value)
            pos += end

    def _start(self, data: bytes, pos: int) -> int:
        """Between values: the first character of the next one."""
        c = data[pos]
        if c in b" \t\r\n":
            return _SPACE.match(data, pos).end()  # type: ignore[union-attr]
        if c in b"{[":
            m = _SHALLOW.match(data, pos) if self.max_depth >= _SHALLOW_DEPTH else None
            if m is not None and m.end() - pos <= self.max_size:
                found = data[pos : m.end()]
                tokens = sum(found.count(c) for c in (b"[", b"{", b"]", b"}", b",", b":"))
                if tokens <= self.max_tokens:  # (strings counted too: then measure exactly)
                    self._keep(data, pos, m.end())
                    self._finish()
                    return m.end()
            self._depth, self._tokens, self._piece = 1, 1, _FIRST_PIECE
        elif c == ord('"'):
            self._string = True
        elif c in _BARE_START:
            self._bare = True
        else:  # one error for a run of characters that cannot start a value
            what = "expecting value" if c in b"}]" else f"stray '{chr(c)}'"
            self._out.append(QmpError(f"JSON parse error, {what}"))
            return _STRAY.match(data, pos).end()  # type: ignore[union-attr]
        return self._keep(data, pos, pos + 1)

    def _in_string(self, data: bytes, pos: int) -> int:
        n = len(data)
        quote = data.find(b'"', pos)
        if data.find(b"\\", pos, n if quote < 0 else quote) < 0:  # no escape: memchr speed
            if quote < 0:
                return self._keep(data, pos, n)  # the string goes on in the next input
            stop = quote + 1
        else:
            m = _STRING_END.match(data, pos)
            if m is None:  # it goes on in the next input, perhaps right after a backslash
                part = _STRING_PART.match(data, pos).end()  # type: ignore[union-attr]
                self._escape = part < n  # only a backslash can stop it short
                return self._keep(data, pos, n)
            stop = m.end()
        self._string = False
        end = self._keep(data, pos, stop)
        if not self._depth:  # a top-level string
            self._finish()
        return end

    def _in_bare(self, data: bytes, pos: int) -> int:
        m = _DELIMITER.search(data, pos)
        if m is None:
            return self._keep(data, pos, len(data))
        self._bare = False
        end = self._keep(data, pos, m.start())
        self._finish()
        return end

    def _in_container(self, data: bytes, pos: int) -> int:
        """Inside ``[`` or ``{``, outside strings: the next piece (a few hundred bytes,
        then twice as much each time, so that a small message costs little and a large one
        few steps). Its strings are cut out, then its brackets measured: how deep they go,
        and whether the value ends in the piece."""
        end = min(len(data), pos + self._piece)
        self._piece = min(2 * self._piece, _LONGEST_PIECE)
        piece = data[pos:end]
        # escaped quotes and backslashes are not string ends: out of the way, same length
        escaped = b"\\" in piece
        piece_u = piece.replace(b"\\\\", b"__").replace(b'\\"', b"__") if escaped else piece
        parts = piece_u.split(b'"')
        open_string = len(parts) % 2 == 0  # an odd number of quotes: the last one opens
        outside = b"".join(parts[0::2]) if len(parts) > 1 else piece_u
        separators = outside.count(b",") + outside.count(b":")
        outside = outside.translate(None, _NOT_BRACKET)
        closes = outside.count(b"]") + outside.count(b"}")
        opens = len(outside) - closes
        ends, deepest = None, self._depth + opens
        if closes >= self._depth or (deepest > self.max_depth and not self._skipping):
            ends, deepest, final = self._measure(outside)
        else:
            final = self._depth + opens - closes
        if not self._skipping:
            self._tokens += separators + len(outside)  # (over the value's end: no matter)
            if deepest > self.max_depth:
                self._skip(f"JSON parse error, nesting deeper than {self.max_depth}")
            elif self._tokens > self.max_tokens:
                self._skip(f"JSON parse error, more than {self.max_tokens} tokens")
        if ends is not None:  # the value ends at that bracket
            stop = _nth_bracket(ends).match(piece_u).end()  # type: ignore[union-attr]
            self._depth = 0
            self._keep(data, pos, pos + stop)
            self._finish()
            return pos + stop
        self._depth = final
        if open_string:
            tail = piece[len(piece) - len(parts[-1]) :]
            self._string = True
            self._escape = (len(tail) - len(tail.rstrip(b"\\"))) % 2 == 1
        return self._keep(data, pos, end)

    def _measure(self, brackets: bytes) -> tuple[int | None, int, int]:
        """For a run of brackets from the present depth: the index of the one that ends
        the value (or None), the deepest level reached before it, and the depth after.

        Matched pairs are removed first (C speed) to see whether the value can end here
        or go too deep; only then is the run walked bracket by bracket."""
        kinds, passes = brackets.translate(_ONE_KIND), 0
        while b"[]" in kinds and passes < _REDUCTIONS:
            kinds, passes = kinds.replace(b"[]", b""), passes + 1
        if b"[]" not in kinds:  # all that is left: closes, then opens
            closes = kinds.count(b"]")
            opens = len(kinds) - closes
            deepest = self._depth + opens + passes  # at most
            if closes < self._depth and (self._skipping or deepest <= self.max_depth):
                return None, deepest, self._depth - closes + opens
        levels = list(accumulate(array("b", brackets.translate(_STEP)), initial=self._depth))
        try:
            ends: int | None = levels.index(0, 1) - 1
        except ValueError:
            ends = None
        deepest = max(levels[: None if ends is None else ends + 2])
        return ends, deepest, levels[-1]

    def _keep(self, data: bytes, start: int, end: int) -> int:
        if not self._skipping:
            self._buf += data[start:end]
            if len(self._buf) > self.max_size:
                self._skip(f"JSON parse error, message longer than {self.max_size} bytes")
        return end

    def _skip(self, desc: str) -> None:
        self._out.append(QmpError(desc))
        self._skipping = True
        self._buf.clear()

    def _finish(self) -> None:
        """One complete value has been read: parse it (unless it was skipped)."""
        text = bytes(self._buf)
        self._buf.clear()
        if self._skipping:
            self._skipping = False
            return
        try:
            self._out.append(_DECODER.decode(text.decode("utf-8")))
        except (ValueError, RecursionError) as exc:
            self._out.append(_parse_error(exc))


def _parse_error(exc: ValueError | RecursionError) -> QmpError:
    """The error reply for a message ``json`` could not read, in QEMU's form."""
    if isinstance(exc, UnicodeDecodeError):
        return QmpError("JSON parse error, invalid UTF-8 sequence")
    if isinstance(exc, json.JSONDecodeError):
        return QmpError(f"JSON parse error, {exc.msg[:1].lower()}{exc.msg[1:]}")
    if isinstance(exc, RecursionError):  # pragma: no cover - max_depth keeps below the limit
        return QmpError("JSON parse error, nesting too deep")
    return QmpError(f"JSON parse error, {exc}")  # _Refused, or Python's own int() limit


@functools.lru_cache(maxsize=64)
def _nth_bracket(index: int) -> re.Pattern[bytes]:
    """Matches text with no escapes up to and including its bracket ``index`` (from 0)
    outside strings."""
    return re.compile(rb'(?:(?:[^"\[\]{}]++|"[^"]*+")*+[\[\]{}]){%d}' % (index + 1))


def check_envelope(msg: Any) -> tuple[str, dict[str, Any]]:
    """The command name and arguments of a client message.

    :raises QmpError: in QEMU's words, when the envelope is wrong.
    """
    if not isinstance(msg, dict):
        raise QmpError("QMP input must be a JSON object")
    for key in msg:
        if key not in ("execute", "exec-oob", "arguments", "id", "control"):
            raise QmpError(f"QMP input member '{key}' is unexpected")
    name = msg.get("execute", msg.get("exec-oob"))
    if name is None:
        raise QmpError("QMP input lacks member 'execute'")
    if not isinstance(name, str):
        raise QmpError("QMP input member 'execute' must be a string")
    args = msg.get("arguments", {})
    if not isinstance(args, dict):
        raise QmpError("QMP input member 'arguments' must be an object")
    return name, args
