"""The cache directory and its folders of JSON entries."""

from __future__ import annotations

import json
import os
import zlib
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ("MAX_ENTRIES", "CacheFolder", "cache_dir", "code_fingerprint")

MAX_ENTRIES = 32
"""Entries kept in a folder; older ones are removed when a new one is written."""


def cache_dir() -> Path:
    """``$QCONF_CACHE_DIR``, else ``$XDG_CACHE_HOME/qconf``, else ``~/.cache/qconf``."""
    env = os.environ.get("QCONF_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "qconf"


@cache
def code_fingerprint() -> list[Any]:
    """qconf's own code, as each module's path, size and modification time."""
    package = Path(__file__).resolve().parent.parent
    out: list[Any] = []
    stack = [package]
    while stack:
        folder = stack.pop()
        with os.scandir(folder) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.is_dir() and entry.name != "__pycache__":
                    stack.append(Path(entry.path))
                elif entry.name.endswith(".py"):
                    st = entry.stat()
                    out.append([entry.path, st.st_size, st.st_mtime_ns])
    return out


class CacheFolder:
    """One folder of the cache: JSON entries named by a checksum of their key, written
    atomically, the newest :data:`MAX_ENTRIES` kept."""

    def __init__(self, name: str, directory: Path | None = None) -> None:
        self.path = (directory or cache_dir()) / name

    def entry(self, key: Any) -> Path:
        """Where the entry for ``key`` (JSON-ready) is. An entry holds its whole key, so a
        checksum is enough to name it: a collision is only a miss."""
        text = json.dumps(key).encode()
        return self.path / f"{zlib.crc32(text):08x}{zlib.adler32(text):08x}.json"

    def write(self, key: Any, data: Any) -> None:
        """Save ``data`` (JSON-ready) as the entry for ``key``.

        :raises OSError: the folder cannot be made or written.
        """
        import tempfile

        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=self.path, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, separators=(",", ":"))
        os.replace(tmp, self.entry(key))
        for old in self.entries()[:-MAX_ENTRIES]:
            old.unlink(missing_ok=True)

    def entries(self) -> list[Path]:
        """The entries, oldest first."""
        if not self.path.is_dir():
            return []
        return sorted(self.path.glob("*.json"), key=lambda p: p.stat().st_mtime_ns)

    def clear(self) -> int:
        """Remove every entry; returns how many there were."""
        entries = self.entries()
        for entry in entries:
            entry.unlink(missing_ok=True)
        return len(entries)
