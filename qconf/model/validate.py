"""Validate a merged document against the type registry; fill in type defaults.

Every object (the root, and each map with a ``type:`` key) is checked against its type's
property model; every problem in the whole document is collected and reported at once,
each with its full dotted path, the file:line:col or ``--set`` argument that set the
value, the layer, and a hint. The result is a :class:`Document` whose values are
canonical (``1GHz`` -> ``1000000000``) and keep their origins; defaults carry the origin
``default of TYPE``.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

import pydantic

from qconf.config.layers import Layer
from qconf.config.node import Node, PathKey, format_path, to_plain
from qconf.config.origin import LayerKind, Origin, Source
from qconf.errors import Problems, QconfError, ValidationError
from qconf.model.document import Document
from qconf.model.messages import ValueProblem, describe
from qconf.model.registry import TypeInfo, TypeRegistry

__all__ = ("ROOT_TYPE", "validate")

ROOT_TYPE = "machine"


def validate(merged: Node, registry: TypeRegistry, layers: Sequence[Layer] = ()) -> Document:
    """The validated :class:`Document` for the merged tree.

    :raises Problems: every error found, each a located :class:`ValidationError`.
    """
    v = _Validator(registry)
    tree = v.object(merged, (), ROOT_TYPE)
    if v.errors:
        raise Problems(v.errors)
    return Document(tree, registry, tuple(layers))


class _Validator:
    def __init__(self, registry: TypeRegistry) -> None:
        self.registry = registry
        self.errors: list[QconfError] = []
        self._default_origins: dict[str, Origin] = {}

    def error(
        self,
        message: str,
        code: str,
        origin: Origin | None,
        path: tuple[PathKey, ...],
        hint: str | None = None,
    ) -> None:
        self.errors.append(
            ValidationError(
                message, code=code, origin=origin, path=format_path(path) or None, hint=hint
            )
        )

    def default_origin(self, type_name: str) -> Origin:
        origin = self._default_origins.get(type_name)
        if origin is None:
            origin = Origin(
                Source(f"default of {type_name}", layer="type defaults", kind=LayerKind.DEFAULT)
            )
            self._default_origins[type_name] = origin
        return origin

    def object(self, node: Node, path: tuple[PathKey, ...], default_type: str | None) -> Node:
        entries: dict[str, Node] = node.value
        tnode = entries.get("type")
        info: TypeInfo | None = None
        if tnode is None:
            type_name = default_type
        elif isinstance(tnode.value, str):
            type_name = tnode.value
        else:
            self.error(
                "type must be a type name",
                "E401",
                tnode.origin,
                (*path, "type"),
                self.registry.suggest(""),
            )
            type_name = None
        if type_name is not None:
            info = self.registry.find(type_name)
            failure = self.registry.unavailable(type_name) if info is None else None
            if failure is not None:
                self.errors.append(
                    self.registry.unavailable_error(
                        type_name,
                        failure,
                        origin=tnode.origin if tnode else node.origin,
                        path=format_path(path) or None,
                    )
                )
            elif info is None:
                self.error(
                    f"unknown type {type_name!r}",
                    "E401",
                    tnode.origin if tnode else node.origin,
                    (*path, "type"),
                    self.registry.suggest(type_name),
                )
        props: dict[str, Node] = {}
        children: dict[str, Node] = {}
        unknown: dict[str, Node] = {}
        for key, child in entries.items():
            if key == "type":
                continue
            if info is not None and key in info.prop_names:
                props[key] = child
            elif isinstance(child.value, dict) and "type" in child.value:
                children[key] = child
            elif info is not None:
                unknown[key] = child
        if info is not None:
            for key, child, owner in _misplaced(unknown, entries):
                if owner is None:
                    self.unknown(key, child, path, info, children)
                elif owner != key:
                    self.error(
                        f"{key!r} is not a property of {info.name}: it belongs one level "
                        f"deeper, under {owner!r} (line {unknown[owner].origin.line}), which "
                        "has no value",
                        "E402",
                        child.origin,
                        (*path, key),
                        f"indent it (and the keys after it that belong to {owner}) under "
                        f"`{owner}:`",
                    )
        out: dict[str, Node] = {
            "type": tnode if tnode is not None else Node(type_name, node.origin)
        }
        if info is not None:
            out.update(self.properties(info, props, path, node.origin))
        for key, child in children.items():
            out[key] = self.object(child, (*path, key), None)
        return Node(out, node.origin)

    def unknown(
        self,
        key: str,
        child: Node,
        path: tuple[PathKey, ...],
        info: TypeInfo,
        children: dict[str, Node],
    ) -> None:
        names = sorted(info.prop_names)
        # an object of this name (a typo of one the document has) comes first: `sco:` is
        # far likelier `soc:` than a new object without its type
        objects = [
            c
            for c in difflib.get_close_matches(key, list(children), n=2, cutoff=0.6)
            if c.rstrip("0123456789") != key.rstrip("0123456789")
        ]  # not uart0 for uart1
        close = difflib.get_close_matches(key, names, n=3, cutoff=0.6)
        hint = ""
        if objects:
            hint = "did you mean " + " or ".join(f"the object '{c}'" for c in objects)
            hint += (" or " + " or ".join(f"'{c}'" for c in close) if close else "") + "?\n"
        elif close:
            hint = "did you mean " + " or ".join(f"'{c}'" for c in close) + "?\n"
        if isinstance(child.value, dict):
            self.error(
                f"{key!r} is a map without 'type', and {info.name} has no property {key!r}",
                "E403",
                child.origin,
                (*path, key),
                hint + "to add an object write its type (e.g. `type: ram`; "
                "`qconf types` lists them)",
            )
            return
        if child.value is None and child.op is None:
            self.error(
                f"{key!r} has no value, and {info.name} has no property {key!r}",
                "E402",
                child.origin,
                (*path, key),
                hint + "indent the keys that belong to it under it, or delete it with "
                f"`{key}: !delete`",
            )
            return
        hint += f"properties of {info.name}: {', '.join(names)}"
        self.error(
            f"unknown property {key!r} of {info.name}", "E402", child.origin, (*path, key), hint
        )

    def properties(
        self, info: TypeInfo, given: dict[str, Node], path: tuple[PathKey, ...], at: Origin
    ) -> dict[str, Node]:
        try:
            model = info.model().model_validate({k: to_plain(n) for k, n in given.items()})
        except pydantic.ValidationError as exc:
            seen: set[object] = set()
            for err in exc.errors():
                # a union (one input or a list of them) fails once per branch: report the
                # first, which is the plain form, once per property
                key = err["loc"][:1] if _is_union_branch(err["loc"]) else err["loc"]
                if key not in seen:
                    seen.add(key)
                    self.pydantic_error(err, info, given, path, at)
            return dict(given)
        default = None
        out: dict[str, Node] = {}
        paths = info.paths
        for name in info.model().model_fields:
            value = getattr(model, name)
            src = given.get(name)
            if src is None:
                default = default or self.default_origin(info.name)
                out[name] = _canonical(value, default, None)
            else:
                if name in paths:  # a file: from where it was set, whoever reads it
                    value = paths[name].locate(value, src.origin)
                out[name] = _canonical(value, src.origin, src)
        return out

    def pydantic_error(
        self,
        err: Any,
        info: TypeInfo,
        given: dict[str, Node],
        path: tuple[PathKey, ...],
        at: Origin,
    ) -> None:
        """Report one pydantic error at the value's origin (the object's for a missing
        property)."""
        loc = err["loc"]
        prop = str(loc[0]) if loc else ""  # none: about the object as a whole
        node = given.get(prop) if prop else None
        full: tuple[PathKey, ...] = (*path, prop) if prop else path
        problem = (err.get("ctx") or {}).get("error")
        if isinstance(problem, ValueProblem) and problem.index is not None:
            loc = (*loc, _blamed(problem, node))  # an item of a list the validator blames
        for part in loc[1:]:
            sub = node.get(part) if node is not None and isinstance(part, (int, str)) else None
            if sub is None:
                break
            node, full = sub, (*full, part)
        field = info.model().model_fields.get(prop)
        if err["type"] == "missing":
            msg = f"required property {prop!r} of {info.name} is not set"
            hint = f"set it in a file or with +{format_path(full)}=..." + (
                f" ({field.description})" if field and field.description else ""
            )
            self.error(msg, "E404", at, full, hint)
            return
        message, how = describe(err, field, info.units.get(prop))
        self.error(message, "E405", node.origin if node else at, full, how)


def _misplaced(
    unknown: dict[str, Node], entries: dict[str, Node]
) -> list[tuple[str, Node, str | None]]:
    """The unknown keys of one map, each with the key it belongs under when it looks
    unindented: it follows, in the same file, a key of the map written with no value and
    no other key of the map comes between (``ram:`` then ``size: 1GiB`` at column 0; keys
    of one block map share their column, so these were meant one level deeper). The
    empty key itself is explained by the keys after it (its owner is itself); the others
    have None."""
    owners: dict[str, str] = {}
    placed = sorted(
        ((n.origin.line, n.origin.col, k) for k, n in entries.items() if n.origin.line),
    )
    empty: str | None = None
    for _, _, key in placed:
        child = entries[key]
        if key not in unknown:
            empty = None
        elif child.value is None and child.op is None:
            empty = key
        elif (
            empty is not None
            and child.origin.source == entries[empty].origin.source
            and not isinstance(child.value, dict)
        ):
            owners[key] = owners[empty] = empty
        else:
            empty = None
    return [(key, child, owners.get(key)) for key, child in unknown.items()]


_TIER = {kind: i for i, kind in enumerate(LayerKind)}


def _blamed(problem: ValueProblem, items: Node | None) -> int:
    """The item of a list to locate ``problem`` at: its index, or the item in conflict
    with it when a higher layer set that one."""
    assert problem.index is not None
    if problem.other is None or items is None:
        return problem.index
    a, b = items.get(problem.index), items.get(problem.other)
    if a is None or b is None:
        return problem.index
    later = _TIER[b.origin.source.kind] > _TIER[a.origin.source.kind]
    return problem.other if later else problem.index


def _is_union_branch(loc: tuple[int | str, ...]) -> bool:
    return len(loc) > 1 and isinstance(loc[1], str) and ("[" in loc[1] or loc[1] in ("str", "int"))


def _canonical(value: Any, origin: Origin, src: Node | None) -> Node:
    if isinstance(value, list):
        items = src.value if src is not None and isinstance(src.value, list) else None
        return Node(
            [
                _canonical(v, items[i].origin if items and i < len(items) else origin, None)
                for i, v in enumerate(value)
            ],
            origin,
        )
    if isinstance(value, dict):
        return Node({k: _canonical(v, origin, None) for k, v in value.items()}, origin)
    return Node(value, origin)
