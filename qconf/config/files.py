"""Reading files safely: only regular files, opened without blocking, read with a size
limit applied while reading. Used for configuration files and images (light: it imports
nothing that a run from a machine snapshot does without)."""

from __future__ import annotations

import os
from pathlib import Path
from stat import S_ISBLK, S_ISCHR, S_ISDIR, S_ISFIFO, S_ISREG, S_ISSOCK

__all__ = ("Unreadable", "file_problem", "open_regular", "read_open", "read_regular")


class Unreadable(Exception):
    """A file refused before or while reading it: not a regular file, or larger than the
    limit. Callers turn it into their stage's located error."""

    def __init__(self, message: str, kind: str | None = None, too_large: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.too_large = too_large


_CHUNK = 1 << 20


def read_regular(path: Path | str, limit: int | None) -> tuple[bytes, os.stat_result]:
    """The bytes of the regular file ``path`` and its status, reading at most ``limit``
    bytes (None: no limit) and stopping as soon as there are more.

    The file is opened without blocking and checked before anything is read: a FIFO, a
    device (``/dev/zero``) or a socket never makes a read hang or run out of memory.

    :raises Unreadable: not a regular file, or more than ``limit`` bytes.
    :raises OSError: it cannot be opened or read (missing, no permission, name too long).
    :raises ValueError: the name holds a NUL byte.
    """
    fd, st = open_regular(path)
    try:
        return read_open(fd, st, limit), st
    finally:
        os.close(fd)


def open_regular(path: Path | str) -> tuple[int, os.stat_result]:
    """A read-only descriptor of the regular file ``path`` (opened without blocking, so
    a FIFO cannot hold the call) and its status; the caller closes it.

    :raises Unreadable: not a regular file.
    :raises OSError: it cannot be opened.
    :raises ValueError: the name holds a NUL byte.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags)
    st = os.fstat(fd)
    if not S_ISREG(st.st_mode):
        os.close(fd)
        kind = _kind(st.st_mode)
        raise Unreadable(f"not a regular file ({kind})", kind)
    return fd, st


def read_open(fd: int, st: os.stat_result, limit: int | None) -> bytes:
    """The bytes of the regular file open at ``fd`` (with status ``st``), read from the
    start; at most ``limit`` bytes are read.

    :raises Unreadable: more than ``limit`` bytes, by its size or as read.
    :raises OSError: it cannot be read.
    """
    if limit is not None and st.st_size > limit:
        raise Unreadable(
            f"file is too large ({_human(st.st_size)}; the limit is {_human(limit)})",
            too_large=True,
        )
    os.lseek(fd, 0, os.SEEK_SET)
    chunks: list[bytes] = []
    total = 0
    while True:
        want = _CHUNK if limit is None else min(_CHUNK, limit + 1 - total)
        chunk = os.read(fd, max(want, 1))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if limit is not None and total > limit:  # it grew while being read
            raise Unreadable(
                f"file is too large (more than {_human(limit)}; the limit is {_human(limit)})",
                too_large=True,
            )
    return b"".join(chunks)


def _kind(mode: int) -> str:
    kinds = ((S_ISDIR, "a directory"), (S_ISFIFO, "a FIFO"), (S_ISCHR, "a character device"),
             (S_ISBLK, "a block device"), (S_ISSOCK, "a socket"))  # fmt: skip
    return next((name for test, name in kinds if test(mode)), "not a file")


def file_problem(path: Path) -> str | None:
    """None if ``path`` names a regular file (following links), else why not, in a few
    words (``no such file``, ``a directory``, ``file name too long``). Never raises."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "no such file"
    except OSError as exc:
        return str(exc.strerror or exc).lower()
    except ValueError:  # a NUL byte in the name
        return "the name holds a NUL byte"
    return None if S_ISREG(st.st_mode) else f"{_kind(st.st_mode)}, not a regular file"


def _human(n: int) -> str:
    for unit, scale in (("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"
