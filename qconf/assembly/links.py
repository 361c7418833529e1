"""Resolve the paths objects write to name each other.

A reference is absolute (``/soc/plic``, or ``/machine/soc/plic``) or relative: dotted
names (``plic``, ``soc.plic``) looked up like variables in nested scopes, first among the
referring object's siblings, then its parent's siblings, and so on up to the machine; the
nearest match wins. An IRQ reference adds the input line and its index:
``soc.plic.in[10]`` (index 0 when omitted).
"""

from __future__ import annotations

import re

from qconf.config.origin import Origin
from qconf.errors import BuildError
from qconf.model.objects import ROOT_NAME, Object

__all__ = ("find", "resolve_irq", "resolve_object")

_IRQ_RE = re.compile(r"^(?P<obj>.+)\.(?P<line>[A-Za-z0-9_$-]+)(\[(?P<index>[0-9]+)\])?$")


def _split(ref: str) -> list[str]:
    return [p for p in re.split(r"[./]", ref) if p]


def _descend(start: Object, names: list[str]) -> Object | None:
    obj: Object | None = start
    for name in names:
        obj = obj.children.get(name) if obj is not None else None
    return obj


def find(root: Object, scope: Object, ref: str) -> Object | None:
    """The object ``ref`` names, seen from ``scope`` (the referring object), or None."""
    names = _split(ref)
    if ref.startswith("/"):
        if names and names[0] == ROOT_NAME and ROOT_NAME not in root.children:
            names = names[1:]
        return _descend(root, names)
    where: Object | None = scope.parent or root
    while where is not None:
        found = _descend(where, names)
        if found is not None:
            return found
        where = where.parent
    return None


def _closest(root: Object, ref: str) -> str:
    import difflib

    keys = [o.key for o in root.walk() if o.key]
    close = difflib.get_close_matches(ref.lstrip("/").replace("/", "."), keys, n=3, cutoff=0.6)
    if not close:
        # a near miss in the last name, wherever it is
        last = _split(ref)[-1] if _split(ref) else ref
        by_name = {k.rsplit(".", 1)[-1]: k for k in keys}
        close = [by_name[n] for n in difflib.get_close_matches(last, list(by_name), n=3)]
    return (
        ("did you mean " + " or ".join(f"'{c}'" for c in close) + "?")
        if close
        else ("no object has a similar path; qconf tree shows them all")
    )


def resolve_object(
    root: Object, scope: Object, ref: str, prop: str, origin: Origin | None,
    category: str | None = None,
) -> Object:  # fmt: skip
    """The object ``ref`` names, checked against the ``category`` the property needs.

    :raises BuildError: nothing has that path (with the closest existing paths), or the
        object is of the wrong kind.
    """
    where = f"{scope.key}.{prop}" if scope.key else prop
    target = find(root, scope, ref)
    if target is None:
        raise BuildError(
            f"{ref!r} names no object", code="E602", origin=origin, path=where,
            hint=_closest(root, ref) + "\nrelative paths are looked up from the object's "
            "container outwards; absolute ones start with /",
        )  # fmt: skip
    if category is not None and target.info.category != category:
        raise BuildError(
            f"{ref!r} is a {target.info.name} ({target.info.category}), not a {category}",
            code="E603", origin=origin, path=where,
            hint=f"point it at a {category} object",
        )  # fmt: skip
    return target


def resolve_irq(
    root: Object, scope: Object, ref: str, prop: str, origin: Origin | None
) -> tuple[Object, str, int]:
    """The (controller, input line, index) an IRQ reference names.

    :raises BuildError: no such object, it has no such input line, or the index is out of
        its range (each with what exists).
    """
    where = f"{scope.key}.{prop}" if scope.key else prop
    m = _IRQ_RE.match(ref)
    if m is None:
        raise BuildError(
            f"{ref!r} is not an interrupt input", code="E604", origin=origin, path=where,
            hint="write CONTROLLER.LINE[N], e.g. soc.plic.in[10]",
        )  # fmt: skip
    target = resolve_object(root, scope, m["obj"], prop, origin)
    line, index = m["line"], int(m["index"] or 0)
    inputs = target.info.irq_inputs(target.values) if target.info.irq_inputs else {}
    if line not in inputs:
        have = ", ".join(f"{n}[0..{c - 1}]" for n, c in inputs.items()) or "none"
        raise BuildError(
            f"{target.key} ({target.info.name}) has no interrupt input {line!r}",
            code="E604", origin=origin, path=where,
            hint=f"its inputs: {have}",
        )  # fmt: skip
    if index >= inputs[line]:
        raise BuildError(
            f"{target.key}.{line}[{index}] is out of range: {target.key} has "
            f"{inputs[line]} {line!r} lines",
            code="E604", origin=origin, path=where,
            hint=f"use an index from 0 to {inputs[line] - 1}, or raise its line count",
        )  # fmt: skip
    return target, line, index
