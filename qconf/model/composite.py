"""Composite component types: declared in YAML or TOML, registered like built-in types.

A component file (``components/NAME.yaml`` in any profile directory) or an entry of a
document's ``components:`` map declares::

    description: a RISC-V virt-like SoC      # shown by qconf types
    category: soc                            # optional; default "composite"
    params:                                  # the component's properties
      harts: {type: integer, default: 1, min: 1, max: 8, description: Number of harts.}
      uart_base: {type: address, default: 0x1000_0000, description: First UART.}
    children:                                # a template, expanded per instance
      cpu[0..${harts - 1}]: {type: riscv64, hartid: "${i}"}
      uart0: {type: ns16550a, base: "${uart_base}", irq: plic.in[10]}

Parameters become a pydantic property model, so a component appears in ``qconf types``,
the JSON Schema and validation exactly like a built-in type. :mod:`qconf.model.elaborate`
expands instances.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
from pydantic import Field

from qconf.config.node import Node, to_plain
from qconf.config.origin import LayerKind, Origin, Source, display_path
from qconf.config.search import SearchPath
from qconf.config.sources import note_read, read_file
from qconf.errors import LayerError
from qconf.model.props import Address, Duration, Frequency, Integer, Props, Size
from qconf.model.registry import TypeInfo

__all__ = ("CompositeDef", "component_files", "parse_component")

PARAM_TYPES: dict[str, Any] = {
    "integer": Integer,
    "frequency": Frequency,
    "size": Size,
    "address": Address,
    "duration": Duration,
    "string": str,
    "bool": bool,
    "list": list[str],
}
_DEF_KEYS = ("description", "category", "params", "children")
_PARAM_KEYS = ("type", "default", "description", "min", "max")


@dataclass(frozen=True)
class CompositeDef:
    """One component type: its parameters' model and its children template."""

    name: str
    description: str
    category: str
    props: type[Props]
    children: Node
    origin: Origin

    def type_info(self) -> TypeInfo:
        return TypeInfo(
            self.name, self.props, self.description, self.category,
            module=f"component {self.origin.source.name}", regions=lambda props: (),
            composite=self,
        )  # fmt: skip


def _error(message: str, node: Node | None, hint: str | None = None) -> LayerError:
    return LayerError(message, code="E230", origin=node.origin if node else None, hint=hint)


def _unknown_keys(node: Node, allowed: Sequence[str], what: str) -> None:
    for key, child in node.value.items():
        if key not in allowed:
            raise _error(
                f"unknown key {key!r} in {what}", child,
                "valid keys are " + ", ".join(f"'{k}'" for k in allowed),
            )  # fmt: skip


def parse_component(name: str, node: Node) -> CompositeDef:
    """The component ``name`` declared by ``node``.

    :raises LayerError: the declaration's shape is wrong (unknown keys, a parameter type
        that does not exist, a default that does not fit its type).
    """
    if not isinstance(node.value, dict):
        raise _error(f"component {name!r} must be a map", node,
                     "give description, params and children")  # fmt: skip
    _unknown_keys(node, _DEF_KEYS, f"component {name!r}")
    params = node.value.get("params")
    children = node.value.get("children")
    if children is None or not isinstance(children.value, dict):
        raise _error(f"component {name!r} needs 'children': a map of objects", children or node)
    fields: dict[str, Any] = {}
    if params is not None:
        if not isinstance(params.value, dict):
            raise _error("params must be a map of name: {type, default, description}", params)
        for pname, spec in params.value.items():
            fields[pname] = _param_field(name, pname, spec)
    for child in children.value:
        if child in fields:
            raise _error(
                f"component {name!r}: child {child!r} has the name of a parameter",
                children.value[child], "rename the child or the parameter",
            )  # fmt: skip
    fields.setdefault("description", (str, Field("", description="Free text about this instance.")))
    description = node.value.get("description")
    category = node.value.get("category")
    try:
        model = pydantic.create_model(
            f"Component_{name.replace('-', '_')}", __base__=Props, **fields
        )
    except (pydantic.PydanticUserError, TypeError, ValueError) as exc:
        raise _error(f"component {name!r}: {exc}", params) from None
    return CompositeDef(
        name,
        str(description.value) if description else f"Component {name}.",
        str(category.value) if category else "composite",
        model,
        children,
        node.origin,
    )


