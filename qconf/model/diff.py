"""``qconf diff``: a semantic, unit-aware comparison of two resolved documents.

Values are compared canonically (``1GHz`` equals ``1000MHz``); objects are matched by
path, so an added or removed object is one entry, not one per property. Values that name
host files compare by the file they lead to (two spellings of one file are equal), or,
with ``contents``, by the bytes in it (two files with the same bytes are equal, and two
boards loading different firmware differ even when a path is reused).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from qconf.config.node import Node, PathKey, format_path, to_plain
from qconf.config.origin import display_path
from qconf.model.annotations import FilePath
from qconf.model.document import Document, is_object

__all__ = ("Change", "diff")

Kind = Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class Change:
    kind: Kind
    path: tuple[PathKey, ...]
    left: Node | None
    right: Node | None
    is_object: bool
    contents: tuple[str, str] | None = None
    """For a file compared by its bytes: each side's digest (``sha256:...``, or why it
    cannot be read)."""

    def to_json(self, left: Document, right: Document) -> dict[str, Any]:
        def side(doc: Document, node: Node | None) -> dict[str, Any] | None:
            if node is None:
                return None
            value = to_plain(node)
            return {
                "value": value,
                "display": _display(doc, self.path, node),
                "where": node.origin.where(),
                "layer": node.origin.source.layer or None,
            }

        out = {
            "kind": self.kind,
            "path": format_path(self.path),
            "object": self.is_object,
            "left": side(left, self.left),
            "right": side(right, self.right),
        }
        if self.contents is not None:
            out["contents"] = {"left": self.contents[0], "right": self.contents[1]}
        return out

    def lines(self, left: Document, right: Document) -> list[str]:
        name = format_path(self.path)
        if self.is_object:
            node = self.right if self.kind == "added" else self.left
            assert node is not None
            sign = "+" if self.kind == "added" else "-"
            return [f"{sign} {name}: {node.value['type'].value}  ({node.origin.where()})"]
        if self.kind == "changed":
            assert self.left is not None and self.right is not None
            out = [
                f"~ {name}: {_display(left, self.path, self.left)} -> "
                f"{_display(right, self.path, self.right)}",
            ]
            if self.contents is not None:
                out.append(f"    contents: {self.contents[0]} -> {self.contents[1]}")
            return [
                *out,
                f"    left:  {self.left.origin.where()}",
                f"    right: {self.right.origin.where()}",
            ]
        node = self.right if self.kind == "added" else self.left
        assert node is not None
        sign = "+" if self.kind == "added" else "-"
        doc = right if self.kind == "added" else left
        return [f"{sign} {name}: {_display(doc, self.path, node)}  ({node.origin.where()})"]


def _display(doc: Document, path: tuple[PathKey, ...], node: Node) -> str:
    value = to_plain(node)
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    shown = doc.pretty(path, value)
    owner_path, owner = doc.owner(path)
    info = doc.type_of(owner)
    marker = info.paths.get(str(path[-1])) if info is not None and path else None
    parts = marker.split(value) if marker is not None and isinstance(value, str) else None
    if parts is not None and len(path) == len(owner_path) + 1:  # a file, as messages show it
        shown = parts[0] + display_path(Path(parts[1]))
    return (
        "null" if shown is None else str(shown).lower() if isinstance(shown, bool) else str(shown)
    )


def diff(left: Document, right: Document, *, contents: bool = False) -> list[Change]:
    """Every difference between ``left`` and ``right``, in document order.

    :param contents: compare the files values name by their bytes (a digest of each)
        instead of by the file they lead to.
    """
    out: list[Change] = []
    _Differ(left, right, contents).object(left.tree, right.tree, (), out)
    return out


class _Differ:
    def __init__(self, left: Document, right: Document, contents: bool) -> None:
        self.left, self.right, self.contents = left, right, contents
        self.digests: dict[str, str] = {}

    def object(self, a: Node, b: Node, path: tuple[PathKey, ...], out: list[Change]) -> None:
        av: dict[str, Node] = a.value
        bv: dict[str, Node] = b.value
        info_a, info_b = self.left.type_of(a), self.right.type_of(b)
        same_type = info_a is not None and info_b is not None and info_a.name == info_b.name
        paths = info_a.paths if same_type and info_a is not None else {}
        for key, an in av.items():
            bn = bv.get(key)
            p = (*path, key)
            if bn is None:
                out.append(Change("removed", p, an, None, is_object(an)))
            elif is_object(an) and is_object(bn):
                self.object(an, bn, p, out)
            elif key in paths and isinstance(an.value, str) and isinstance(bn.value, str):
                self.file(paths[key], p, an, bn, out)
            elif (
                is_object(an) != is_object(bn)
                or to_plain(an) != to_plain(bn)
                or type(an.value) is not type(bn.value)
            ):
                out.append(Change("changed", p, an, bn, False))
        for key, bn in bv.items():
            if key not in av:
                out.append(Change("added", (*path, key), None, bn, is_object(bn)))

    def file(
        self, marker: FilePath, p: tuple[PathKey, ...], an: Node, bn: Node, out: list[Change]
    ) -> None:
        fa, fb = marker.split(an.value), marker.split(bn.value)
        if fa is None or fb is None or fa[0] != fb[0]:  # not both files of one kind
            if an.value != bn.value:
                out.append(Change("changed", p, an, bn, False))
            return
        if self.contents:
            da, db = self.digest(fa[1]), self.digest(fb[1])
            unread = da.startswith("cannot") and db.startswith("cannot")
            if (_real(fa[1]) != _real(fb[1])) if unread else da != db:
                out.append(Change("changed", p, an, bn, False, (da, db)))
        elif _real(fa[1]) != _real(fb[1]):
            out.append(Change("changed", p, an, bn, False))

    def digest(self, path: str) -> str:
        found = self.digests.get(path)
        if found is None:
            found = self.digests[path] = _digest(path)
        return found


def _real(path: str) -> str:
    try:
        return os.path.realpath(path)
    except (OSError, ValueError):
        return path


def _digest(path: str) -> str:
    """``sha256:`` and the first 16 hex digits of the file's digest, or why it cannot be
    read (then it equals nothing)."""
    from qconf.config.files import Unreadable, open_regular

    try:
        fd, _ = open_regular(path)
    except (Unreadable, OSError, ValueError) as exc:
        why = getattr(exc, "strerror", None) or getattr(exc, "message", None) or str(exc)
        return f"cannot read ({why})"
    h = hashlib.sha256()
    try:
        while chunk := os.read(fd, 1 << 20):
            h.update(chunk)
    finally:
        os.close(fd)
    return "sha256:" + h.hexdigest()[:16]
