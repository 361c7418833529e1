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
        for key, child in entries.items():
            if key == "type":
                continue
            if info is not None and key in info.prop_names:
                props[key] = child
            elif isinstance(child.value, dict) and "type" in child.value:
                children[key] = child
            elif info is not None:
                self.unknown(key, child, path, info)
        out: dict[str, Node] = {
            "type": tnode if tnode is not None else Node(type_name, node.origin)
        }
        if info is not None:
            out.update(self.properties(info, props, path, node.origin))
        for key, child in children.items():
            out[key] = self.object(child, (*path, key), None)
        return Node(out, node.origin)

    def unknown(self, key: str, child: Node, path: tuple[PathKey, ...], info: TypeInfo) -> None:
        names = sorted(info.prop_names)
        close = difflib.get_close_matches(key, names, n=3, cutoff=0.6)
        hint = ("did you mean " + " or ".join(f"'{c}'" for c in close) + "?\n") if close else ""
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
        for name in info.model().model_fields:
            value = getattr(model, name)
            src = given.get(name)
            if src is None:
                default = default or self.default_origin(info.name)
                out[name] = _canonical(value, default, None)
            else:
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
        for part in loc[1:]:
            sub = node.get(part) if node is not None and isinstance(part, (int, str)) else None
            if sub is None:
                break
            node, full = sub, (*full, part)
        field = info.model().model_fields.get(prop)
        kind = err["type"]
        msg = str(err["msg"])
        hint = None
        if kind == "missing":
            msg = f"required property {prop!r} of {info.name} is not set"
            hint = f"set it in a file or with +{format_path(full)}=..." + (
                f" ({field.description})" if field and field.description else ""
            )
            self.error(msg, "E404", at, full, hint)
            return
        if kind == "value_error":  # a second line is a hint
            msg, _, more = msg.removeprefix("Value error, ").partition("\n")
            hint = more or None
        else:
            shown = err.get("input")
            if not isinstance(shown, (dict, list)):
                msg += f", got {shown!r}"
        unit = info.units.get(prop)
        if kind.startswith(("greater", "less")) and field is not None:
            hint = _allowed_range(field, unit)
        elif unit is not None and unit.name != "address":
            hint = f"write a value in {unit.name}, e.g. {unit.example}"
        elif kind == "string_type":
            hint = "quote the value to make it text"
        self.error(msg, "E405", node.origin if node else at, full, hint)


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


def _allowed_range(field: Any, unit: Any) -> str | None:
    """``allowed: 1 to 7`` from a field's ge/gt/le/lt constraints."""
    low = high = None
    for item in field.metadata:
        if getattr(item, "ge", None) is not None:
            low = item.ge
        if getattr(item, "gt", None) is not None:
            low = item.gt + 1
        if getattr(item, "le", None) is not None:
            high = item.le
        if getattr(item, "lt", None) is not None:
            high = item.lt - 1

    def show(v: int) -> str:
        return unit.format(v) if unit is not None else str(v)

    if low is not None and high is not None:
        return f"allowed: {show(low)} to {show(high)}"
    if low is not None:
        return f"allowed: at least {show(low)}"
    if high is not None:
        return f"allowed: at most {show(high)}"
    return None
