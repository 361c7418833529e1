"""``--set`` arguments: grammar and application to the merged document.

=====================  ==========================================================
``path=value``          override a key that exists (set by a layer, or a property
                        the object's type declares); a typo is an error
``+path=value``         add a key that does not exist yet (intermediate maps too)
``++path=value``        add or override
``~path``               delete a key or an object
``path+=value``         append to a list (a list value appends all its items)
=====================  ==========================================================

Paths are dotted names with ``[i]`` list indices; quote names that contain dots
(``soc."uart.0".baud``). A value starting with ``[``, ``{``, a quote or ``!`` is read as
YAML flow (``[i, m, a]``, ``{type: pl011}``, ``!replace {...}``); anything else is the
literal text, converted by the property's type at validation (``1GHz``, ``0x1000``,
``1.10`` stays ``1.10`` for a string). ``null`` alone is null.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from enum import Enum

from qconf.config.copies import copies
from qconf.config.merge import merge
from qconf.config.node import Node, Op, PathKey, format_path
from qconf.config.origin import LayerKind, Origin, Source
from qconf.config.paths import PathSyntaxError, scan_path
from qconf.config.yaml_source import load_yaml
from qconf.errors import OverrideError, QconfError

__all__ = ("Action", "Declared", "Open", "Override", "is_open", "parse_override")

Declared = Callable[[str], Collection[str] | None]
"""The property names of a type (None if unknown), for the checks of ``--set`` paths."""


class Open(frozenset[str]):
    """The declared keys of a component type: its parameters, and also any name, because
    its instances hold the children it expands to (checked once it is expanded)."""

    def __contains__(self, key: object) -> bool:
        return True


def is_open(declared: Declared | None, node: Node) -> bool:
    """Whether ``node`` is an instance of a component type."""
    return isinstance(_declared_keys(node, declared), Open)


"""Type name -> the property names it declares (None for an unknown type)."""

GRAMMAR = (
    "path=value (override), +path=value (add), ++path=value (add or override), "
    "~path (delete), path+=value (append to a list)"
)


class Action(Enum):
    ASSIGN = "="
    ADD = "+"
    UPSERT = "++"
    DELETE = "~"
    APPEND = "+="


@dataclass(frozen=True)
class Override:
    """One parsed ``--set`` argument; it is a layer of its own."""

    index: int
    text: str
    action: Action
    path: tuple[PathKey, ...]
    value: Node | None
    kind: LayerKind = LayerKind.SET
    label: str | None = None  # who set it, when not the command line (``qmp client 1 ...``)

    @property
    def name(self) -> str:
        return self.label or f"--set #{self.index}"

    @property
    def origin(self) -> Origin:
        return Origin(_source(self.index, self.text, self.kind, self.label))

    def apply(self, state: Node, declared: Declared | None) -> Node:
        """The document with this override applied (``state`` is not mutated).

        :raises OverrideError: the path does not exist (with did-you-mean), already exists
            for ``+``, crosses a scalar, or a list index is out of range.
        """
        made = copies(state)
        return self._apply(state, 0, declared, False, made)

    def _apply(
        self,
        node: Node,
        depth: int,
        declared: Declared | None,
        inside: bool,
        made: Collection[tuple[PathKey, ...]] = (),
    ) -> Node:
        # inside a component instance, keys may name children it has not expanded yet:
        # what is missing here is recorded as a partial override (or a marker), and checked
        # when the instance is expanded; so inside a CPU the machine's smp copies later
        inside = inside or is_open(declared, node)
        key = self.path[depth]
        last = depth == len(self.path) - 1
        child = node.get(key)
        if isinstance(key, int) and not isinstance(node.value, list):
            self._fail(depth, "is not a list", node)
        if isinstance(key, str) and not isinstance(node.value, dict):
            self._fail(depth, f"is {_kind(node)}, not a map", node)
        if not last:
            copy = tuple(self.path[: depth + 1]) in made  # checked once smp made it
            if child is None:
                if self.action not in (Action.ADD, Action.UPSERT) and not inside and not copy:
                    self._missing(depth, node, declared)
                child = Node({}, self.origin)
            elif not isinstance(child.value, (dict, list)):
                self._fail(depth, f"is {_kind(child)}; there is nothing below it", child)
            below = self._apply(child, depth + 1, declared, inside or copy, made)
            return _replace(node, key, below)
        return self._apply_last(node, key, child, declared, inside)

    def _apply_last(
        self,
        node: Node,
        key: PathKey,
        child: Node | None,
        declared: Declared | None,
        inside: bool,
    ) -> Node:
        action = self.action
        declared_here = isinstance(key, str) and (inside or key in _declared_keys(node, declared))
        if inside and action is Action.DELETE:
            # the expansion may make it too: keep a marker (True: it deleted a lower
            # layer's value already, so finding nothing in the expansion is no error)
            done = child is not None and child.op is not Op.DELETE
            return _replace(node, key, Node(True if done else None, self.origin, Op.DELETE))
        if inside and child is None and action is Action.APPEND:
            # a marker for the expansion to resolve
            assert self.value is not None
            items = self.value.value if isinstance(self.value.value, list) else [self.value]
            return _replace(node, key, Node(items, self.value.origin, Op.APPEND))
        if action is Action.DELETE:
            if child is None:
                what = (
                    "has its type's default; there is nothing to delete"
                    if declared_here
                    else "does not exist"
                )
                if declared_here:
                    self._fail(len(self.path) - 1, what, node)
                self._missing(len(self.path) - 1, node, declared, verb="delete")
            return _replace(node, key, None)
        assert self.value is not None
        if action is Action.ADD and child is not None:
            raise self._error(
                f"already exists (set at {child.origin.where()})",
                hint=f"to override it use {format_path(self.path)}=..., "
                f"or ++{format_path(self.path)}=... to add or override",
            )
        if action is Action.ASSIGN and child is None and not declared_here:
            if isinstance(key, int):
                self._fail(len(self.path) - 1, "list index out of range", node)
            self._missing(len(self.path) - 1, node, declared)
        if (
            isinstance(key, int)
            and child is None
            and not (action in (Action.ADD, Action.UPSERT) and key == len(node.value))
        ):
            self._fail(
                len(self.path) - 1,
                f"list index out of range (the list has {len(node.value)} items)",
                node,
            )
        if action is Action.APPEND:
            items = self.value.value if isinstance(self.value.value, list) else [self.value]
            if child is not None and not isinstance(child.value, list):
                raise self._error(
                    f"is {_kind(child)}, not a list; += appends to lists",
                    hint=f"to replace it use {format_path(self.path)}=...",
                )
            base = child.value if child is not None else []
            return _replace(node, key, Node(base + items, self.value.origin))
        try:
            # inside a component instance, markers stay for the expansion to resolve
            new = merge(child, self.value, strict=not inside)
        except QconfError as exc:
            raise self._error(exc.message, hint=exc.hint) from None
        return _replace(node, key, new)

    def _missing(
        self, depth: int, node: Node, declared: Declared | None, verb: str = "set"
    ) -> None:
        key = self.path[depth]
        keys = sorted(
            set(node.value) | set(_declared_keys(node, declared))
            if isinstance(node.value, dict)
            else ()
        )
        close = difflib.get_close_matches(str(key), keys, n=3, cutoff=0.6)
        where = format_path(self.path[:depth]) or "the machine"
        hint = []
        if close:
            hint.append("did you mean " + " or ".join(f"'{c}'" for c in close) + "?")
        if verb == "set":
            hint.append(f"to add a new key use +{format_path(self.path)}=...")
        if keys and not close:
            hint.append("keys here: " + ", ".join(keys[:20]) + (" ..." if len(keys) > 20 else ""))
        raise OverrideError(
            f"no key {key!r} in {where}",
            code="E302",
            origin=self.origin,
            path=format_path(self.path),
            hint="\n".join(hint) or None,
        )

    def _fail(self, depth: int, what: str, node: Node) -> None:
        raise OverrideError(
            f"{format_path(self.path[: depth + 1])} {what}",
            code="E303",
            origin=self.origin,
            path=format_path(self.path),
        )

    def _error(self, message: str, hint: str | None = None) -> OverrideError:
        return OverrideError(
            message, code="E304", origin=self.origin, path=format_path(self.path), hint=hint
        )


def _source(
    index: int, text: str, kind: LayerKind = LayerKind.SET, label: str | None = None
) -> Source:
    name = label or f"--set #{index}"
    shown = text if len(text) <= 120 else text[:100] + f"... ({len(text):,} characters)"
    return Source(f"{name} '{shown}'", layer=name, kind=kind)


def _kind(node: Node) -> str:
    if isinstance(node.value, dict):
        return "a map"
    if isinstance(node.value, list):
        return "a list"
    return f"the scalar {node.value!r}"


def _declared_keys(node: Node, declared: Declared | None) -> Collection[str]:
    if declared is None or not isinstance(node.value, dict):
        return ()
    t = node.value.get("type")
    type_name = t.value if t is not None and isinstance(t.value, str) else None
    if type_name is None:
        return ()
    return declared(type_name) or ()


def _replace(node: Node, key: PathKey, child: Node | None) -> Node:
    if isinstance(node.value, dict):
        new_map = dict(node.value)
        if child is None:
            del new_map[key]
        else:
            new_map[key] = child
        return Node(new_map, node.origin)
    assert isinstance(key, int)
    items = list(node.value)
    if child is None:
        del items[key]
    elif key == len(items):
        items.append(child)
    else:
        items[key] = child
    return Node(items, node.origin)


def parse_override(
    text: str, index: int, kind: LayerKind = LayerKind.SET, label: str | None = None
) -> Override:
    """Parse one ``--set`` argument (``index`` is its 1-based position; ``label`` names
    who set it when it did not come from the command line).

    :raises OverrideError: the argument does not follow the grammar; the message shows
        where and the hint gives the grammar.
    """
    source = _source(index, text, kind, label)
    pos = 0
    if text.startswith("++"):
        action, pos = Action.UPSERT, 2
    elif text.startswith("+"):
        action, pos = Action.ADD, 1
    elif text.startswith("~"):
        action, pos = Action.DELETE, 1
    else:
        action = Action.ASSIGN
    try:
        path, pos = scan_path(text, pos)
    except PathSyntaxError as exc:
        raise OverrideError(
            f"bad path: {exc} (at column {exc.pos + 1})",
            code="E301",
            origin=Origin(source),
            hint=GRAMMAR,
        ) from None
    rest = text[pos:]
    if action is Action.DELETE:
        if rest:
            raise OverrideError(
                "~path deletes and takes no value",
                code="E301",
                origin=Origin(source),
                hint=f"write ~{format_path(path)}",
            )
        return Override(index, text, action, path, None, kind, label)
    if rest.startswith("+="):
        if action is not Action.ASSIGN:
            raise OverrideError(
                "+= cannot be combined with a + or ++ prefix",
                code="E301",
                origin=Origin(source),
                hint=GRAMMAR,
            )
        action, value_text = Action.APPEND, rest[2:]
    elif rest.startswith("="):
        value_text = rest[1:]
    else:
        raise OverrideError("missing '=value'", code="E301", origin=Origin(source), hint=GRAMMAR)
    return Override(index, text, action, path, parse_value(value_text, source), kind, label)


def parse_value(text: str, source: Source) -> Node:
    """A ``--set`` value: YAML flow for ``[``/``{``/quotes/``!``, else the literal text."""
    origin = Origin(source)
    stripped = text.strip()
    if stripped[:1] in ("[", "{", '"', "'", "!"):
        try:
            node = load_yaml(stripped, source)
        except QconfError as exc:
            raise OverrideError(
                f"bad value: {exc.message}",
                code="E301",
                origin=origin,
                hint="write lists as [a, b], maps as {key: value}, and quote text with '...'",
            ) from None
        return _relocate(node, origin)
    if stripped in ("null", "~"):
        return Node(None, origin)
    return Node(text, origin)


def _relocate(node: Node, origin: Origin) -> Node:
    # Values of one argument are all "at" that argument.
    for _, sub in node.walk():
        sub.origin = origin
    return node
