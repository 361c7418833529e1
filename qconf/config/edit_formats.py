"""How ``qconf set`` reads and writes YAML and TOML documents: the :class:`Format` an
edit works through (loading with comments kept, new maps and lists, values written as
typed, merge markers), for YAML (ruamel.yaml round trip) and TOML (tomlkit)."""

from __future__ import annotations

import contextlib
import itertools
import re
import tomllib
from collections.abc import Callable
from typing import Any

from qconf.config.node import Node, Op, PathKey, format_path
from qconf.errors import EditError

__all__ = ("Format", "Toml", "Typed", "Yaml")

Typed = Callable[[tuple[PathKey, ...]], Any]
"""The resolved value at a path of the document the same ``--set`` gives (or None)."""
_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
_MARKERS = {"$delete": Op.DELETE, "$replace": Op.REPLACE, "$append": Op.APPEND,
            "$prepend": Op.PREPEND}  # fmt: skip
_TAGS = {"!delete": Op.DELETE, "!replace": Op.REPLACE, "!append": Op.APPEND,
         "!prepend": Op.PREPEND}  # fmt: skip
_TOML_INT = re.compile(r"[+-]?(?:0x[0-9A-Fa-f](?:_?[0-9A-Fa-f])*|0o[0-7](?:_?[0-7])*"
                       r"|0b[01](?:_?[01])*|0|[1-9](?:_?[0-9])*)")  # fmt: skip


class Format:
    """What differs between YAML and TOML documents: loading, dumping, new values."""

    true: Any = True

    def load(self, text: str) -> Any:
        raise NotImplementedError

    def dump(self, doc: Any) -> str:
        raise NotImplementedError

    def block_map(self, parent: Any) -> Any:
        """An empty map to create at a key of ``parent`` (a section where it can be)."""
        raise NotImplementedError

    def flow_map(self, items: dict[str, Any]) -> Any:
        raise NotImplementedError

    def flow_list(self, items: list[Any]) -> Any:
        raise NotImplementedError

    def scalar(self, node: Node, path: tuple[PathKey, ...]) -> Any:
        raise NotImplementedError

    def is_map(self, value: Any) -> bool:
        raise NotImplementedError

    def is_list(self, value: Any) -> bool:
        raise NotImplementedError

    def op(self, value: Any) -> Op | None:
        """The merge marker ``value`` carries in the file, if any."""
        if self.is_map(value):
            ops = [_MARKERS[k] for k in value if isinstance(k, str) and k in _MARKERS]
            if ops:
                return ops[0]
        tag = getattr(getattr(value, "tag", None), "value", None)
        return _TAGS.get(tag) if isinstance(tag, str) else None

    def added(self, parent: Any, key: str) -> None:
        """``key`` was just added at the end of the map ``parent``: keep the layout."""

    def marker_items(self, value: Any, op: Op) -> Any:
        """The list of an append or prepend marker as written in the file."""
        if self.is_map(value):
            return value["$append" if op is Op.APPEND else "$prepend"]
        return value


class Yaml(Format):
    true = "true"

    def __init__(self) -> None:
        from ruamel.yaml import YAML
        from ruamel.yaml.comments import CommentedMap, CommentedSeq
        from ruamel.yaml.resolver import VersionedResolver

        class TextResolver(VersionedResolver):
            """Every plain scalar is text, as qconf reads it (no guessing of numbers,
            booleans or dates), except the ``<<`` merge key."""

            @property
            def versioned_resolver(self) -> Any:
                return _YAML_RESOLVERS

        self.yaml = YAML(typ="rt")
        self.yaml.Resolver = TextResolver
        self.yaml.preserve_quotes = True
        self.yaml.width = 4096
        self.map_type, self.seq_type = CommentedMap, CommentedSeq

    def load(self, text: str) -> Any:
        from ruamel.yaml.error import YAMLError
        from ruamel.yaml.util import load_yaml_guess_indent

        try:
            _, indent, block_seq_indent = load_yaml_guess_indent(text)
            data = self.yaml.load(text)
        except YAMLError as exc:
            raise EditError(f"cannot edit: the file does not parse ({exc})", code="E504") from None
        self.yaml.indent(
            mapping=indent or 2,
            sequence=(indent or 2) + (block_seq_indent or 0),
            offset=block_seq_indent or 0,
        )
        if data is None:
            data = self.map_type()
        if not self.is_map(data):
            raise EditError("cannot edit: the file is not a map of keys", code="E504")
        _keep_tag_comments(data)
        return data

    def dump(self, doc: Any) -> str:
        import io

        out = io.StringIO()
        self.yaml.dump(doc, out)
        return out.getvalue()

    def block_map(self, parent: Any) -> Any:
        return self.map_type()

    def added(self, parent: Any, key: str) -> None:
        # the blank lines and comments after a block belong after it, not between its
        # old last line and the new key: ruamel keeps them on the deepest last item
        keys = list(parent)
        if len(keys) < 2:
            return
        owner, at = _last_item(parent, keys[-2])
        entry = owner.ca.items.get(at) if owner is not None else None
        slot = 0 if isinstance(owner, self.seq_type) else 2
        token = entry[slot] if entry and len(entry) > slot else None
        if entry is None or token is None or "\n" not in token.value:
            return
        line, _, rest = token.value.partition("\n")
        if not rest:
            return
        from ruamel.yaml.tokens import CommentToken

        entry[slot] = CommentToken(line + "\n", token.start_mark) if line.strip() else None
        parent.ca.items.setdefault(key, [None, None, None, None])[2] = CommentToken(
            "\n" + rest, token.start_mark
        )

    def flow_map(self, items: dict[str, Any]) -> Any:
        out = self.map_type(items)
        out.fa.set_flow_style()
        return out

    def flow_list(self, items: list[Any]) -> Any:
        out = self.seq_type(items)
        out.fa.set_flow_style()
        return out

    def scalar(self, node: Node, path: tuple[PathKey, ...]) -> Any:
        from ruamel.yaml.scalarstring import DoubleQuotedScalarString

        value = node.value
        if value is None:
            return "null"  # plain: qconf reads it as null
        text = value if isinstance(value, str) else _text(value)
        if text in _NULLS or any(_special(ch) for ch in text):
            # quoted, so that it reads back as this text: plain it would be null, and
            # line breaks (NEL, U+2028) or control characters would not survive
            return DoubleQuotedScalarString(text)
        return text  # the emitter quotes it where plain text would not read back

    def is_map(self, value: Any) -> bool:
        return isinstance(value, self.map_type)

    def is_list(self, value: Any) -> bool:
        return isinstance(value, self.seq_type)


