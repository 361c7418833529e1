"""Where profiles are found: ``-I`` directories, ``$QCONF_PATH``, then the canned profiles."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ("SearchPath", "builtin_profiles_dir")


def builtin_profiles_dir() -> Path:
    """The directory of the profiles shipped with qconf."""
    return Path(__file__).resolve().parent.parent / "profiles"


@dataclass(frozen=True)
class SearchPath:
    """An ordered list of directories searched for profiles by name."""

    dirs: tuple[Path, ...]

    @classmethod
    def default(cls, include_dirs: Sequence[str | Path] = ()) -> SearchPath:
        """``-I`` dirs first (in order), then ``$QCONF_PATH`` (``:``-separated), then the
        built-in ``profiles/``."""
        dirs = [Path(d) for d in include_dirs]
        env = os.environ.get("QCONF_PATH", "")
        dirs.extend(Path(d) for d in env.split(os.pathsep) if d)
        dirs.append(builtin_profiles_dir())
        return cls(tuple(dirs))

    def find(self, name: str) -> Path | None:
        """The first ``DIR/name.yaml``, ``.yml`` or ``.toml`` (or ``DIR/name`` itself)."""
        for d in self.dirs:
            for candidate in (d / name, *(d / (name + s) for s in (".yaml", ".yml", ".toml"))):
                if _is_file(candidate):
                    return candidate
        return None

    def names(self) -> list[str]:
        """Every profile name on the path (first occurrence wins), sorted."""
        seen: dict[str, Path] = {}
        for d in self.dirs:
            if d.is_dir():
                for f in sorted(d.iterdir()):
                    if f.suffix in (".yaml", ".yml", ".toml"):
                        seen.setdefault(f.stem, f)
        return sorted(seen)

    def suggest(self, name: str) -> list[str]:
        import difflib

        return difflib.get_close_matches(name, self.names(), n=3)


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # a name too long for the system, or holding NUL
        return False
