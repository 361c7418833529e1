"""Read one configuration file (YAML or TOML, by suffix) into a :class:`Node` tree."""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from stat import S_ISBLK, S_ISCHR, S_ISDIR, S_ISFIFO, S_ISREG, S_ISSOCK

from qconf.config.limits import FILE_BYTES, Budget
from qconf.config.node import Node
from qconf.config.origin import Origin, Source
from qconf.config.yaml_source import load_yaml
from qconf.errors import SourceError

__all__ = ("MAX_FILE_BYTES", "SUFFIXES", "Unreadable", "decode_text", "file_problem", "note_read",
           "open_regular", "read_file", "read_open", "read_regular", "read_text",
           "recording_reads", "unreadable_error")  # fmt: skip

SUFFIXES = (".yaml", ".yml", ".toml", ".json")
MAX_FILE_BYTES = FILE_BYTES.default


Reads = dict[Path, tuple[int, int, int]]
"""Files read, by resolved path, with the size, modification time (ns) and CRC-32 of the
bytes they had."""

_reads: ContextVar[Reads | None] = ContextVar("qconf_reads", default=None)


@contextmanager
def recording_reads() -> Iterator[Reads]:
    """Note every configuration file read inside the block, with its size, modification
    time and checksum when it was read: the inputs a snapshot of the result depends on."""
    reads: Reads = {}
    token = _reads.set(reads)
    try:
        yield reads
    finally:
        _reads.reset(token)


def note_read(path: Path, stat: os.stat_result, data: bytes | None = None) -> None:
    """Tell the recording (if any) that ``path`` was read when it had ``stat`` and held
    ``data`` (read again here when not given; a file that cannot be read is not noted:
    reading it for use reports why)."""
    reads = _reads.get()
    if reads is not None:
        if data is None:
            try:
                data, _ = read_regular(path, FILE_BYTES.value())
            except (OSError, ValueError, Unreadable):
                return
        reads[path.resolve()] = (stat.st_size, stat.st_mtime_ns, zlib.crc32(data))


def max_file_bytes() -> int:
    """The size limit: 8 MiB, or ``$QCONF_MAX_FILE_BYTES``."""
    return FILE_BYTES.value()


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


def read_file(path: Path, source: Source, nodes: Budget | None = None) -> Node:
    """Load ``path`` as YAML (``.yaml``, ``.yml``, and ``.json``) or TOML (``.toml``).

    :param nodes: the nodes the caller may still read (each node read is spent).
    :raises SourceError: unreadable, not a regular file, too large, not UTF-8, unknown
        suffix, a syntax error (with line and column), or more nodes than ``nodes`` has.
    """
    return read_text(path, load_text(path, source), source, nodes)


def load_text(path: Path, source: Source) -> str:
    """The text of ``path``, checked for size and encoding.

    :raises SourceError: not a regular file, too large, unreadable, not UTF-8.
    """
    origin = Origin(source)
    try:
        data, stat = read_regular(path, max_file_bytes())
    except (Unreadable, OSError, ValueError) as exc:
        raise unreadable_error(exc, origin) from None
    note_read(path, stat, data)
    return decode_text(data, origin)


def unreadable_error(exc: Exception, origin: Origin) -> SourceError:
    """The located error for a failure of :func:`read_regular` (or its parts)."""
    if isinstance(exc, Unreadable):
        if exc.too_large:
            return SourceError(
                exc.message,
                code="E109",
                origin=origin,
                hint="split it with include:, or raise the limit with QCONF_MAX_FILE_BYTES",
            )
        if exc.kind == "a directory":
            return SourceError("is a directory, not a configuration file", code="E101",
                               origin=origin)  # fmt: skip
        return SourceError(exc.message, code="E101", origin=origin,
                           hint="configuration is read from regular files only")  # fmt: skip
    if isinstance(exc, OSError):
        return SourceError(f"cannot read file: {exc.strerror or exc}", code="E101", origin=origin)
    return SourceError(f"cannot read file: {exc}", code="E101", origin=origin)  # a NUL byte


def decode_text(data: bytes, origin: Origin) -> str:
    """``data`` as text (UTF-8, with or without a byte-order mark).

    :raises SourceError: not UTF-8.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"not UTF-8 text (byte {exc.start})",
            code="E101",
            origin=origin,
            hint="save the file as UTF-8",
        ) from None


def read_text(path: Path, text: str, source: Source, nodes: Budget | None = None) -> Node:
    """Parse ``text`` by the suffix of ``path`` (``nodes``: as for :func:`read_file`)."""
    suffix = path.suffix.lower()
    if suffix == ".toml":
        from qconf.config.toml_source import load_toml  # tomllib: only when a file needs it

        return load_toml(text, source, nodes)
    if suffix in (".yaml", ".yml", ".json"):
        return load_yaml(text, source, nodes)  # JSON is YAML flow syntax
    raise SourceError(
        f"unknown file type {suffix or '(no suffix)'!r}",
        code="E101",
        origin=Origin(source),
        hint="name configuration files *.yaml, *.yml, *.toml (or *.json, as resolve dumps it)",
    )


def _human(n: int) -> str:
    for unit, scale in (("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"
