"""Machine snapshots: a built machine as plain data, and back.

:func:`dump` writes every object with its type's name, category and property names, its
validated property values and their origins, and the address spaces, IRQ wires, clock and
reset links and backends, by object path. :func:`restore` makes the machine again through
the same life cycle (create, configure, realize) without resolving, validating or
importing a property model: a restored type carries :class:`~qconf.model.registry.PropFacts`
and references to its code, and a change to a value finds the built-in model. The data is
JSON-ready; nothing in it is executed. :mod:`qconf.cache` keeps snapshots for ``qconf
run``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qconf.assembly.machine import AddressSpace, Machine, Mapping, Wire
from qconf.config.origin import LayerKind, Origin, Source
from qconf.model.annotations import UNITS, Wiring
from qconf.model.facets import ArchInfo, ref_text
from qconf.model.objects import Object
from qconf.model.registry import PropFacts, Region, TypeInfo, no_regions

__all__ = ("NotSnapshottable", "dump", "restore")

_PLAIN = (str, int, float, bool, type(None))


class NotSnapshottable(Exception):
    """A machine that cannot be saved as plain data (the reason is the message)."""


# --- machine -> data --------------------------------------------------------------------


def dump(machine: Machine) -> dict[str, Any]:
    """``machine`` as JSON-ready data.

    :raises NotSnapshottable: a type comes from a plugin or has code that is not a
        reference, or a value is not plain data.
    """
    sources: dict[Source, int] = {}

    def at(origin: Origin | None) -> list[int] | None:
        if origin is None:
            return None
        index = sources.setdefault(origin.source, len(sources))
        return [index, origin.line, origin.col]

    types: dict[str, Any] = {}
    objects = []
    for obj in machine.objects():
        info = obj.info
        if info.name not in types:
            types[info.name] = _dump_type(info)
        values = {name: _plain(obj.values.get(name), obj, name)
                  for name in sorted(info.prop_names)}  # fmt: skip
        origins = {name: at(origin) for name, origin in obj.origins.items()}
        objects.append([obj.path, info.name, at(obj.origin), values, origins])
    spaces = []
    for space in machine.spaces.values():
        mappings = [[m.obj.path, [m.region.name, m.region.base, m.region.size, m.region.kind,
                                  m.region.priority],
                     at(m.origin), m.target.path if m.target else None, m.offset]
                    for m in space.mappings]  # fmt: skip
        spaces.append([space.name, space.owner.path,
                       space.parent.owner.path if space.parent else None,
                       mappings, [cpu.path for cpu in space.cpus]])  # fmt: skip
    return {
        "types": types,
        "objects": objects,
        "spaces": spaces,
        "wires": [
            [w.source.path, w.output, w.sink.path, w.line, w.index, at(w.origin)]
            for w in machine.wires
        ],
        "clock_links": [[o.path, prop, c.path] for (o, prop), c in machine.clock_links.items()],
        "reset_parent": [[o.path, p.path] for o, p in machine.reset_parent.items()],
        "backends": [[o.path, kind, b.path] for (o, kind), b in machine.backends.items()],
        "order": [o.path for o in machine.order],
        "sources": [
            [s.name, s.layer, s.kind.value, str(s.path) if s.path else None] for s in sources
        ],
    }


def _dump_type(info: TypeInfo) -> dict[str, Any]:
    if not (info.module == "builtin" or info.module.startswith(("qconf.", "component "))):
        raise NotSnapshottable(f"type {info.name!r} comes from plugin {info.module!r}")
    props = []
    for name in sorted(info.prop_names):
        unit, wiring = info.units.get(name), info.wires.get(name)
        props.append([name, unit.name if unit else None,
                      [wiring.kind, wiring.target] if wiring else None])  # fmt: skip
    try:
        refs = [ref_text(info.behaviour), ref_text(info.fdt),
                ref_text(info.arch if not isinstance(info.arch, ArchInfo) else None)]  # fmt: skip
    except TypeError as exc:
        raise NotSnapshottable(f"type {info.name!r}: {exc}") from None
    if info.hooks is not None or isinstance(info.arch, ArchInfo):
        raise NotSnapshottable(f"type {info.name!r} has code of its own")
    return {"category": info.category, "module": info.module, "description": info.description,
            "props": props, "runtime": sorted(info.runtime), "hotpluggable": info.hotpluggable,
            "backends": list(info.backends), "refs": refs}  # fmt: skip


def _plain(value: Any, obj: Object, name: str) -> Any:
    if isinstance(value, _PLAIN):
        return value
    if type(value) is list:
        return [_plain(v, obj, name) for v in value]
    if type(value) is dict and all(isinstance(k, str) for k in value):
        return {k: _plain(v, obj, name) for k, v in value.items()}
    raise NotSnapshottable(f"{obj.key}.{name} is a {type(value).__name__}, not plain data")


# --- data -> machine --------------------------------------------------------------------


def restore(data: dict[str, Any]) -> Machine:
    """The realized machine a :func:`dump` describes.

    :raises KeyError, TypeError, ValueError, IndexError: ``data`` is not such a dump.
    """
    sources = [Source(name, layer, LayerKind(kind), Path(path) if path else None)
               for name, layer, kind, path in data["sources"]]  # fmt: skip

    def at(ref: list[int] | None) -> Origin | None:
        return None if ref is None else Origin(sources[ref[0]], ref[1], ref[2])

    types = {name: _restore_type(name, spec) for name, spec in data["types"].items()}
    by_path: dict[str, Object] = {}
    machine: Machine | None = None
    configured = []
    for path, type_name, origin, values, origins in data["objects"]:
        info = types[type_name]
        here = at(origin)
        assert here is not None
        if machine is None:
            obj = Object._root(info, here)
            machine = Machine(root=obj)
        else:
            parent, _, name = path.rpartition("/")
            obj = by_path[parent].add_child(name, info, here)
        by_path[path] = obj
        configured.append((obj, values, {k: o for k, v in origins.items() if (o := at(v))}))
    if machine is None:
        raise ValueError("a snapshot without objects")
    for obj, values, origins in configured:
        obj.configure(values, origins)
    spaces: dict[str, AddressSpace] = {}
    for name, owner, parent, mappings, cpus in data["spaces"]:
        space = AddressSpace(name, by_path[owner], spaces[parent] if parent else None)
        for obj, region, origin, target, offset in mappings:
            space.mappings.append(Mapping(by_path[obj], Region(*region), at(origin),
                                          by_path[target] if target else None, offset))  # fmt: skip
        space.cpus.extend(by_path[cpu] for cpu in cpus)
        spaces[owner] = machine.spaces[owner] = space
    machine.wires.extend(Wire(by_path[src], out, by_path[sink], line, index, at(origin))
                         for src, out, sink, line, index, origin in data["wires"])  # fmt: skip
    for obj, prop, clock in data["clock_links"]:
        machine.clock_links[(by_path[obj], prop)] = by_path[clock]
    for obj, parent in data["reset_parent"]:
        machine.reset_parent[by_path[obj]] = by_path[parent]
    for obj, kind, backend in data["backends"]:
        machine.backends[(by_path[obj], kind)] = by_path[backend]
    for path in data["order"]:
        machine.realize(by_path[path])
    return machine


def _restore_type(name: str, spec: dict[str, Any]) -> TypeInfo:
    units, wires = {}, {}
    for prop, unit, wiring in spec["props"]:
        if unit:
            units[prop] = UNITS[unit]
        if wiring:
            wires[prop] = Wiring(*wiring)
    facts = PropFacts(frozenset(p[0] for p in spec["props"]), units, wires)
    behaviour, fdt, arch = spec["refs"]
    # no property model: the values were validated when the snapshot was made, and a
    # change to one finds the model in the built-in registry (TypeInfo.model)
    return TypeInfo(name, None, spec["description"], spec["category"], spec["module"],
                    regions=no_regions, runtime=frozenset(spec["runtime"]),
                    hotpluggable=spec["hotpluggable"], behaviour=behaviour, fdt=fdt,
                    backends=tuple(spec["backends"]), arch=arch, facts=facts)  # fmt: skip