_YAML_RESOLVERS = {"<": [("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"))]}


def _last_item(mapping: Any, key: Any) -> tuple[Any, Any]:
    """The collection and key (or index) of the last item under ``mapping[key]``, going
    down through block maps and lists: where ruamel keeps what follows a block."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    owner, at = mapping, key
    while True:
        value = owner[at]
        if isinstance(value, CommentedMap) and len(value) and not value.fa.flow_style():
            owner, at = value, list(value)[-1]
        elif isinstance(value, CommentedSeq) and len(value) and not value.fa.flow_style():
            owner, at = value, len(value) - 1
        else:
            return owner, at


def _keep_tag_comments(data: Any) -> None:
    """Give back to ``key: !tag   # comment`` its comment: ruamel hangs the comment of a
    tagged empty value before the next key, and writes it on a line of its own."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar

    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, CommentedSeq):
            stack.extend(node)
            continue
        if not isinstance(node, CommentedMap):
            continue
        keys = list(node)
        for prev, key in itertools.pairwise(keys):
            entry = node.ca.items.get(key)
            before = entry[1] if entry and len(entry) > 1 else None
            where = node.lc.data.get(prev)
            if not (isinstance(node[prev], TaggedScalar) and before and where):
                continue
            if before[0].start_mark.line != where[0]:
                continue
            node.ca.items.setdefault(prev, [None, None, None, None])[2] = before.pop(0)
            if not before:
                entry[1] = None
                if not any(entry):
                    del node.ca.items[key]
        stack.extend(node.values())


def _special(ch: str) -> bool:
    return (not ch.isprintable() and ch != " ") or ch in "\x85\u2028\u2029\ufeff"


class Toml(Format):
    def __init__(self, typed: Typed | None) -> None:
        import tomlkit

        self.tomlkit = tomlkit
        self.typed = typed

    def load(self, text: str) -> Any:
        from tomlkit.exceptions import TOMLKitError

        try:
            return self.tomlkit.parse(text)
        except (TOMLKitError, ValueError) as exc:
            raise EditError(f"cannot edit: the file does not parse ({exc})", code="E504") from None

    def dump(self, doc: Any) -> str:
        return str(self.tomlkit.dumps(doc))

    def block_map(self, parent: Any) -> Any:
        from tomlkit.items import InlineTable

        if isinstance(parent, InlineTable):  # nothing but inline tables inside one
            return self.tomlkit.inline_table()
        return self.tomlkit.table()

    def flow_map(self, items: dict[str, Any]) -> Any:
        table = self.tomlkit.inline_table()
        table.update(items)
        return table

    def flow_list(self, items: list[Any]) -> Any:
        array = self.tomlkit.array()
        array.extend(items)
        return array

    def scalar(self, node: Node, path: tuple[PathKey, ...]) -> Any:
        from tomlkit.items import Integer, Trivia

        value = node.value
        if value is None:
            raise EditError(
                "TOML has no null",
                code="E507",
                path=format_path(path),
                hint=f"to remove the key write ~{format_path(path)}",
            )
        if not isinstance(value, str):
            return value
        # a number or a boolean only where the key holds one: resolving the same --set
        # says which (text converts to numbers, but a number is not text)
        resolved = self.typed(path) if self.typed is not None else None
        if isinstance(resolved, bool):
            if value in ("true", "false"):
                return value == "true"
        elif isinstance(resolved, int) and _TOML_INT.fullmatch(value):
            with contextlib.suppress(tomllib.TOMLDecodeError, ValueError):
                if tomllib.loads(f"v = {value}")["v"] == resolved:
                    return Integer(resolved, Trivia(), value)  # as written: 0x1000_0000
        return self.tomlkit.string(value)

    def is_map(self, value: Any) -> bool:
        from tomlkit.container import Container
        from tomlkit.items import InlineTable, Table

        return isinstance(value, (Table, InlineTable, Container))

    def is_list(self, value: Any) -> bool:
        from tomlkit.items import AoT, Array

        return isinstance(value, (Array, AoT))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
