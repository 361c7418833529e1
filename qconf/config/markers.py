"""Merge markers written in files: the same power in YAML and TOML.

Canonical form (YAML and TOML)::

    uart1: {$delete: true}            # remove a key or a whole object
    soc: {$replace: true, ...}        # this map replaces the lower layers' map wholesale
    isa: {$append: [f, d]}            # add items at the end of the lower layers' list
    isa: {$prepend: [zicsr]}          # add items at the front

YAML tags are shorthand for the same: ``!delete``, ``!replace {...}``, ``!append [...]``,
``!prepend [...]``. See docs/layering.md.
"""

from __future__ import annotations

from collections.abc import Iterable

from qconf.config.node import Node, Op
from qconf.config.origin import Origin
from qconf.errors import LayerError

__all__ = ("MARKER_KEYS", "TAGS", "build_map", "mark")

MARKER_KEYS = {"$delete": Op.DELETE, "$replace": Op.REPLACE, "$append": Op.APPEND,
               "$prepend": Op.PREPEND}  # fmt: skip
TAGS = {"!delete": Op.DELETE, "!replace": Op.REPLACE, "!append": Op.APPEND,
        "!prepend": Op.PREPEND}  # fmt: skip
_TRUE = (True, "true", "True", "yes", "on", "1", 1)

_MARKER_HINT = (
    "markers are $delete: true, $replace: true (with the map's keys), $append: [...], "
    "$prepend: [...]"
)


def build_map(entries: Iterable[tuple[str, Node]], origin: Origin) -> Node:
    """A map node from ordered ``(key, node)`` entries, turning marker keys into an op."""
    value: dict[str, Node] = {}
    op: Op | None = None
    markers: list[tuple[str, Node]] = []
    for key, node in entries:
        if key[:1] == "$":
            markers.append((key, node))
        else:
            value[key] = node
    if not markers:
        return Node(value, origin)
    for key, node in markers:
        if key not in MARKER_KEYS:
            raise LayerError(
                f"unknown merge marker {key!r}", code="E210", origin=node.origin, hint=_MARKER_HINT
            )
        if op is not None:
            raise LayerError(
                f"{key!r} cannot be combined with ${op.value}",
                code="E211",
                origin=node.origin,
                hint=_MARKER_HINT,
            )
        op = MARKER_KEYS[key]
        if op in (Op.DELETE, Op.REPLACE):
            if node.value not in _TRUE:
                raise LayerError(
                    f"{key} takes true, got {node.value!r}",
                    code="E212",
                    origin=node.origin,
                    hint=_MARKER_HINT,
                )
            if op is Op.DELETE and value:
                raise LayerError(
                    "$delete cannot stand beside other keys",
                    code="E211",
                    origin=node.origin,
                    hint="to replace the map instead, use $replace: true",
                )
        else:
            if value:
                raise LayerError(
                    f"{key} cannot stand beside other keys",
                    code="E211",
                    origin=node.origin,
                    hint=_MARKER_HINT,
                )
            items = node.value if isinstance(node.value, list) else [node]
            return Node(list(items), origin, op)
    return Node(None if op is Op.DELETE else value, origin, op)


def mark(node: Node, tag: str) -> Node:
    """Apply a YAML marker tag (``!delete`` ...) to a converted node."""
    op = TAGS[tag]
    if op is Op.DELETE:
        if node.value not in (None, "", True, "true"):
            raise LayerError(
                "!delete takes no value",
                code="E212",
                origin=node.origin,
                hint="write `key: !delete` on its own",
            )
        return Node(None, node.origin, op)
    if op in (Op.APPEND, Op.PREPEND) and not isinstance(node.value, list):
        return Node([node], node.origin, op)
    if op is Op.REPLACE and node.op is not None:
        raise LayerError(
            f"!replace cannot be combined with ${node.op.value}",
            code="E211",
            origin=node.origin,
            hint=_MARKER_HINT,
        )
    return Node(node.value, node.origin, op)
