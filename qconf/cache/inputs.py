"""What a resolve depended on, and whether it is still so: the files it read and the
directories it searched."""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ("Inputs", "searched")


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


@dataclass(frozen=True)
class Inputs:
    """What a resolve depended on: the files it read (size, modification time and CRC-32
    of their bytes when read) and the directories it searched (modification time, None if
    missing)."""

    files: tuple[tuple[str, int, int, int], ...]
    dirs: tuple[tuple[str, int | None], ...]

    @classmethod
    def of(cls, reads: dict[Path, tuple[int, int, int]], searched: Iterable[Path]) -> Inputs:
        """From the files :func:`~qconf.config.sources.recording_reads` noted and the
        directories searched (each read file's directory is added)."""
        dirs = {p.resolve() for p in searched} | {p.parent for p in reads}
        return cls(tuple((str(p), *read) for p, read in sorted(reads.items())),
                   tuple((str(d), _mtime(d)) for d in sorted(dirs)))  # fmt: skip

    def verified(self) -> dict[str, bytes] | None:
        """The bytes of every file, if every file and directory is as it was (else None).
        A file's bytes are compared too (by checksum), so an edit within a coarse clock
        tick, or one that keeps the modification time, is seen."""
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
        if any(_mtime(Path(path)) != mtime for path, mtime in self.dirs):
            return None
        return texts

    def unchanged(self) -> bool:
        """Whether every file and directory is as it was (see :meth:`verified`)."""
        return self.verified() is not None

    def to_json(self) -> dict[str, Any]:
        return {"files": [list(f) for f in self.files], "dirs": [list(d) for d in self.dirs]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Inputs:
        return cls(tuple((p, s, m, c) for p, s, m, c in data["files"]),
                   tuple((p, m) for p, m in data["dirs"]))  # fmt: skip


def searched(files: Sequence[str], include_dirs: Sequence[str]) -> list[Path]:
    """The directories a resolve of ``files`` looks in for profiles and components (a
    file added there could change what it finds), besides those of the files it reads."""
    from qconf.config.search import SearchPath

    search = SearchPath.default(include_dirs)
    return [*search.dirs, *(d / "components" for d in search.dirs),
            *(Path(f).parent for f in files)]  # fmt: skip
