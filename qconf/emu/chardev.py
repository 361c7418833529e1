"""Character backends at run time: where a UART's bytes go and come from."""

from __future__ import annotations

import os
import sys
from collections import deque
from typing import IO, Protocol

__all__ = ("Chardev", "FileChardev", "MemoryChardev", "NullChardev", "StdioChardev", "open_chardev")


class Chardev(Protocol):
    def write(self, data: bytes) -> None: ...

    def read(self) -> int | None:
        """One received byte, or None when nothing is waiting."""
        ...

    def close(self) -> None: ...


class NullChardev:
    def write(self, data: bytes) -> None:
        pass

    def read(self) -> int | None:
        return None

    def close(self) -> None:
        pass


class MemoryChardev:
    """Keeps output in memory and serves input from a queue (tests, scripts)."""

    def __init__(self) -> None:
        self.output = bytearray()
        self.input: deque[int] = deque()

    def write(self, data: bytes) -> None:
        self.output += data

    def read(self) -> int | None:
        return self.input.popleft() if self.input else None

    def feed(self, data: bytes) -> None:
        self.input.extend(data)

    def close(self) -> None:
        pass


class StdioChardev:
    """The terminal (or whatever stdout is): output written through at once."""

    def write(self, data: bytes) -> None:
        out = getattr(sys.stdout, "buffer", None)
        if out is None:
            sys.stdout.write(data.decode("utf-8", errors="replace"))
        else:
            out.write(data)
        sys.stdout.flush()

    def read(self) -> int | None:
        return None  # input comes with the interactive console (a later step)

    def close(self) -> None:
        pass


class FileChardev:
    def __init__(self, path: str) -> None:
        self._file: IO[bytes] = open(path, "wb")  # noqa: SIM115 - closed by close()

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self._file.flush()

    def read(self) -> int | None:
        return None

    def close(self) -> None:
        self._file.close()


def open_chardev(kind: str, path: str | None) -> Chardev:
    """A backend for a ``chardev`` object's ``backend`` and ``path``."""
    if kind == "stdio":
        return StdioChardev()
    if kind == "memory":
        return MemoryChardev()
    if kind == "file":
        assert path is not None
        return FileChardev(os.fspath(path))
    if kind == "null":
        return NullChardev()
    raise NotImplementedError(f"{kind} chardevs are not implemented yet")
