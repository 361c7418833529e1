"""The configuration tree: plain values, each with its origin and an optional merge marker.

A :class:`Node` wraps one value: a ``dict[str, Node]`` (a map keyed by name), a
``list[Node]``, or a scalar. Scalars read from YAML stay the text the user wrote
(``"1GHz"``, ``"0x8000_0000"``); the property's declared type converts them at validation,
so nothing is guessed before the schema is known. Layers are never mutated: merging makes
new maps and reuses unchanged nodes.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from typing import Any, TypeAlias

from qconf.config.origin import Origin

__all__ = ("Node", "Op", "PathKey", "Scalar", "format_path", "to_plain")

Scalar: TypeAlias = str | int | float | bool | None
PathKey: TypeAlias = str | int


class Op(Enum):
    """Merge markers (see docs/layering.md). ``None`` on a node means: merge normally."""

    DELETE = "delete"
    REPLACE = "replace"
    APPEND = "append"
    PREPEND = "prepend"


class Node:
    """One value of a configuration tree with where it was written."""

    __slots__ = ("op", "origin", "value")

    def __init__(self, value: Any, origin: Origin, op: Op | None = None) -> None:
        self.value = value
        self.origin = origin
        self.op = op

    @property
    def is_map(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_list(self) -> bool:
        return isinstance(self.value, list)

    def get(self, key: PathKey) -> Node | None:
        """The child at ``key`` (a map key or a list index), or None."""
        v = self.value
        if isinstance(v, dict) and isinstance(key, str):
            return v.get(key)
        if isinstance(v, list) and isinstance(key, int) and -len(v) <= key < len(v):
            return v[key]  # type: ignore[no-any-return]
        return None

    def lookup(self, path: tuple[PathKey, ...]) -> Node | None:
        """The node at ``path`` below this one, or None."""
        node: Node | None = self
        for key in path:
            if node is None:
                return None
            node = node.get(key)
        return node

    def walk(self, prefix: tuple[PathKey, ...] = ()) -> Iterator[tuple[tuple[PathKey, ...], Node]]:
        """Every node below (and including) this one with its path, depth first."""
        stack: list[tuple[tuple[PathKey, ...], Node]] = [(prefix, self)]
        while stack:
            path, node = stack.pop()
            yield path, node
            v = node.value
            if isinstance(v, dict):
                stack.extend(((*path, k), c) for k, c in reversed(v.items()))
            elif isinstance(v, list):
                stack.extend(((*path, i), c) for i, c in reversed(list(enumerate(v))))

    def __repr__(self) -> str:
        op = f", op={self.op.value}" if self.op else ""
        return f"Node({self.value!r}{op} @ {self.origin.where()})"


def to_plain(node: Node) -> Any:
    """The tree below ``node`` as plain Python data (dicts, lists, scalars)."""
    v = node.value
    if isinstance(v, dict):
        return {k: to_plain(c) for k, c in v.items()}
    if isinstance(v, list):
        return [to_plain(c) for c in v]
    return v


def format_path(path: tuple[PathKey, ...]) -> str:
    """``('soc', 'uart0', 'irq')`` -> ``soc.uart0.irq``; indices as ``[i]``; names that
    need it are quoted so the result parses back with the ``--set`` grammar."""
    out = ""
    for key in path:
        if isinstance(key, int):
            out += f"[{key}]"
            continue
        text = key if _is_bare(key) else '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'
        out += ("." if out else "") + text
    return out


_BARE_EXTRA = frozenset("_-/$")


def _is_bare(key: str) -> bool:
    return bool(key) and all(ch.isalnum() or ch in _BARE_EXTRA for ch in key)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building large trees.

    Trees are acyclic and allocation-heavy: each automatic collection walks every live
    object, which made reading 20,000 devices 4x slower than reading 2,000 times ten
    (bench/resolve.py). Reference counting still frees everything as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
