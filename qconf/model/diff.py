"""``qconf diff``: a semantic, unit-aware comparison of two resolved documents.

Values are compared canonically (``1GHz`` equals ``1000MHz``); objects are matched by
path, so an added or removed object is one entry, not one per property.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from qconf.config.node import Node, PathKey, format_path, to_plain
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

        return {
            "kind": self.kind,
            "path": format_path(self.path),
            "object": self.is_object,
            "left": side(left, self.left),
            "right": side(right, self.right),
        }

    def lines(self, left: Document, right: Document) -> list[str]:
        name = format_path(self.path)
        if self.is_object:
            node = self.right if self.kind == "added" else self.left
            assert node is not None
            sign = "+" if self.kind == "added" else "-"
            return [f"{sign} {name}: {node.value['type'].value}  ({node.origin.where()})"]
        if self.kind == "changed":
            assert self.left is not None and self.right is not None
            return [
                f"~ {name}: {_display(left, self.path, self.left)} -> "
                f"{_display(right, self.path, self.right)}",
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
    return (
        "null" if shown is None else str(shown).lower() if isinstance(shown, bool) else str(shown)
    )


def diff(left: Document, right: Document) -> list[Change]:
    """Every difference between ``left`` and ``right``, in document order."""
    out: list[Change] = []
    _diff_object(left.tree, right.tree, (), out)
    return out


def _diff_object(a: Node, b: Node, path: tuple[PathKey, ...], out: list[Change]) -> None:
    av: dict[str, Node] = a.value
    bv: dict[str, Node] = b.value
    for key, an in av.items():
        bn = bv.get(key)
        p = (*path, key)
        if bn is None:
            out.append(Change("removed", p, an, None, is_object(an)))
        elif is_object(an) and is_object(bn):
            _diff_object(an, bn, p, out)
        elif (
            is_object(an) != is_object(bn)
            or to_plain(an) != to_plain(bn)
            or type(an.value) is not type(bn.value)
        ):
            out.append(Change("changed", p, an, bn, False))
    for key, bn in bv.items():
        if key not in av:
            out.append(Change("added", (*path, key), None, bn, is_object(bn)))
