"""Read one configuration file (YAML or TOML, by suffix) into a :class:`Node` tree."""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from qconf.config.node import Node
from qconf.config.origin import Origin, Source
from qconf.config.yaml_source import load_yaml
from qconf.errors import SourceError

__all__ = (
    "MAX_FILE_BYTES",
    "SUFFIXES",
    "Reads",
    "note_read",
    "read_file",
    "named",
    "read_text",
    "recording_reads",
)

SUFFIXES = (".yaml", ".yml", ".toml", ".json")
MAX_FILE_BYTES = 8 * 2**20


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
    ``data`` (read again here when not given)."""
    reads = _reads.get()
    if reads is not None:
        if data is None:
            data = path.read_bytes()
        real = os.path.realpath(path)
        reads.files[Path(real)] = (stat.st_size, stat.st_mtime_ns, zlib.crc32(data))
        reads.names[named(path)] = real


def named(path: Path | str) -> str:
    """``path`` made absolute from the working directory, without resolving ``..`` or
    links (:func:`os.path.abspath` would drop ``link/..`` before the link is followed)."""
    return os.path.join(os.getcwd(), path)


def max_file_bytes() -> int:
    """The size limit: 8 MiB, or ``$QCONF_MAX_FILE_BYTES``."""
    env = os.environ.get("QCONF_MAX_FILE_BYTES")
    return int(env) if env and env.isdigit() else MAX_FILE_BYTES


def read_file(path: Path, source: Source) -> Node:
    """Load ``path`` as YAML (``.yaml``, ``.yml``, and ``.json``) or TOML (``.toml``).

    :raises SourceError: unreadable, too large, not UTF-8, unknown suffix, or a syntax
        error (with line and column).
    """
    return read_text(path, load_text(path, source), source)


def load_text(path: Path, source: Source) -> str:
    """The text of ``path``, checked for size and encoding."""
    origin = Origin(source)
    try:
        stat = path.stat()
        size = stat.st_size
        limit = max_file_bytes()
        if size > limit:
            raise SourceError(
                f"file is too large ({_human(size)}; the limit is {_human(limit)})",
                code="E109",
                origin=origin,
                hint="split it with include:, or raise the limit with QCONF_MAX_FILE_BYTES",
            )
        data = path.read_bytes()
        note_read(path, stat, data)
    except SourceError:
        raise
    except IsADirectoryError:
        raise SourceError(
            "is a directory, not a configuration file", code="E101", origin=origin
        ) from None
    except OSError as exc:
        raise SourceError(
            f"cannot read file: {exc.strerror or exc}", code="E101", origin=origin
        ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"not UTF-8 text (byte {exc.start})",
            code="E101",
            origin=origin,
            hint="save the file as UTF-8",
        ) from None


def read_text(path: Path, text: str, source: Source) -> Node:
    """Parse ``text`` by the suffix of ``path``."""
    suffix = path.suffix.lower()
    if suffix == ".toml":
        from qconf.config.toml_source import load_toml  # tomllib: only when a file needs it

        return load_toml(text, source)
    if suffix in (".yaml", ".yml", ".json"):
        return load_yaml(text, source)  # JSON is YAML flow syntax
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
