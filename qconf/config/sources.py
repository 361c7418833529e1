"""Read one configuration file (YAML or TOML, by suffix) into a :class:`Node` tree."""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from qconf.config.files import Unreadable, file_problem, open_regular, read_open, read_regular
from qconf.config.limits import FILE_BYTES, Budget
from qconf.config.node import Node
from qconf.config.origin import Origin, Source
from qconf.config.yaml_source import load_yaml
from qconf.errors import SourceError

__all__ = ("MAX_FILE_BYTES", "SUFFIXES", "Reads", "Unreadable", "decode_text", "file_problem",
           "named", "note_read", "open_regular", "read_file", "read_open", "read_regular",
           "read_text", "recording_reads", "unreadable_error")  # fmt: skip

SUFFIXES = (".yaml", ".yml", ".toml", ".json")
MAX_FILE_BYTES = FILE_BYTES.default


@dataclass
class Reads:
    """What a resolve read: the inputs a snapshot of its result depends on."""

    files: dict[Path, tuple[int, int, int]] = field(default_factory=dict)
    """Each file read, by real path, with the size, modification time (ns) and CRC-32 of
    the bytes it had."""
    names: dict[str, str] = field(default_factory=dict)
    """Each path as it was named (made absolute, nothing else: ``..`` after a link goes
    up from the link's target) and the real path it led to through every symbolic link on
    the way; a link retargeted later leads elsewhere."""


_reads: ContextVar[Reads | None] = ContextVar("qconf_reads", default=None)


@contextmanager
def recording_reads() -> Iterator[Reads]:
    """Note every configuration file read inside the block, with its size, modification
    time and checksum when it was read, and where its name led through symbolic links."""
    reads = Reads()
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
        real = os.path.realpath(path)
        reads.files[Path(real)] = (stat.st_size, stat.st_mtime_ns, zlib.crc32(data))
        reads.names[named(path)] = real


def named(path: Path | str) -> str:
    """``path`` made absolute from the working directory, without resolving ``..`` or
    links (:func:`os.path.abspath` would drop ``link/..`` before the link is followed)."""
    return os.path.join(os.getcwd(), path)


def max_file_bytes() -> int:
    """The size limit: 8 MiB, or ``$QCONF_MAX_FILE_BYTES``."""
    return FILE_BYTES.value()


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
