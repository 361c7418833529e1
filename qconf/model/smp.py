"""The machine's ``smp``: QEMU's ``-smp``, as many identical CPUs as one value says.

A machine has ``smp`` CPUs made like one template, its ``smp_cpu`` (``cpu0`` unless the
profile says another). Two steps of the resolve, around the expansion of components:

1. :func:`bind_smp`, before components expand: every ``${...}`` in the document's values
   is evaluated with one name, ``smp``, so that what is sized per CPU follows the count
   (``soc: {type: riscv-virt-soc, harts: ${smp}}`` gives the CLINT and the PLIC that many
   harts). ``$${`` writes a literal ``${``.
2. :func:`replicate`, after: the template is copied to its siblings ``cpu1`` ..
   ``cpu{smp-1}`` (its name's number plus the index), with every property it has once all
   layers are merged, each value keeping where it was written, except the ids the CPU's
   architecture derives per CPU (:attr:`~qconf.model.facets.ArchInfo.smp_ids`: RISC-V's
   ``hartid``, AArch64's ``mpidr``), whose origin is ``smp``'s. So
   ``--set cpu0.freq=2GHz`` sets every CPU, as QEMU's ``-smp`` CPUs are identical; a
   layer that writes ``cpu2: {freq: ...}`` changes that copy alone (with the template's
   type too, as a resolved document writes every copy: resolving it again gives the
   same machine). A CPU of that name that a layer defines with another type is an
   error: it would be replaced.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qconf.config.copies import copies, smp_count, template_path
from qconf.config.merge import merge
from qconf.config.node import Node, PathKey, format_path, to_plain
from qconf.errors import LayerError, QconfError, ValidationError
from qconf.model.expr import ExprError, interpolate
from qconf.model.facets import load
from qconf.model.registry import TypeRegistry

__all__ = ("bind_smp", "copy_of", "replicate", "template_id")


def bind_smp(tree: Node) -> tuple[Node, list[QconfError]]:
    """``tree`` with every ``${...}`` in its values evaluated (the only name: ``smp``),
    and the errors found (an expression that fails is left as written)."""
    env: dict[str, int | str | bool] = {"smp": smp_count(tree)}
    errors: list[QconfError] = []

    def visit(node: Node, path: tuple[PathKey, ...]) -> Node:
        value = node.value
        if isinstance(value, str) and "${" in value:
            try:
                return Node(interpolate(value, env), node.origin, node.op)
            except ExprError as exc:
                errors.append(ValidationError(
                    f"in {value!r} at column {exc.column + 1}: {exc.message}", code="E420",
                    origin=node.origin, path=format_path(path) or None,
                    hint=exc.hint or "names in a machine document: smp (the machine's CPU "
                    "count); write $${ for a literal ${",
                ))  # fmt: skip
                return node
        if isinstance(value, dict):
            out = {k: visit(c, (*path, k)) for k, c in value.items()}
            if any(out[k] is not c for k, c in value.items()):
                return Node(out, node.origin, node.op)
        elif isinstance(value, list):
            items = [visit(c, (*path, i)) for i, c in enumerate(value)]
            if any(a is not b for a, b in zip(items, value, strict=True)):
                return Node(items, node.origin, node.op)
        return node

    return visit(tree, ()), errors


def template_id(template: Mapping[str, Any], prop: str) -> int:
    """The template CPU's id ``prop`` as written (``hartid``, ``mpidr``), from which an
    architecture's :attr:`~qconf.model.facets.ArchInfo.smp_ids` number the copies; 0 if
    unset or not a number (validation reports that on the template)."""
    from qconf.config.units import UnitError, parse_int

    try:
        return parse_int(template.get(prop, 0))
    except UnitError:
        return 0


def _copy(node: Node) -> Node:
    value = node.value
    if isinstance(value, dict):
        value = {k: _copy(c) for k, c in value.items()}
    elif isinstance(value, list):
        value = [_copy(c) for c in value]
    return Node(value, node.origin, node.op)


def replicate(tree: Node, registry: TypeRegistry) -> tuple[Node, list[QconfError]]:
    """``tree`` with the template CPU copied to make ``smp`` CPUs, and the errors found.

    An error leaves the tree as it is.
    """
    count = smp_count(tree)
    if count == 1:
        return tree, []
    smp = tree.get("smp")
    assert smp is not None
    origin = smp.origin
    keys = template_path(tree)
    made = copies(tree)
    where = f"smp={count} copies {'.'.join(keys)}"
    hint = "smp_cpu names the CPU smp copies: its path, ending in a number (cpu0)"
    template = tree.lookup(keys)
    info = None
    tnode: Node | None = None
    if template is not None and isinstance(template.value, dict):
        tnode = template.value.get("type")
        if tnode is not None and isinstance(tnode.value, str):
            info = registry.find(tnode.value)
    arch = info.arch_info if info is not None else None
    if template is None or arch is None or not made or arch.smp_ids is None:
        name = ".".join(keys)
        what = ("the machine has no object " + name if template is None else
                f"{name} is not a CPU" if arch is None else
                f"{name}'s name does not end in a number" if not made else
                f"{arch.name} CPUs are not made in numbers (no per-CPU ids)")  # fmt: skip
        return tree, [LayerError(f"{where}, but {what}", code="E235", origin=origin,
                                 path="smp", hint=hint)]  # fmt: skip
    ids = load(arch.smp_ids)
    plain = to_plain(template)
    parent_keys = keys[:-1]
    parent = tree.lookup(parent_keys)
    assert parent is not None and isinstance(parent.value, dict)
    errors: list[QconfError] = []
    done: dict[str, Node] = {}
    for path, index in made.items():
        name = str(path[-1])
        copy = _copy(template)
        derived: dict[str, Any] = ids(plain, index)
        for prop, value in derived.items():
            copy.value[prop] = Node(value, origin)
        written = parent.value.get(name)
        wtype = written.value.get("type") if written is not None and isinstance(
            written.value, dict) else None  # fmt: skip
        if wtype is not None and wtype.value != (tnode.value if tnode is not None else None):
            errors.append(LayerError(
                f"{where} to make {format_path((*parent_keys, name))}, which is also defined "
                f"here with another type ({wtype.value})", code="E235", origin=wtype.origin,
                path=format_path((*parent_keys, name)),
                hint=f"remove this {name} (smp makes it), or write only the properties it "
                "changes",
            ))  # fmt: skip
            continue
        if written is not None:  # a layer's changes to this copy
            try:
                merged = merge(copy, written, strict=True)
            except LayerError as exc:
                errors.append(exc)
                continue
            copy = merged if merged is not None else copy
        done[name] = copy
    siblings: dict[str, Node] = {}
    for key, child in parent.value.items():  # the copies right after the template
        if key not in done:
            siblings[key] = child
        if key == keys[-1]:
            siblings.update(done)
    if errors:
        return tree, errors
    return _replace(tree, parent_keys, Node(siblings, parent.origin, parent.op)), []


def _replace(tree: Node, keys: tuple[str, ...], node: Node) -> Node:
    """``tree`` with the map at ``keys`` replaced by ``node``."""
    if not keys:
        return node
    child = tree.get(keys[0])
    assert child is not None
    value = dict(tree.value)
    value[keys[0]] = _replace(child, keys[1:], node)
    return Node(value, tree.origin, tree.op)


def copy_of(tree: Node, path: tuple[PathKey, ...]) -> tuple[PathKey, ...] | None:
    """Where ``path`` is in the template when it is in one of the ``smp`` copies of a
    resolved machine (``cpu2.freq`` -> ``cpu0.freq``), else None."""
    for copy in copies(tree):
        if tuple(path[: len(copy)]) == copy:
            return (*template_path(tree), *path[len(copy) :])
    return None
