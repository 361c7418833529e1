"""The QMP wire format, as QEMU 7.2 speaks it (see shared QMP notes in docs/qmp.md)."""

from __future__ import annotations

import json
import re
import time
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


def encode(message: dict[str, Any]) -> bytes:
    """One message: compact JSON on one line, CRLF-terminated as QEMU sends it."""
    return json.dumps(message, ensure_ascii=True).encode() + b"\r\n"


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
their rest is skipped, so a client cannot make the server hold unbounded input."""
MAX_DEPTH = 256
"""The deepest nesting of ``[`` and ``{`` in a client message."""

_OUTSIDE = re.compile(rb'[{}\[\]"]')  # what changes the state outside strings
_INSIDE = re.compile(rb'["\\]')  # ... and inside them
_DELIMITER = re.compile(rb"[^-+.0-9A-Za-z]")  # ends a bare top-level value (``1``, ``true``)
_BARE_START = frozenset(b"-0123456789tfn")
_DECODER = json.JSONDecoder()


class JsonStream:
    """Clients send JSON values with no framing (``{...}{...}``, split anywhere).

    Like QEMU's JSON streamer, this tracks nesting and strings to find where each value
    ends, then parses it once: input is never re-parsed as it arrives, a message longer
    than ``max_size`` or nested deeper than ``max_depth`` gives one error and its rest is
    skipped, and bad input gives an error and the stream goes on with the next value.
    """

    def __init__(self, max_size: int = MAX_MESSAGE, max_depth: int = MAX_DEPTH) -> None:
        self.max_size = max_size
        self.max_depth = max_depth
        self._buf = bytearray()
        self._depth = 0
        self._string = False  # inside a string
        self._escape = False  # after a backslash in a string
        self._bare = False  # inside a top-level number or keyword
        self._skipping = False  # the rest of a message that broke a limit
        self._out: list[Any] = []

    def feed(self, data: bytes) -> list[Any]:
        """The complete values now available, in order; bad input gives a ``QmpError``
        in their place."""
        self._out = []
        pos, n = self._whole(data), len(data)
        while pos < n:
            if self._escape:
                self._escape = False
                pos = self._keep(data, pos, pos + 1)
            elif self._string:
                m = _INSIDE.search(data, pos)
                if m is None:
                    pos = self._keep(data, pos, n)
                    continue
                pos = self._keep(data, pos, m.end())
                if m.group() == b"\\":
                    self._escape = True
                else:
                    self._string = False
                    if self._depth == 0:
                        self._finish()
            elif self._bare:
                m = _DELIMITER.search(data, pos)
                if m is None:
                    pos = self._keep(data, pos, n)
                    continue
                pos = self._keep(data, pos, m.start())
                self._bare = False
                self._finish()
            elif self._depth == 0:
                pos = self._start(data, pos)
            else:
                m = _OUTSIDE.search(data, pos)
                if m is None:
                    pos = self._keep(data, pos, n)
                    continue
                pos = self._keep(data, pos, m.end())
                c = m.group()
                if c == b'"':
                    self._string = True
                elif c in b"{[":
                    self._depth += 1
                    if self._depth > self.max_depth and not self._skipping:
                        self._skip(f"JSON parse error, nesting deeper than {self.max_depth}")
                else:
                    self._depth -= 1
                    if self._depth == 0:
                        self._finish()
        return self._out

    def _whole(self, data: bytes) -> int:
        """The fast path: complete ASCII messages at the start of ``data``, when nothing is
        pending, parsed at once; where the rest of ``data`` starts."""
        if self._depth or self._string or self._bare or self._buf or not data.isascii():
            return 0
        text = data.decode("ascii")
        pos = 0
        try:
            while True:
                while pos < len(text) and text[pos] in " \t\r\n":
                    pos += 1
                if pos == len(text) or text[pos] != "{":
                    return pos
                value, end = _DECODER.raw_decode(text, pos)
                if end - pos > self.max_size:
                    return pos
                self._out.append(value)
                pos = end
        except (json.JSONDecodeError, RecursionError):
            return pos  # incomplete or bad: the scanner takes it from here

    def _start(self, data: bytes, pos: int) -> int:
        """Between values: the first character of the next one."""
        c = data[pos]
        if c in b" \t\r\n":
            return pos + 1
        if c in b"{[":
            self._depth = 1
        elif c == ord('"'):
            self._string = True
        elif c in _BARE_START:
            self._bare = True
        else:
            what = "expecting value" if c in b"}]" else f"stray '{chr(c)}'"
            self._out.append(QmpError(f"JSON parse error, {what}"))
            return pos + 1
        return self._keep(data, pos, pos + 1)

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
            self._out.append(json.loads(text.decode("utf-8")))
        except UnicodeDecodeError:
            self._out.append(QmpError("JSON parse error, invalid UTF-8 sequence"))
        except json.JSONDecodeError as exc:
            self._out.append(QmpError(f"JSON parse error, {exc.msg[:1].lower()}{exc.msg[1:]}"))
        except RecursionError:  # pragma: no cover - max_depth keeps below the limit
            self._out.append(QmpError("JSON parse error, nesting too deep"))


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
