"""Read YAML into a :class:`Node` tree with positions, fast and without object construction.

PyYAML's libyaml-backed composer builds a node graph that keeps every line and column
(measured on the benchmark input it is >10x faster than ruamel.yaml's round-trip loader);
we walk that graph ourselves: no constructor runs, so no tag can build a Python object.
Plain scalars stay the text as written; the property type converts it at validation.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import yaml

from qconf.config.limits import Budget
from qconf.config.markers import TAGS, build_map, mark
from qconf.config.node import Node
from qconf.config.origin import Origin, Source
from qconf.errors import SourceError

__all__ = ("MAX_DEPTH", "load_yaml")

MAX_DEPTH = 100
ALIAS_BUDGET = 500_000
_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
_STD = "tag:yaml.org,2002:"
_ALLOWED_STD = frozenset(
    _STD + t for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp",
                       "merge", "value")
)  # fmt: skip
_MERGE = _STD + "merge"
_STR, _SEQ, _MAP = _STD + "str", _STD + "seq", _STD + "map"

_Base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _TooMany(Exception):
    """Internal: the composer made more nodes than the budget allows."""


class _Loader(_Base):  # type: ignore[misc]
    """The composer without implicit type resolution (scalars stay text; the schema
    types them), except the ``<<`` merge key. It counts the nodes it makes and stops at
    ``limit``: a large file costs no more than the limit allows, even before conversion."""

    yaml_implicit_resolvers: ClassVar[dict[str, list[tuple[str, re.Pattern[str]]]]] = {
        "<": [(_MERGE, re.compile(r"^(?:<<)$"))]
    }
    limit = -1
    made = 0

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: Any) -> str:
        self.made += 1
        if self.made > self.limit >= 0:
            raise _TooMany
        if kind is yaml.ScalarNode:
            return _MERGE if implicit[0] and value == "<<" else _STR
        return _SEQ if kind is yaml.SequenceNode else _MAP


def _compose(text: str, limit: int) -> yaml.Node | None:
    loader = _Loader(text)
    loader.limit = limit
    try:
        return loader.get_single_node()  # type: ignore[no-any-return]
    except _TooMany:
        try:  # where the composer stopped, if it can tell
            mark_ = loader.peek_event().start_mark if loader.check_event() else None
        except yaml.YAMLError:
            mark_ = None
        raise _TooMany(mark_) from None
    finally:
        loader.dispose()


def load_yaml(text: str, source: Source, nodes: Budget | None = None) -> Node:
    """Parse ``text`` (one YAML document) into a Node tree; an empty document is ``{}``.

    :param nodes: the nodes still allowed; each node of the tree (an alias counts as
        what it expands to) is spent from it.
    :raises SourceError: syntax error, duplicate key, unknown tag, nesting deeper than
        :data:`MAX_DEPTH`, recursive or explosively expanding aliases, or more nodes
        than ``nodes`` has.
    """
    try:
        root = _compose(text, nodes.left if nodes is not None else -1)
    except _TooMany as exc:
        assert nodes is not None
        mark_ = exc.args[0] if exc.args else None
        at = Origin(source, mark_.line + 1, mark_.column + 1) if mark_ else Origin(source)
        raise nodes.exceeded(at) from None
    except RecursionError:
        raise SourceError(
            "YAML nesting too deep",
            code="E104",
            origin=Origin(source),
            hint=f"machine documents nest at most {MAX_DEPTH} levels",
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark_ = exc.problem_mark or exc.context_mark
        origin = Origin(source, mark_.line + 1, mark_.column + 1) if mark_ else Origin(source)
        problem = exc.problem or "invalid YAML"
        if "maximum nesting depth" in problem:
            raise SourceError(
                f"YAML nesting too deep ({problem})",
                code="E104",
                origin=origin,
                hint=f"machine documents nest at most {MAX_DEPTH} levels",
            ) from None
        if "expected a single document" in (exc.context or ""):
            raise SourceError(
                "several YAML documents in one file",
                code="E103",
                origin=origin,
                hint="put one machine document per file; remove the '---' separators",
            ) from None
        indented = _over_indented(problem, text, mark_)
        if indented is not None:
            raise SourceError(
                f"YAML syntax error: {indented[0]}", code="E102", origin=origin, hint=indented[1]
            ) from None
        context = f" ({exc.context})" if exc.context else ""
        cm = exc.context_mark
        if (
            cm is not None
            and mark_ is not None
            and (cm.line, cm.column)
            != (
                mark_.line,
                mark_.column,
            )
        ):
            context = f" ({exc.context} started at line {cm.line + 1}, column {cm.column + 1})"
        raise SourceError(
            f"YAML syntax error: {problem}{context}",
            code="E102",
            origin=origin,
            hint=_syntax_hint(problem, text, mark_),
        ) from None
    except yaml.YAMLError as exc:
        raise SourceError(f"YAML error: {exc}", code="E102", origin=Origin(source)) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise SourceError(f"cannot read YAML: {exc}", code="E101", origin=Origin(source)) from None
    if root is None:
        return Node({}, Origin(source, 1, 1))
    return _Converter(source, nodes).convert(root, 0)


def _shown(tag: str) -> str:
    return "!!" + tag[len(_STD) :] if tag.startswith(_STD) else tag


_KEY_VALUE = re.compile(r"^(\s*)(?:- )?([^\s#:'\"][^#:]*?|'[^']*'|\"[^\"]*\"):[ \t]+([^\s#].*)$")
_KEY = re.compile(r"^(\s*)(?:- )?([^\s#:'\"][^#:]*?|'[^']*'|\"[^\"]*\"):(?:[ \t]|$)")


def _over_indented(problem: str, text: str, mark: yaml.Mark | None) -> tuple[str, str] | None:
    """When ``mapping values are not allowed`` comes from a key indented deeper than the
    key above it, which has a value (``  freq: 1GHz`` then ``   firmware: x.elf``): what
    to say and how to fix it."""
    if mark is None or "mapping values are not allowed" not in problem:
        return None
    lines = text.splitlines()
    if not 0 <= mark.line < len(lines):
        return None
    here = _KEY.match(lines[mark.line])
    if here is None:
        return None
    for above in reversed(lines[: mark.line]):
        if not above.strip() or above.lstrip().startswith("#"):
            continue
        prev = _KEY_VALUE.match(above)
        if prev is None or len(prev.group(1)) >= len(here.group(1)):
            return None
        key, owner = here.group(2).strip(), prev.group(2).strip()
        return (
            f"{key!r} is indented more than {owner!r} on the line above, which already has a value",
            f"indent '{key}:' like '{owner}:' ({len(prev.group(1))} spaces); a key with a "
            "value cannot also hold keys",
        )
    return None


def _syntax_hint(problem: str, text: str, mark: yaml.Mark | None) -> str | None:
    if mark is not None and 0 <= mark.index < len(text) and text[mark.index] == "\t":
        return "YAML indents with spaces, not tabs"
    if "mapping values are not allowed" in problem:
        return "a ':' inside a plain value starts a new key; quote the value"
    if "found character '\\t'" in problem or "tab" in problem:
        return "YAML indents with spaces, not tabs"
    if "could not find expected ':'" in problem:
        return "each entry of a map is `key: value`"
    return None


class _Converter:
    def __init__(self, source: Source, nodes: Budget | None) -> None:
        self.source = source
        self.nodes = nodes
        self.active: set[int] = set()
        self.seen: set[int] = set()
        self.alias_depth = 0
        self.alias_nodes = 0

    def origin(self, node: yaml.Node) -> Origin:
        m = node.start_mark
        return Origin(self.source, m.line + 1, m.column + 1)

    def alias_bomb(self, node: yaml.Node, limit: str) -> SourceError:
        hint = "this looks like an alias bomb; write the values out, or share them with "
        hint += "extends/include"
        if self.nodes is not None and limit.startswith("the limit"):
            hint += "\n" + self.nodes.limit.hint()
        return SourceError(
            f"YAML aliases expand to more than {limit} nodes",
            code="E106",
            origin=self.origin(node),
            hint=hint,
        )

    def convert(self, node: yaml.Node, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise SourceError(
                f"nesting deeper than {MAX_DEPTH} levels",
                code="E104",
                origin=self.origin(node),
                hint="machine documents need a few levels; check for runaway structure",
            )
        tag = node.tag
        if self.nodes is not None:  # the node, and the keys of a map
            self.nodes.left -= 1 + len(node.value) if isinstance(node, yaml.MappingNode) else 1
            if self.nodes.left < 0:
                if self.alias_depth:
                    raise self.alias_bomb(node, f"the limit of {self.nodes.total:,}")
                raise self.nodes.exceeded(self.origin(node))
        if self.alias_depth:
            self.alias_nodes += 1
            if self.alias_nodes > ALIAS_BUDGET:
                raise self.alias_bomb(node, f"{ALIAS_BUDGET:,}")
        if isinstance(node, yaml.ScalarNode):
            value = node.value
            origin = self.origin(node)
            # plain style is None (pure-Python parser) or "" (libyaml)
            out = Node(None if not node.style and value in _NULLS else value, origin)
        else:
            key = id(node)
            if key in self.active:
                raise SourceError(
                    "recursive YAML alias",
                    code="E106",
                    origin=self.origin(node),
                    hint="an anchor cannot contain an alias to itself",
                )
            aliased = key in self.seen
            self.seen.add(key)
            self.active.add(key)
            self.alias_depth += aliased
            try:
                if isinstance(node, yaml.SequenceNode):
                    out = Node(
                        [self.convert(item, depth + 1) for item in node.value], self.origin(node)
                    )
                else:
                    assert isinstance(node, yaml.MappingNode)
                    out = build_map(self.entries(node, depth), self.origin(node))
            finally:
                self.alias_depth -= aliased
                self.active.discard(key)
        if tag[:1] == "!" and tag in TAGS:
            return mark(out, tag)
        if tag not in _ALLOWED_STD:
            raise SourceError(
                f"YAML tag {_shown(tag)!r} is not allowed",
                code="E107",
                origin=self.origin(node),
                hint="qconf never constructs objects from tags; the only tags are "
                "!delete, !replace, !append and !prepend",
            )
        return out

    def entries(self, node: yaml.MappingNode, depth: int) -> list[tuple[str, Node]]:
        entries: dict[str, tuple[yaml.Node, Node]] = {}
        merged: dict[str, Node] = {}
        for knode, vnode in node.value:
            if not isinstance(knode, yaml.ScalarNode):
                raise SourceError(
                    "map keys must be plain names",
                    code="E108",
                    origin=self.origin(knode),
                    hint="use a name (a string) as the key",
                )
            if knode.tag not in (_STR, _MERGE):
                raise SourceError(
                    f"a map key cannot carry a tag ({_shown(knode.tag)} on {knode.value!r})",
                    code="E107",
                    origin=self.origin(knode),
                    hint="tags mark values (key: !delete); write the key as a plain name",
                )
            if knode.tag == _MERGE:
                self.merge_key(vnode, depth, merged)
                continue
            name = knode.value
            if name in entries:
                first = self.origin(entries[name][0])
                raise SourceError(
                    f"duplicate key {name!r} (first defined at {first.where()})",
                    code="E105",
                    origin=self.origin(knode),
                    hint="remove one of them; later layers override earlier "
                    "ones, but one file defines a key once",
                )
            value = self.convert(vnode, depth + 1)
            if (
                isinstance(value.value, (dict, list))
                or value.op is not None
                or (value.value is None and vnode.value == "")
            ):  # a map, a list, a marker or nothing: where its key is
                value.origin = self.origin(knode)
            entries[name] = (knode, value)
        out = [(k, n) for k, n in merged.items() if k not in entries]
        out.extend((k, v) for k, (_, v) in entries.items())
        return out

    def merge_key(self, vnode: yaml.Node, depth: int, merged: dict[str, Node]) -> None:
        sources = vnode.value if isinstance(vnode, yaml.SequenceNode) else [vnode]
        for src in sources:
            value = self.convert(src, depth + 1)
            if not isinstance(value.value, dict):
                raise SourceError(
                    "'<<' merges maps only",
                    code="E108",
                    origin=value.origin,
                    hint="write `<<: *anchor` where the anchor names a map",
                )
            for k, n in value.value.items():
                merged.setdefault(k, n)
