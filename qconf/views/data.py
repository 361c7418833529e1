"""The views of a built machine as data (``--format json``): the same content as
``qconf.views.text``'s lines, with canonical values (integers, Hz, bytes) and full paths,
for scripts."""

from __future__ import annotations

from typing import Any

from qconf.assembly.machine import Machine
from qconf.model.objects import Object
from qconf.views.text import KEY_PROPS

__all__ = ("clock_data", "irq_data", "mtree_data", "reset_data", "tree_data")


def _plain(value: Any) -> Any:
    """A property's value as JSON holds it (links and other objects as text)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def tree_data(machine: Machine, *, all_props: bool = False) -> list[dict[str, Any]]:
    """Every object in composition order: path, type and its key properties (all with
    ``all_props``), canonical values; unset key properties are left out."""
    out = []
    for obj in machine.objects():
        props = {}
        for prop in obj.info.model().model_fields:
            value = obj.get(prop)
            if all_props or (prop in KEY_PROPS and value not in (None, False, "", [])):
                props[prop] = _plain(value)
        out.append({"path": obj.path, "type": obj.info.name, "properties": props})
    return out


def mtree_data(machine: Machine) -> list[dict[str, Any]]:
    """Each address space and its regions by address (``end`` is the last byte)."""
    out = []
    for space in machine.spaces.values():
        maps = sorted(space.mappings, key=lambda m: (m.base, -m.priority, m.end))
        regions = []
        for m in maps:
            hidden = [o.obj.key for o in maps if o is not m and o.base < m.end
                      and m.base < o.end and o.priority > m.priority]  # fmt: skip
            regions.append({
                "base": m.base, "end": m.end - 1, "size": m.region.size,
                "priority": m.priority, "kind": m.region.kind, "owner": m.obj.key,
                "region": m.region.name, "type": m.obj.info.name,
                "target": m.target.key if m.target is not None else None,
                "offset": m.offset if m.target is not None else None,
                "hidden_where": hidden,
            })  # fmt: skip
        out.append({"name": space.name,
                    "over": space.parent.name if space.parent else None,
                    "cpus": [c.key for c in space.cpus], "regions": regions})  # fmt: skip
    return out


def irq_data(machine: Machine) -> dict[str, Any]:
    """Every interrupt wire (``source.output -> sink.line[index]``) and the outputs that are
    not wired."""
    wires = [{"source": w.source.key, "output": w.output, "sink": w.sink.key, "line": w.line,
              "index": w.index} for w in machine.wires]  # fmt: skip
    unwired = [f"{o.key}.{p}" for o in machine.objects() for p, w in o.info.wires.items()
               if w.kind == "irq" and o.get(p) is None]  # fmt: skip
    return {"wires": wires, "unwired": unwired}


def clock_data(machine: Machine) -> dict[str, Any]:
    """Every clock object with its derived frequency (and how it is derived), and every
    clock input with the clock that drives it (None for a fixed frequency) and its Hz."""
    clocks = []
    for obj in machine.objects():
        if obj.info.category == "clock":
            source = machine.clock_links.get((obj, "source"))
            clocks.append({"clock": obj.key, "freq": machine.clock_freq(obj),
                           "source": source.key if source is not None else None,
                           "mul": obj.get("mul"), "div": obj.get("div")})  # fmt: skip
    inputs = []
    for obj in machine.objects():
        for prop, wiring in obj.info.wires.items():
            if wiring.kind != "clock" or obj.info.category == "clock":
                continue
            clock = machine.clock_links.get((obj, prop))
            if clock is not None:
                inputs.append({"input": f"{obj.key}.{prop}", "clock": clock.key,
                               "freq": machine.clock_freq(clock)})  # fmt: skip
            elif isinstance(obj.get(prop), int):
                inputs.append({"input": f"{obj.key}.{prop}", "clock": None,
                               "freq": obj.get(prop)})  # fmt: skip
    return {"clocks": clocks, "inputs": inputs}


def reset_data(machine: Machine) -> dict[str, Any]:
    """The reset tree from the machine: each object, whether it is a reset domain, and
    what resetting it resets."""

    def node(obj: Object) -> dict[str, Any]:
        return {"object": obj.key or obj.path, "domain": obj.info.category == "reset",
                "resets": [node(child) for child in machine.reset_children(obj)]}  # fmt: skip

    return node(machine.root)
