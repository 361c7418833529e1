"""Provenance: where a value was written.

A :class:`Source` is one place text comes from (a file, one ``--set`` argument, a type's
defaults) together with the layer it belongs to; an :class:`Origin` is a position in it.
Every value of the resolved document carries one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

__all__ = ("LayerKind", "Origin", "Source", "display_path")


class LayerKind(Enum):
    """The tiers of layering, lowest to highest."""

    DEFAULT = "default"
    PROFILE = "profile"
    FILE = "file"
    SET = "set"
    QMP = "qmp"


@dataclass(frozen=True, slots=True)
class Source:
    """One place configuration text comes from.

    :param name: how the place is shown: a path, ``--set #2 'cpu0.freq=1GHz'``,
        ``default of riscv64``.
    :param layer: the layer that brought it in, e.g. ``profile riscv-virt``,
        ``file board.yaml``, ``--set #2``.
    :param kind: the tier of that layer.
    :param path: the file, for file sources.
    """

    name: str
    layer: str = ""
    kind: LayerKind = LayerKind.FILE
    path: Path | None = None


@dataclass(frozen=True, slots=True)
class Origin:
    """A position in a :class:`Source`; ``line``/``col`` are 1-based, 0 when unknown."""

    source: Source
    line: int = 0
    col: int = 0

    def where(self) -> str:
        """``file:line:col`` (or as much of it as is known), or the source's name."""
        if self.line:
            if self.col:
                return f"{self.source.name}:{self.line}:{self.col}"
            return f"{self.source.name}:{self.line}"
        return self.source.name

    def __str__(self) -> str:
        return self.where()


def display_path(path: Path) -> str:
    """A path as shown in messages: relative to the working directory when under it,
    ``<qconf>/profiles/...`` for the canned profiles, absolute otherwise."""
    from qconf.config.search import builtin_profiles_dir

    path = Path(os.path.abspath(path))
    builtin = builtin_profiles_dir()
    try:
        rel = path.relative_to(builtin).as_posix()
        return "<qconf>/profiles" + ("" if rel == "." else "/" + rel)
    except ValueError:
        pass
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path.as_posix()
