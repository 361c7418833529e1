"""Write a configuration tree as YAML, TOML or JSON, optionally with each value's origin.

The writers are small and deterministic (key order as given, two-space indents) so that
dumps diff cleanly and read back to the same document.
"""

from __future__ import annotations

import json
import re
from typing import Any

from qconf.config.node import Node, PathKey, format_path, to_plain

__all__ = ("FORMATS", "dump", "dump_json", "dump_toml", "dump_yaml")

FORMATS = ("yaml", "toml", "json")

_PLAIN = re.compile(r"^[A-Za-z0-9_./$][A-Za-z0-9_./+$@()=-]*( [A-Za-z0-9_./+$@()=-]+)*$")
_RESERVED = frozenset(("null", "Null", "NULL", "~", ""))
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def dump(node: Node, fmt: str, show_origin: bool = False) -> str:
    """``node`` as text in ``fmt`` (``yaml``, ``toml`` or ``json``)."""
    if fmt == "yaml":
        return dump_yaml(node, show_origin)
    if fmt == "toml":
        return dump_toml(node, show_origin)
    return dump_json(node, show_origin)


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if text in _RESERVED or not _PLAIN.match(text):
        return json.dumps(text, ensure_ascii=False)
    return text


def _yaml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) and key not in _RESERVED else json.dumps(key)


def dump_yaml(node: Node, show_origin: bool = False) -> str:
    lines: list[str] = []

    def note(n: Node) -> str:
        return f"  # {n.origin.where()}" if show_origin else ""

    def flow(n: Node) -> str | None:
        if isinstance(n.value, list) and all(
            not isinstance(i.value, (dict, list)) for i in n.value
        ):
            return "[" + ", ".join(_yaml_scalar(i.value) for i in n.value) + "]"
        if isinstance(n.value, dict) and not n.value:
            return "{}"
        if not isinstance(n.value, (dict, list)):
            return _yaml_scalar(n.value)
        return None

    def emit_map(m: dict[str, Node], indent: str) -> None:
        for key, child in m.items():
            text = flow(child)
            if text is not None:
                lines.append(f"{indent}{_yaml_key(key)}: {text}{note(child)}")
            elif isinstance(child.value, dict):
                lines.append(f"{indent}{_yaml_key(key)}:{note(child)}")
                emit_map(child.value, indent + "  ")
            else:
                lines.append(f"{indent}{_yaml_key(key)}:{note(child)}")
                emit_list(child.value, indent + "  ")

    def emit_list(items: list[Node], indent: str) -> None:
        for item in items:
            text = flow(item)
            if text is not None:
                lines.append(f"{indent}- {text}{note(item)}")
            elif isinstance(item.value, dict):
                lines.append(f"{indent}-{note(item)}")
                emit_map(item.value, indent + "  ")
            else:
                lines.append(f"{indent}-{note(item)}")
                emit_list(item.value, indent + "  ")

    if isinstance(node.value, dict):
        emit_map(node.value, "")
    else:
        lines.append(flow(node) or json.dumps(to_plain(node)))
    return "\n".join(lines) + "\n"


def _toml_value(n: Node) -> str | None:
    v = n.value
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        parts = [_toml_value(i) for i in v]
        return "[" + ", ".join(p for p in parts if p is not None) + "]"
    items = [(k, _toml_value(c)) for k, c in v.items()]
    return "{" + ", ".join(f"{_toml_key(k)} = {t}" for k, t in items if t is not None) + "}"


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key)


def dump_toml(node: Node, show_origin: bool = False) -> str:
    lines: list[str] = []

    def emit_table(m: dict[str, Node], path: tuple[str, ...], origin_note: str) -> None:
        if path:
            if lines:
                lines.append("")
            lines.append("[" + ".".join(_toml_key(k) for k in path) + "]" + origin_note)
        tables = []
        for key, child in m.items():
            if isinstance(child.value, dict) and child.value:
                tables.append((key, child))
                continue
            text = _toml_value(child)
            where = f"  # {child.origin.where()}" if show_origin else ""
            if text is None:
                lines.append(f"# {_toml_key(key)} is null (unset){where}")
            else:
                lines.append(f"{_toml_key(key)} = {text}{where}")
        for key, child in tables:
            note = f"  # {child.origin.where()}" if show_origin else ""
            emit_table(child.value, (*path, key), note)

    if isinstance(node.value, dict):
        emit_table(node.value, (), "")
    return "\n".join(lines) + "\n"


def dump_json(node: Node, show_origin: bool = False) -> str:
    data = to_plain(node)
    if not show_origin:
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    origins: dict[str, dict[str, Any]] = {}
    for path, sub in node.walk():
        if (path and not isinstance(sub.value, (dict, list))) or (
            path and isinstance(sub.value, list)
        ):
            origins[format_path(path)] = _origin_json(path, sub)
    return json.dumps({"document": data, "origins": origins}, indent=2, ensure_ascii=False) + "\n"


def _origin_json(path: tuple[PathKey, ...], node: Node) -> dict[str, Any]:
    o = node.origin
    return {
        "where": o.where(),
        "layer": o.source.layer or None,
        "line": o.line or None,
        "column": o.col or None,
    }
