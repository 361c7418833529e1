"""The QMP wire format, as QEMU 7.2 speaks it (see shared QMP notes in docs/qmp.md)."""

from __future__ import annotations

import json
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


class JsonStream:
    """Clients send JSON values with no framing (``{...}{...}``, split anywhere)."""

    def __init__(self) -> None:
        self._text = ""
        self._decoder = json.JSONDecoder()

    def feed(self, data: bytes) -> list[Any]:
        """The complete values now available; a value that cannot be JSON gives a
        ``QmpError`` in the list (and the rest of the input is dropped)."""
        self._text += data.decode("utf-8", errors="replace")
        out: list[Any] = []
        while True:
            text = self._text.lstrip()
            if not text:
                self._text = ""
                return out
            try:
                value, end = self._decoder.raw_decode(text)
            except json.JSONDecodeError as exc:
                if (
                    exc.pos >= len(text) - 1
                    or "Unterminated" in exc.msg
                    or (exc.msg.startswith("Expecting") and exc.pos == len(text))
                ):
                    self._text = text  # wait for the rest
                    return out
                out.append(QmpError(f"JSON parse error, {exc.msg}"))
                self._text = ""
                return out
            out.append(value)
            self._text = text[end:]


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
