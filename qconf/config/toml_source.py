"""Read TOML into a :class:`Node` tree.

``tomllib`` gives no positions, so a light line scanner finds where each key was written
(``[table]`` headers and ``key = value`` lines); keys inside inline tables share the line
of the key that holds the table. Values keep TOML's own types.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from typing import Any

from qconf.config.limits import Budget
from qconf.config.markers import build_map
from qconf.config.node import Node
from qconf.config.origin import Origin, Source
from qconf.config.yaml_source import MAX_DEPTH
from qconf.errors import SourceError

__all__ = ("load_toml",)

_POS_RE = re.compile(r"\(at line (\d+), column (\d+)\)")
_KEY_PART = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|([A-Za-z0-9_$-]+))\s*')


def load_toml(text: str, source: Source, nodes: Budget | None = None) -> Node:
    """Parse TOML ``text`` into a Node tree with the best positions the text gives.

    :param nodes: the nodes still allowed; each node of the tree is spent from it.
    :raises SourceError: syntax error (with line and column), nesting too deep, a number
        of more digits than Python converts, more nodes than ``nodes`` has.
    """
    if nodes is not None and _estimate(text) > 2 * nodes.left:
        # tomllib has no hook to stop it half-way: refuse what surely exceeds the budget
        # before parsing (the estimate counts at most twice the nodes of usual text)
        raise nodes.exceeded(Origin(source))
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = _POS_RE.search(msg)
        origin = Origin(source, int(m.group(1)), int(m.group(2))) if m else Origin(source)
        raise SourceError(
            f"TOML syntax error: {_POS_RE.sub('', msg).strip()}",
            code="E102",
            origin=origin,
            hint=_quote_hint(text, int(m.group(1))) if m else None,
        ) from None
    except RecursionError:
        raise SourceError(
            "TOML nesting too deep",
            code="E104",
            origin=Origin(source),
            hint=f"machine documents nest at most {MAX_DEPTH} levels",
        ) from None
    except ValueError:  # an integer of more digits than int() converts
        m = _LONG_NUMBER.search(text)
        at = m.start() if m else 0
        line = text.count("\n", 0, at) + 1
        col = at - (text.rfind("\n", 0, at) + 1) + 1
        raise SourceError(
            "TOML syntax error: a number too long to read (more than 4,300 digits)",
            code="E102",
            origin=Origin(source, line, col) if m else Origin(source),
            hint="qconf's numbers are addresses, sizes and counts: a few digits",
        ) from None
    positions = _locate(text)
    root_origin = Origin(source, 1, 1)
    return _convert(data, (), positions, source, root_origin, 0, nodes)


_LONG_NUMBER = re.compile(r"(?<![\w.])[+-]?(?:0[xob])?[0-9a-fA-F_]{4300,}")
_SKIPPED = re.compile(  # strings and comments; an unclosed one runs to the end of its line
    r'"""[\s\S]*?(?:"""|\Z)|\'\'\'[\s\S]*?(?:\'\'\'|\Z)|"(?:[^"\\\n]|\\[^\n])*+\\?(?:"|$)'
    r"|'[^'\n]*+(?:'|$)|#[^\n]*+",
    re.MULTILINE,
)


_ASSIGNMENT = re.compile(r"^\s*([A-Za-z0-9_.$\"' -]+?)\s*=\s*([^\s\"'\[{#][^#]*?)\s*(#.*)?$")


def _quote_hint(text: str, line: int) -> str | None:
    """For ``freq = 1GHz`` (a bare value TOML cannot read): quote it, as units,
    paths and names are text in TOML."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return None
    m = _ASSIGNMENT.match(lines[line - 1])
    if m is None:
        return None
    key, value = m.group(1).strip(), m.group(2)
    try:
        tomllib.loads(f"v = {value}")
    except tomllib.TOMLDecodeError:
        return (f"values with units, paths and names are text in TOML: quote it, "
                f"{key} = {json.dumps(value)}")  # fmt: skip
    return None


def _estimate(text: str) -> int:
    """Roughly the nodes ``text`` makes: one per ``=``, ``,``, ``[`` and ``{`` outside
    strings and comments."""
    if len(text) < 4096:
        return 0
    bare = _SKIPPED.sub("", text)
    return sum(bare.count(ch) for ch in "=,[{")


def _convert(
    value: Any,
    path: tuple[str, ...],
    positions: dict[tuple[str, ...], tuple[int, int]],
    source: Source,
    origin: Origin,
    depth: int,
    nodes: Budget | None,
) -> Node:
    if depth > MAX_DEPTH:
        raise SourceError(f"nesting deeper than {MAX_DEPTH} levels", code="E104", origin=origin)
    if nodes is not None:  # the node, and the keys of a table
        nodes.spend(1 + len(value) if isinstance(value, dict) else 1, origin)
    if isinstance(value, dict):
        entries = []
        for key, sub in value.items():
            p = (*path, key)
            pos = positions.get(p)
            sub_origin = Origin(source, *pos) if pos else origin
            entries.append((key, _convert(sub, p, positions, source, sub_origin, depth + 1, nodes)))
        return build_map(entries, origin)
    if isinstance(value, list):
        return Node(
            [_convert(v, path, positions, source, origin, depth + 1, nodes) for v in value],
            origin,
        )
    if isinstance(value, (dt.date, dt.time)):
        return Node(value.isoformat(), origin)
    return Node(value, origin)


def _locate(text: str) -> dict[tuple[str, ...], tuple[int, int]]:
    """Map dotted key paths to the (line, column) where the key is written."""
    positions: dict[tuple[str, ...], tuple[int, int]] = {}
    table: tuple[str, ...] = ()
    in_multiline: str | None = None
    for lineno, line in enumerate(text.splitlines(), 1):
        if in_multiline:
            if line.count(in_multiline) % 2 == 1:
                in_multiline = None
            continue
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if not stripped or stripped[0] == "#":
            continue
        if stripped[0] == "[":
            inner = stripped.lstrip("[")
            keys, _ = _parse_key(inner)
            if keys:
                table = tuple(keys)
                positions.setdefault(table, (lineno, indent + 1))
            continue
        keys, rest = _parse_key(stripped)
        if keys and rest.startswith("="):
            for i in range(1, len(keys) + 1):
                positions.setdefault((*table, *keys[:i]), (lineno, indent + 1))
            for quote in ('"""', "'''"):
                if rest.count(quote) % 2 == 1:
                    in_multiline = quote
    return positions


def _parse_key(text: str) -> tuple[list[str], str]:
    keys: list[str] = []
    pos = 0
    while True:
        m = _KEY_PART.match(text, pos)
        if not m or m.end() == pos:
            return keys, text[pos:]
        keys.append(
            m.group(1)
            if m.group(1) is not None
            else m.group(2)
            if m.group(2) is not None
            else m.group(3)
        )
        pos = m.end()
        if text[pos : pos + 1] != ".":
            return keys, text[pos:]
        pos += 1
