"""Hotplug: an object joins a built (perhaps running) machine, or leaves it, where its type
declares ``hotpluggable`` (RAM: memory hotplug).

The new configuration is first built whole, as any configuration (every check of the
builder: types, units, overlaps, links); :func:`plug` then takes the new object from that
checked machine into the live one through the same life cycle (created, configured,
placed in its address space, realized), with its memory backend. :func:`unplug` undoes it,
newest first. The emulator maps and unmaps the memory in the CPUs that see it
(:meth:`qconf.emu.emulator.Emulator.plug_memory`).
"""

from __future__ import annotations

from qconf.assembly.machine import Machine, Mapping
from qconf.errors import QconfError
from qconf.model.lifecycle import State, transition
from qconf.model.objects import Object

__all__ = ("HotplugError", "plug", "unplug")


class HotplugError(QconfError):
    code = "E620"


def _copy(model: Object, parent: Object) -> Object:
    """A new object under ``parent`` made like ``model`` (of the checked machine)."""
    obj = parent.add_child(model.name, model.info, model.origin)
    values = dict(model.values)
    obj.configure(values, dict(model.origins))
    return obj


def plug(machine: Machine, checked: Machine, key: str) -> Object:
    """Add the object at dotted ``key`` of ``checked`` (a machine built from the new
    configuration) to ``machine``, realized, with its memory backend.

    :raises HotplugError: the type is not hotpluggable, or its place is taken.
    """
    model = checked.find(key)
    parent_key = key.rpartition(".")[0]
    parent = machine.find(parent_key) if parent_key else machine.root
    if model is None or parent is None:
        raise HotplugError(f"nothing to add at {key!r}", path=key)
    if not model.info.hotpluggable:
        raise HotplugError(f"{key} cannot be added to a built machine: a {model.info.name} is "
                           "not hotpluggable", path=key,
                           hint="add it before the build (in preconfig), or add RAM")  # fmt: skip
    if model.name in parent.children:
        raise HotplugError(f"{key} exists already", path=key)
    made: list[Object] = []
    try:
        obj = _copy(model, parent)
        made.append(obj)
        model_backend = checked.backends.get((model, "memory"))
        if model_backend is not None:  # /machine/backends/memory/NAME, as the builder makes
            container = machine.root
            for step in model_backend.parent.path.split("/")[2:] if model_backend.parent else ():
                found = container.children.get(step)
                if found is None:
                    template = checked.find(f"{container.path}/{step}")
                    assert template is not None
                    found = _copy(template, container)
                    made.append(found)
                    machine.realize(found)
                container = found
            backend = _copy(model_backend, container)
            made.append(backend)
            machine.backends[(obj, "memory")] = backend
            machine.realize(backend)
        space = machine.space_of(obj)
        for region in obj.info.regions(obj.values):
            space.mappings.append(Mapping(obj, region, obj.origins.get("base")))
        machine.reset_parent[obj] = parent
        machine.realize(obj)
    except BaseException:
        for done in reversed(made):
            _remove(machine, done)
        raise
    return obj


def unplug(machine: Machine, obj: Object) -> None:
    """Remove ``obj`` (and its memory backend) from ``machine``: unrealized, destroyed.

    :raises HotplugError: its type is not hotpluggable.
    """
    if not obj.info.hotpluggable:
        raise HotplugError(f"{obj.key} cannot be removed from a built machine: a "
                           f"{obj.info.name} is not hotpluggable", path=obj.key)  # fmt: skip
    backend = machine.backends.pop((obj, "memory"), None)
    _remove(machine, obj)
    if backend is not None:
        _remove(machine, backend)


def _remove(machine: Machine, obj: Object) -> None:
    for space in machine.spaces.values():
        space.mappings[:] = [mp for mp in space.mappings if mp.obj is not obj]
    if obj.state is State.REALIZED:
        if obj.hooks is not None:
            obj.hooks.unrealize()
        transition(obj, State.UNREALIZED)
    if obj in machine.order:
        machine.order.remove(obj)
    machine.reset_parent.pop(obj, None)
    obj.destroy()
