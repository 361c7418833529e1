"""Merge one configuration tree over another.

Maps merge by key; scalars and lists replace; a node's marker (:class:`Op`) changes that:
DELETE removes the key, REPLACE takes the map wholesale, APPEND/PREPEND extend the list
below. Inputs are never mutated.

``strict`` merges are the layering of the final document: a marker that finds nothing to
act on is resolved (APPEND onto nothing is a plain list) or reported (DELETE of nothing,
unless the marker already deleted something in a non-strict merge: its value is True).
Non-strict merges combine pieces of one layer (a file and its includes): unresolved
markers are kept, to act on the layers below.
"""

from __future__ import annotations

from collections.abc import Callable

from qconf.config.node import Node, Op, PathKey, format_path
from qconf.errors import LayerError

__all__ = ("MergeFailure", "merge")


class MergeFailure(Exception):
    """Internal: raised at the failing node; keys are collected while unwinding."""

    def __init__(self, message: str, node: Node, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.node = node
        self.hint = hint
        self.keys: list[PathKey] = []

    def to_error(self, prefix: tuple[PathKey, ...] = ()) -> LayerError:
        path = format_path(prefix + tuple(reversed(self.keys)))
        return LayerError(
            self.message, code="E220", origin=self.node.origin, path=path or None, hint=self.hint
        )


IsOpen = Callable[[Node], bool]


def merge(
    base: Node | None, over: Node, *, strict: bool = True, is_open: IsOpen | None = None
) -> Node | None:
    """``over`` merged onto ``base``; None when the result is deleted.

    ``is_open`` tells which maps are component instances: below them merges are not
    strict, because the children they expand to do not exist yet (markers are kept for
    the expansion to resolve).

    :raises LayerError: a marker cannot act (nothing to delete, append to a non-list).
    """
    try:
        return _merge(base, over, strict, is_open)
    except MergeFailure as fail:
        raise fail.to_error() from None


def _merge(base: Node | None, over: Node, strict: bool, is_open: IsOpen | None) -> Node | None:
    op = over.op
    value = over.value
    if op is None:
        if not isinstance(value, dict):
            return over
        if base is not None and isinstance(base.value, dict):
            merged = dict(base.value)
            result_op = None if strict else base.op
        elif base is not None and base.op is Op.DELETE:
            merged, result_op = {}, Op.REPLACE
        else:
            if not strict:
                return over
            merged, result_op = {}, None
        below = strict
        if strict and is_open is not None:
            typed = over if "type" in value else base
            below = not (typed is not None and is_open(typed))
        for key, child in value.items():
            try:
                r = _merge(merged.get(key), child, below if key != "type" else strict, is_open)
            except MergeFailure as fail:
                fail.keys.append(key)
                raise
            if r is None:
                merged.pop(key, None)
            else:
                merged[key] = r
        return Node(
            merged,
            base.origin
            if base is not None and result_op is None and isinstance(base.value, dict)
            else over.origin,
            result_op,
        )
    if op is Op.DELETE:
        if not strict:
            if base is not None and base.op is not Op.DELETE and over.value is not True:
                # it deleted something already: later, finding nothing more is no error
                return Node(True, over.origin, Op.DELETE)
            return over
        if base is None and over.value is True:
            return None
        if base is None:
            raise MergeFailure(
                "nothing to delete: no lower layer sets this key",
                over,
                "remove the $delete / !delete marker, or check the key's name",
            )
        return None
    if op is Op.REPLACE:
        if not strict:
            return over
        return _merge(None, Node(value, over.origin), strict, is_open)
    # APPEND / PREPEND
    if base is None or base.op is Op.DELETE:
        return Node(list(value), over.origin) if strict else over
    if not isinstance(base.value, list):
        kind = "a map" if isinstance(base.value, dict) else f"the scalar {base.value!r}"
        raise MergeFailure(
            f"cannot {op.value} to {kind} (set at {base.origin.where()})",
            over,
            "$append and $prepend extend lists only",
        )
    items = base.value + value if op is Op.APPEND else value + base.value
    return Node(items, over.origin, None if strict else base.op)
