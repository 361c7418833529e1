"""``qconf explain``: where a value comes from, layer by layer (Nix's "Defined by:")."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from qconf.config.layers import empty_document
from qconf.config.node import Node, PathKey, format_path, to_plain
from qconf.config.origin import Origin
from qconf.errors import OverrideError
from qconf.model.document import Document, is_object
from qconf.model.smp import copy_of

__all__ = ("Explanation", "Step", "explain")


@dataclass(frozen=True)
class Step:
    """What one layer did at the path: set a value (``value``) or deleted it."""

    layer: str
    origin: Origin
    value: Any
    deleted: bool = False


@dataclass(frozen=True)
class Explanation:
    path: tuple[PathKey, ...]
    value: Any
    pretty: Any
    origin: Origin
    type_name: str | None
    prop: str | None
    unit: str | None
    description: str | None
    steps: tuple[Step, ...]
    default: Any
    members: tuple[tuple[str, Any, Origin], ...] = ()

    def lines(self) -> list[str]:
        name = format_path(self.path) or "(machine)"
        out = []
        deleted = self.value is None and bool(self.steps) and self.steps[0].deleted
        if self.members:
            out.append(
                f"{name}: object of type {self.type_name} (defined at {self.origin.where()})"
            )
            width = max(len(k) for k, _, _ in self.members)
            out.extend(f"  {k:<{width}} = {_show(v):<14} {o.where()}" for k, v, o in self.members)
            return out
        kind = f"  ({self.type_name}.{self.prop}" + (f", {self.unit}" if self.unit else "") + ")"
        if deleted:
            out.append(f"{name} is deleted")
        else:
            out.append(f"{name} = {_show(self.pretty)}{kind if self.prop else ''}")
        if self.description:
            out.append(f"  {self.description}")
        for i, step in enumerate(self.steps):
            value = "(deleted)" if step.deleted else _show(step.value)
            mark = "  <- wins" if i == 0 and not step.deleted else ""
            out.append(f"  {value:<14} {step.origin.where()}  [{step.layer}]{mark}")
        if self.default is not _NO_DEFAULT:
            mark = "  <- wins" if not self.steps or self.steps[0].deleted else ""
            out.append(
                f"  {_show(self.default):<14} default of {self.type_name}  [type defaults]{mark}"
            )
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "path": format_path(self.path), "value": self.value, "display": self.pretty,
            "type": self.type_name, "property": self.prop, "unit": self.unit,
            "where": self.origin.where(), "layer": self.origin.source.layer,
            "chain": [{"layer": s.layer, "where": s.origin.where(), "value": s.value,
                       "deleted": s.deleted} for s in self.steps],
            "default": None if self.default is _NO_DEFAULT else self.default,
            "members": {k: {"value": v, "where": o.where()} for k, v, o in self.members},
        }  # fmt: skip


_NO_DEFAULT: Any = object()


def _show(value: Any) -> str:
    if isinstance(value, dict):
        t = value.get("type")
        return f"(object of type {t})" if t else "(map)"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def explain(doc: Document, path: tuple[PathKey, ...]) -> Explanation:
    """The value at ``path`` and each layer's contribution, highest first.

    :raises OverrideError: no such path (with the closest existing keys).
    """
    node = doc.lookup(path)
    if node is None:
        steps = _history(doc, path)
        if not steps:
            raise _missing(doc, path)
        return Explanation(
            path, None, None, steps[0].origin, None, None, None, None, tuple(steps), _NO_DEFAULT
        )
    owner_path, owner = doc.owner(path) if path else ((), doc.tree)
    info = doc.type_of(owner)
    if is_object(node):
        oinfo = doc.type_of(node)
        members = tuple(
            (
                k,
                to_plain(c) if not isinstance(c.value, int) else doc.pretty((*path, k), c.value),
                c.origin,
            )
            for k, c in node.value.items()
            if k != "type" and not is_object(c)
        )
        return Explanation(
            path,
            to_plain(node),
            None,
            node.origin,
            oinfo.name if oinfo else None,
            None,
            None,
            None,
            (),
            _NO_DEFAULT,
            members,
        )
    steps = _history(doc, path)
    template = copy_of(doc.tree, path)
    if template is not None and not steps:  # a copy of smp's template: its history
        smp = doc.tree.get("smp")
        if smp is not None and node.origin == smp.origin:  # an id smp derived
            steps = [Step("smp: this copy's id", smp.origin, doc.pretty(path, to_plain(node)))]
        else:
            copied = f"copied by smp from {format_path(template)}"
            steps = [Step(f"{s.layer}, {copied}", s.origin, s.value, s.deleted)
                     for s in _history(doc, template)]  # fmt: skip
    layer = node.origin.source.layer or ""
    if layer.startswith("component ") and (not steps or steps[0].origin != node.origin):
        # made by a component's template when its instance was expanded, after the layers
        steps.insert(0, Step(layer, node.origin, doc.pretty(path, to_plain(node))))
    prop = str(path[-1]) if info is not None and len(path) == len(owner_path) + 1 else None
    default = _NO_DEFAULT
    unit = description = None
    if info is not None and prop is not None and prop in info.model().model_fields:
        field = info.model().model_fields[prop]
        if not field.is_required():
            raw = field.get_default(call_default_factory=True)
            default = info.format(prop, raw)
        unit = info.units[prop].name if prop in info.units else None
        description = field.description
    return Explanation(
        path,
        to_plain(node),
        doc.pretty(path, to_plain(node)),
        node.origin,
        info.name if info else None,
        prop,
        unit,
        description,
        tuple(steps),
        default,
    )


def _history(doc: Document, path: tuple[PathKey, ...]) -> list[Step]:
    """Replay the layers; each one that changed the node at ``path``, highest first."""
    steps: list[Step] = []
    state = empty_document()
    declared = doc.registry.declared
    for layer in doc.layers:
        new = layer.apply(state, declared)
        before, after = state.lookup(path), new.lookup(path)
        if after is not before:
            if after is None:
                steps.append(Step(layer.name, _deleted_at(layer, path, before), None, True))
            else:
                steps.append(Step(layer.name, after.origin, to_plain(after)))
        state = new
    steps.reverse()
    return steps


def _deleted_at(layer: Any, path: tuple[PathKey, ...], before: Node | None) -> Origin:
    """Where ``layer`` deleted ``path``: its marker on the path, or the ``--set``."""
    origin = getattr(layer, "origin", None)
    if isinstance(origin, Origin):
        return origin
    tree = getattr(layer, "tree", None)
    if isinstance(tree, Node):
        for depth in range(len(path), 0, -1):
            marker = tree.lookup(path[:depth])
            if marker is not None:
                return marker.origin
        return tree.origin
    assert before is not None
    return before.origin


def _missing(doc: Document, path: tuple[PathKey, ...]) -> OverrideError:
    node = doc.tree
    for depth, key in enumerate(path):
        nxt = node.get(key)
        if nxt is None:
            keys = sorted(node.value) if isinstance(node.value, dict) else []
            close = difflib.get_close_matches(str(key), keys, n=3, cutoff=0.6)
            where = format_path(path[:depth]) or "the machine"
            hint = (
                (
                    "did you mean "
                    + " or ".join(f"'{format_path((*path[:depth], c))}'" for c in close)
                    + "?"
                )
                if close
                else ("keys there: " + ", ".join(keys[:30]))
            )
            return OverrideError(
                f"no key {key!r} in {where}", code="E305", path=format_path(path), hint=hint
            )
        node = nxt
    raise AssertionError("unreachable")  # pragma: no cover
