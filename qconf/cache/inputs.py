"""What a resolve depended on, and whether it is still so: the files it read, the
directories it searched and where every symbolic link on the way led."""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the reader of configuration files: not on a run from the cache
    from qconf.config.sources import Reads

__all__ = ("Inputs", "searched")


def _mtime(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


@dataclass(frozen=True)
class Inputs:
    """The files a resolve read (real path, size, modification time and CRC-32 of their
    bytes when read), the directories it searched (real path, modification time or None
    if missing), and each path it named with the real path that name led to.

    A name is a file as the configuration or the command line wrote it (``-c
    current/board.yaml``, ``include: parts/fw.yaml``, a profile found as ``DIR/NAME.yaml``)
    or a directory searched (``-I current``): retargeting a link anywhere along it, or
    putting a link where a directory was, makes it lead elsewhere."""

    files: tuple[tuple[str, int, int, int], ...]
    dirs: tuple[tuple[str, int | None], ...]
    names: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, reads: Reads, searched: Iterable[Path]) -> Inputs:
        """From what :func:`~qconf.config.sources.recording_reads` noted and the
        directories searched (each read file's directory is added)."""
        from qconf.config.sources import named

        names = dict(reads.names)
        dirs = {str(p.parent) for p in reads.files}
        for directory in searched:
            real = os.path.realpath(directory)
            names[named(directory)] = real
            dirs.add(real)
        return cls(tuple((str(p), *read) for p, read in sorted(reads.files.items())),
                   tuple((d, _mtime(d)) for d in sorted(dirs)),
                   tuple(sorted(names.items())))  # fmt: skip

    def verified(self) -> dict[str, bytes] | None:
        """The bytes of every file, if every file, directory and name is as it was (else
        None). A file's bytes are compared too (by checksum), so an edit within a coarse
        clock tick, or one that keeps the modification time, is seen."""
        for name, real in self.names:
            if os.path.realpath(name) != real:
                return None
        texts = {}
        for path, size, mtime, crc in self.files:
            try:
                with open(path, "rb") as f:
                    st = os.fstat(f.fileno())
                    if (st.st_size, st.st_mtime_ns) != (size, mtime):
                        return None
                    data = f.read()
            except OSError:
                return None
            if zlib.crc32(data) != crc:
                return None
            texts[path] = data
        if any(_mtime(path) != mtime for path, mtime in self.dirs):
            return None
        return texts

    def unchanged(self) -> bool:
        """Whether every file, directory and name is as it was (see :meth:`verified`)."""
        return self.verified() is not None

    def to_json(self) -> dict[str, Any]:
        return {"files": [list(f) for f in self.files], "dirs": [list(d) for d in self.dirs],
                "names": [list(n) for n in self.names]}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Inputs:
        return cls(tuple((p, s, m, c) for p, s, m, c in data["files"]),
                   tuple((p, m) for p, m in data["dirs"]),
                   tuple((n, r) for n, r in data["names"]))  # fmt: skip


def searched(files: Sequence[str], include_dirs: Sequence[str]) -> list[Path]:
    """The directories a resolve of ``files`` looks in for profiles and components (a
    file added there could change what it finds), besides those of the files it reads."""
    from qconf.config.search import SearchPath

    search = SearchPath.default(include_dirs)
    return [*search.dirs, *(d / "components" for d in search.dirs),
            *(Path(f).parent for f in files)]  # fmt: skip
