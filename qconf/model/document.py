"""The resolved, validated machine document: canonical values, each with its origin."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qconf.config.node import Node, PathKey

if TYPE_CHECKING:
    from qconf.config.layers import Layer
    from qconf.model.annotations import FilePath
    from qconf.model.registry import TypeInfo, TypeRegistry

__all__ = ("Document",)


@dataclass(frozen=True)
class Document:
    """A resolved machine document.

    :param tree: the root object; every object map has a ``type`` entry, then its
        properties in declaration order (defaults filled in), then its child objects.
    :param registry: the types it was validated against.
    :param layers: the layers it was resolved from, lowest first (for ``explain``).
    """

    tree: Node
    registry: TypeRegistry
    layers: tuple[Layer, ...] = ()

    def objects(self) -> Iterator[tuple[tuple[PathKey, ...], Node]]:
        """Every object (root first) with its path, in document order."""
        stack: list[tuple[tuple[PathKey, ...], Node]] = [((), self.tree)]
        while stack:
            path, node = stack.pop()
            yield path, node
            kids = [(k, c) for k, c in node.value.items() if is_object(c)]
            stack.extend(((*path, k), c) for k, c in reversed(kids))

    def lookup(self, path: tuple[PathKey, ...]) -> Node | None:
        return self.tree.lookup(path)

    def type_of(self, obj: Node) -> TypeInfo | None:
        t = obj.value.get("type") if isinstance(obj.value, dict) else None
        return self.registry.find(t.value) if t is not None else None

    def owner(self, path: tuple[PathKey, ...]) -> tuple[tuple[PathKey, ...], Node]:
        """The object that holds the value at ``path`` (the deepest object above it)."""
        node = self.tree
        found: tuple[tuple[PathKey, ...], Node] = ((), node)
        for i, key in enumerate(path[:-1]):
            nxt = node.get(key)
            if nxt is None:
                break
            node = nxt
            if is_object(node):
                found = (path[: i + 1], node)
        return found

    def pretty(self, path: tuple[PathKey, ...], value: Any) -> Any:
        """``value`` at ``path`` as a person writes it (``1GHz``, ``128MiB``, ``0x1000``)."""
        if not path or isinstance(path[-1], int):
            return value
        owner_path, owner = self.owner(path)
        info = self.type_of(owner)
        if info is None or len(path) != len(owner_path) + 1:
            return value
        return info.format(path[-1], value)

    def display_tree(self, pretty: bool = True, paths_from: str | None = None) -> Node:
        """The tree with values formatted with units (``pretty``) or canonical.

        :param paths_from: a directory: files the document names (absolute once
            resolved) are written relative to it, for a document saved there.
        """
        if not pretty and paths_from is None:
            return self.tree
        return _display(self.tree, self, pretty, paths_from)

    def files(self) -> Iterator[tuple[tuple[PathKey, ...], Node, FilePath]]:
        """Every value that names a host file (a ``firmware``, an image's ``file``, a
        console's ``file:PATH``), with its path and its marker, in document order."""
        for path, obj in self.objects():
            info = self.type_of(obj)
            if info is None:
                continue
            for key, marker in info.paths.items():
                node = obj.value.get(key)
                if node is not None and isinstance(node.value, str):
                    yield (*path, key), node, marker


def is_object(node: Node) -> bool:
    return isinstance(node.value, dict) and "type" in node.value


def _display(obj: Node, doc: Document, pretty: bool, paths_from: str | None) -> Node:
    info = doc.type_of(obj)
    out: dict[str, Node] = {}
    for key, child in obj.value.items():
        if is_object(child):
            out[key] = _display(child, doc, pretty, paths_from)
        elif pretty and info is not None and key in info.units and isinstance(child.value, int):
            out[key] = Node(info.format(key, child.value), child.origin)
        elif paths_from is not None and info is not None and key in info.paths:
            out[key] = Node(info.paths[key].relative(child.value, paths_from), child.origin)
        else:
            out[key] = child
    return Node(out, obj.origin)
