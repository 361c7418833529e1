"""The names of the machine's ``smp`` copies of its template CPU, read from a document
before anything is validated: ``--set cpu2.freq=...`` reaches a copy that
:mod:`qconf.model.smp` makes only after the layers are merged."""

from __future__ import annotations

import re

from qconf.config.node import Node, PathKey, to_plain
from qconf.config.units import UnitError, parse_int

__all__ = ("DEFAULT_TEMPLATE", "copies", "smp_count", "template_path")

DEFAULT_TEMPLATE = "cpu0"
_NUMBERED = re.compile(r"^(?P<prefix>.*?)(?P<number>\d+)$")


def smp_count(tree: Node) -> int:
    """The machine's ``smp`` (1 when unset or invalid: validation reports the latter)."""
    node = tree.get("smp")
    if node is None:
        return 1
    try:
        count = parse_int(to_plain(node))
    except UnitError:
        return 1
    return count if count >= 1 else 1


def template_path(tree: Node) -> tuple[str, ...]:
    """The path of the CPU ``smp`` copies (``smp_cpu``, default ``cpu0``)."""
    node = tree.get("smp_cpu")
    return tuple(str(to_plain(node) if node is not None else DEFAULT_TEMPLATE).split("."))


def copies(tree: Node) -> dict[tuple[PathKey, ...], int]:
    """The path of each copy ``smp`` makes (``("cpu1",)``), with its index (1, 2, ...);
    none if the template's name does not end in a number."""
    count = smp_count(tree)
    keys = template_path(tree)
    numbered = _NUMBERED.match(keys[-1])
    if count == 1 or numbered is None:
        return {}
    prefix, first = numbered["prefix"], int(numbered["number"])
    return {(*keys[:-1], f"{prefix}{first + i}"): i for i in range(1, count)}