def _param_field(component: str, name: str, spec: Node) -> tuple[Any, Any]:
    if not isinstance(spec.value, dict):
        raise _error(f"parameter {name!r} of {component!r} must be a map", spec,
                     "write {type: integer, default: 1, description: ...}")  # fmt: skip
    _unknown_keys(spec, _PARAM_KEYS, f"parameter {name!r}")
    tnode = spec.value.get("type")
    kind = str(tnode.value) if tnode is not None else ""
    if kind not in PARAM_TYPES:
        raise _error(f"parameter {name!r}: unknown type {kind!r}", tnode or spec,
                     "types: " + ", ".join(PARAM_TYPES))  # fmt: skip
    annotation = PARAM_TYPES[kind]
    desc = spec.value.get("description")
    limits = {k: to_plain(spec.value[k]) for k in ("min", "max") if k in spec.value}
    constraints = {("ge" if k == "min" else "le"): annotation_value(kind, v, spec)
                   for k, v in limits.items()}  # fmt: skip
    default_node = spec.value.get("default")
    if default_node is None:
        default: Any = ...
    else:
        default = to_plain(default_node)
        try:
            default = _adapter(kind).validate_python(default)
        except pydantic.ValidationError as exc:
            raise _error(f"default of parameter {name!r}: {exc.errors()[0]['msg']}",
                         default_node) from None  # fmt: skip
    return (
        annotation,
        Field(default, description=str(desc.value) if desc else f"Parameter {name}.",
              **constraints),
    )  # fmt: skip


@functools.cache
def _adapter(kind: str) -> pydantic.TypeAdapter[Any]:
    return pydantic.TypeAdapter(PARAM_TYPES[kind])


def annotation_value(kind: str, value: Any, spec: Node) -> Any:
    try:
        return _adapter(kind).validate_python(value)
    except pydantic.ValidationError as exc:
        raise _error(f"min/max: {exc.errors()[0]['msg']}", spec) from None


def component_files(search: SearchPath) -> Iterator[Path]:
    """Every ``components/*.yaml|yml|toml`` in the search path (first name wins)."""
    seen: set[str] = set()
    for d in search.dirs:
        cdir = d / "components"
        if cdir.is_dir():
            for f in sorted(cdir.iterdir()):
                if f.suffix in (".yaml", ".yml", ".toml") and f.stem not in seen:
                    seen.add(f.stem)
                    yield f


def load_component_file(path: Path) -> CompositeDef:
    """The component a file declares; its name is the file's stem (read once per
    version of the file)."""
    stat = path.stat()
    note_read(path, stat)  # read once per version, but an input of every resolve
    # the working directory is part of the key: messages show paths relative to it
    return _load_component_file(path.resolve(), stat.st_mtime_ns, stat.st_size, os.getcwd())


@functools.lru_cache(maxsize=256)
def _load_component_file(path: Path, mtime_ns: int, size: int, cwd: str) -> CompositeDef:
    source = Source(display_path(path), layer=f"component {path.stem}",
                    kind=LayerKind.PROFILE, path=path.resolve())  # fmt: skip
    return parse_component(path.stem, read_file(path, source))


def components_of(node: Node | None) -> list[CompositeDef]:
    """The components a document's merged ``components:`` map declares."""
    if node is None:
        return []
    if not isinstance(node.value, dict):
        raise _error("components must be a map of NAME: {description, params, children}", node)
    return [parse_component(name, spec) for name, spec in node.value.items()]


def registered(defs: Mapping[str, CompositeDef]) -> list[TypeInfo]:
    return [d.type_info() for d in defs.values()]
