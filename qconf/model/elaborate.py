"""Expand component instances into the objects their templates describe.

For each object whose type is a component (:mod:`qconf.model.composite`), in document
order, outermost first:

1. its parameters are read (defaults filled in) and bound as names for expressions;
2. the template's children are copied, with every ``${expr}`` evaluated and every
   replicated key expanded: ``cpu[0..3]`` (inclusive range) or ``cpu[4]`` (a count, from
   0) gives ``cpu0`` .. ``cpu3``, with the index bound to ``i`` (an inner loop's ``i``
   hides an outer one); bounds may be expressions (``cpu[0..${harts - 1}]``);
3. what the layers wrote under the instance besides parameters is merged over the
   expansion, as a layer above it: overrides of the components' properties, additions,
   and ``$delete`` markers;
4. the expanded children are elaborated in turn (components nest; a component that
   contains itself is an error showing the chain).

Expanded values keep the position in the component's file where they were written.
"""

from __future__ import annotations

import re

import pydantic

from qconf.config import limits
from qconf.config.merge import merge
from qconf.config.node import Node, PathKey, format_path, to_plain
from qconf.config.overrides import is_open
from qconf.errors import LayerError, QconfError, ValidationError
from qconf.model.composite import CompositeDef
from qconf.model.expr import ExprError, interpolate
from qconf.model.registry import TypeRegistry

__all__ = ("elaborate",)

MAX_NESTING = 16
_REPLICA_RE = re.compile(r"^(?P<prefix>[A-Za-z_][A-Za-z0-9_-]*)\[(?P<range>.+)\]$")
_RANGE_RE = re.compile(r"^\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*$")
MAX_REPLICAS = 100_000


def elaborate(tree: Node, registry: TypeRegistry) -> tuple[Node, list[QconfError]]:
    """``tree`` with every component instance expanded, and the errors found.

    An instance whose parameters do not validate is left as it is: validation reports
    those errors with their locations.
    """
    errors: list[QconfError] = []
    return _Elaborator(registry, errors).object(tree, (), ()), errors


