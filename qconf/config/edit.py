"""``qconf set FILE PATH=VALUE...``: edit a user file in place, keeping its comments,
order and formatting (ruamel.yaml round trip for YAML, tomlkit for TOML).

Only the text of the file is edited here; the caller validates the edited text (with
everything it extends) before it is written.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from qconf.config.node import Node, format_path
from qconf.config.origin import LayerKind
from qconf.config.overrides import Action, Override, parse_override
from qconf.config.units import UnitError, parse_int
from qconf.errors import EditError

__all__ = ("edit_text",)

DELETE_MARKER = {"$delete": True}


def edit_text(path: Path, text: str, assignments: list[str], lower: Node | None) -> str:
    """``text`` (the contents of ``path``) with ``assignments`` applied.

    :param lower: the merged document of the layers below this file (what it extends),
        used to write a ``$delete`` marker when deleting a key only a lower layer sets.
    :raises OverrideError: an assignment does not parse.
    :raises EditError: the file's structure does not allow the edit.
    """
    overrides = [parse_override(a, i, LayerKind.FILE) for i, a in enumerate(assignments, 1)]
    if path.suffix.lower() == ".toml":
        return _edit_toml(text, overrides, lower)
    return _edit_yaml(text, overrides, lower)


def _python_value(node: Node | None, flow: Any) -> Any:
    """A --set value as the data to write: integers as integers, else the text."""
    assert node is not None
    v = node.value
    if isinstance(v, dict):
        return flow({k: _python_value(c, flow) for k, c in v.items()}, True)
    if isinstance(v, list):
        return flow([_python_value(c, flow) for c in v], False)
    if isinstance(v, str):
        if v in ("true", "false"):
            return v == "true"
        try:
            return parse_int(v)
        except UnitError:
            return v
    return v


def _apply(root: Any, ov: Override, lower: Node | None, make_map: Any, flow: Any) -> None:
    parent = root
    for key in ov.path[:-1]:
        try:
            child = parent[key]
        except (KeyError, IndexError, TypeError):
            child = None
        if child is None:
            child = make_map()
            parent[key] = child
        parent = child
    key = ov.path[-1]
    try:
        exists = key in parent if isinstance(key, str) else -len(parent) <= key < len(parent)
    except TypeError:
        raise EditError(
            f"{format_path(ov.path[:-1])} is not a map or list in the file",
            code="E501",
            path=format_path(ov.path),
        ) from None
    if ov.action is Action.DELETE:
        below = lower.lookup(ov.path) if lower is not None else None
        if exists:
            del parent[key]
        if below is not None:
            parent[key] = flow(dict(DELETE_MARKER), True)
        elif not exists:
            raise EditError(
                "nothing to delete: neither the file nor what it extends sets this key",
                code="E502",
                path=format_path(ov.path),
            )
        return
    value = _python_value(ov.value, flow)
    if ov.action is Action.ADD and exists:
        raise EditError(
            "already set in the file",
            code="E503",
            path=format_path(ov.path),
            hint=f"use {format_path(ov.path)}=... to change it",
        )
    if ov.action is Action.APPEND:
        items = value if isinstance(value, list) else [value]
        if exists and isinstance(parent[key], list):
            parent[key].extend(items)
        else:
            parent[key] = flow({"$append": flow(list(items), False)}, True)
        return
    if isinstance(key, int) and not exists:
        parent.append(value)
    else:
        parent[key] = value


def _edit_yaml(text: str, overrides: list[Override], lower: Node | None) -> str:
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.util import load_yaml_guess_indent

    def flow(value: Any, is_map: bool) -> Any:
        out = CommentedMap(value) if is_map else CommentedSeq(value)
        out.fa.set_flow_style()
        return out

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    try:
        _, indent, block_seq_indent = load_yaml_guess_indent(text)
        data = yaml.load(text)
    except YAMLError as exc:
        raise EditError(f"cannot edit: the file does not parse ({exc})", code="E504") from None
    if data is None:
        data = CommentedMap()
    yaml.indent(
        mapping=indent or 2,
        sequence=(indent or 2) + (block_seq_indent or 0),
        offset=block_seq_indent or 0,
    )
    for ov in overrides:
        _apply(data, ov, lower, CommentedMap, flow)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _edit_toml(text: str, overrides: list[Override], lower: Node | None) -> str:
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    def flow(value: Any, is_map: bool) -> Any:
        if is_map:
            table = tomlkit.inline_table()
            table.update(value)
            return table
        return list(value)

    try:
        doc = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise EditError(f"cannot edit: the file does not parse ({exc})", code="E504") from None
    for ov in overrides:
        _apply(doc, ov, lower, tomlkit.table, flow)
    return tomlkit.dumps(doc)