class _Elaborator:
    def __init__(self, registry: TypeRegistry, errors: list[QconfError]) -> None:
        self.registry = registry
        self.errors = errors
        self.made = limits.expanded_nodes()
        self.objects = limits.objects()

    def object(self, node: Node, path: tuple[PathKey, ...], stack: tuple[str, ...]) -> Node:
        self.objects.spend(1, node.origin, format_path(path) or None)
        tnode = node.value.get("type")
        info = self.registry.find(tnode.value) if tnode and isinstance(tnode.value, str) else None
        if info is not None and info.composite is not None:
            expanded = self.instance(node, info.composite, path, stack)
            if expanded is None:
                # reported; keep only what validation can check without the expansion
                params = info.prop_names
                return Node({k: v for k, v in node.value.items() if k == "type" or k in params},
                            node.origin, node.op)  # fmt: skip
            node, stack = expanded, (*stack, info.name)
        out: dict[str, Node] = {}
        changed = False
        for key, child in node.value.items():
            if key != "type" and isinstance(child.value, dict) and "type" in child.value:
                new = self.object(child, (*path, key), stack)
                changed = changed or new is not child
                out[key] = new
            else:
                out[key] = child
        return Node(out, node.origin, node.op) if changed else node

    def instance(
        self, node: Node, comp: CompositeDef, path: tuple[PathKey, ...], stack: tuple[str, ...]
    ) -> Node | None:
        if comp.name in stack:
            chain = " -> ".join((*stack[stack.index(comp.name) :], comp.name))
            self.errors.append(LayerError(
                f"component {comp.name!r} contains itself: {chain}", code="E231",
                origin=node.value["type"].origin, path=format_path(path) or None,
                hint="a component cannot be among its own children, directly or not",
            ))  # fmt: skip
            return None
        if len(stack) >= MAX_NESTING:
            self.errors.append(LayerError(
                f"components nested deeper than {MAX_NESTING}: " + " -> ".join(stack),
                code="E231", origin=node.origin, path=format_path(path) or None,
            ))  # fmt: skip
            return None
        params = {k: v for k, v in node.value.items() if k in comp.props.model_fields}
        try:
            model = comp.props.model_validate({k: to_plain(v) for k, v in params.items()})
        except pydantic.ValidationError:
            return None  # validation reports it, located
        env: dict[str, int | str | bool] = {}
        for name in comp.props.model_fields:
            value = getattr(model, name)
            if isinstance(value, (int, str, bool)):
                env[name] = value
        try:
            children = self.expand_map(comp.children, env, path)
        except QconfError as exc:
            if self.made.left < 0:  # out of budget: stop here, not at every instance
                raise
            self.errors.append(exc)
            return None
        overrides = {k: v for k, v in node.value.items() if k not in params and k != "type"}
        base = Node(children, comp.children.origin)
        try:
            # strict, except below nested instances: those resolve their markers when
            # they are expanded in turn
            merged = merge(base, Node(overrides, node.origin), strict=True,
                           is_open=lambda n: is_open(self.registry.declared, n))  # fmt: skip
        except LayerError as exc:
            exc.path = format_path(path) + (("." + exc.path) if exc.path else "")
            if exc.path.count(".") == len(path):  # about a child of the instance itself
                made = ", ".join(children) or "nothing"
                exc.hint = f"{exc.hint or ''}\ncomponent {comp.name} makes: {made}".strip()
            self.errors.append(exc)
            return None
        assert merged is not None
        return Node({"type": node.value["type"], **params, **merged.value}, node.origin, node.op)

    def expand_map(
        self, template: Node, env: dict[str, int | str | bool], path: tuple[PathKey, ...]
    ) -> dict[str, Node]:
        out: dict[str, Node] = {}
        for key, value in template.value.items():
            m = _REPLICA_RE.match(key)
            if m is None:
                name = _text(key, env, value, path)
                self.add(out, name, self.expand(value, env, (*path, name)), value, path)
                continue
            span = _text(m["range"], env, value, path)
            start, stop = _bounds(span, key, value, path)
            for i in range(start, stop):
                name = f"{m['prefix']}{i}"
                inner = {**env, "i": i}
                self.add(out, name, self.expand(value, inner, (*path, name)), value, path)
        return out

    @staticmethod
    def add(
        out: dict[str, Node], name: str, node: Node, at: Node, path: tuple[PathKey, ...]
    ) -> None:
        if name in out:
            raise LayerError(
                f"the template makes two children called {name!r}", code="E232",
                origin=at.origin, path=format_path((*path, name)),
                hint="replicated names are PREFIX + index; rename one of them",
            )  # fmt: skip
        out[name] = node

    def expand(
        self, node: Node, env: dict[str, int | str | bool], path: tuple[PathKey, ...]
    ) -> Node:
        value = node.value
        # each node made, and each key of a map: nested replication multiplies
        self.made.spend(1 + len(value) if isinstance(value, dict) else 1, node.origin,
                        format_path(path) or None)  # fmt: skip
        if isinstance(value, str) and "${" in value:
            return Node(_evaluate(value, env, node, path), node.origin, node.op)
        if isinstance(value, dict):
            return Node(self.expand_map(node, env, path), node.origin, node.op)
        if isinstance(value, list):
            return Node([self.expand(item, env, path) for item in value], node.origin, node.op)
        return node


def _evaluate(
    text: str, env: dict[str, int | str | bool], node: Node, path: tuple[PathKey, ...]
) -> int | str | bool:
    try:
        return interpolate(text, env)
    except ExprError as exc:
        names = ", ".join(sorted(env))
        raise ValidationError(
            f"in {text!r} at column {exc.column + 1}: {exc.message}",
            code="E420", origin=node.origin, path=format_path(path) or None,
            hint=exc.hint or f"names here: {names}",
        ) from None  # fmt: skip


def _text(text: str, env: dict[str, int | str | bool], node: Node,
          path: tuple[PathKey, ...]) -> str:  # fmt: skip
    if "${" not in text:
        return text
    value = _evaluate(text, env, node, path)
    return str(value).lower() if isinstance(value, bool) else str(value)


def _bounds(span: str, key: str, node: Node, path: tuple[PathKey, ...]) -> tuple[int, int]:
    m = _RANGE_RE.match(span)
    if m is not None:
        start, stop = int(m[1]), int(m[2]) + 1
    elif span.strip().isdigit():
        start, stop = 0, int(span)
    else:
        raise LayerError(
            f"bad replication {key!r}: expected [FIRST..LAST] or [COUNT], got [{span}]",
            code="E233", origin=node.origin, path=format_path(path) or None,
            hint="e.g. cpu[0..3] or cpu[${harts}] for cpu0..cpu3",
        )  # fmt: skip
    if stop - start > MAX_REPLICAS:
        raise LayerError(f"{key!r} makes more than {MAX_REPLICAS} children", code="E233",
                         origin=node.origin, path=format_path(path) or None)  # fmt: skip
    return start, stop
