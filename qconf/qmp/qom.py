"""QOM: the machine's objects as QEMU's QOM commands show them (``qom-list``, ``qom-get``,
``qom-set``), the types (``qom-list-types``, ``device-list-properties``), and objects
added and removed (``device_add``, ``device_del``; hotplug once the machine is built)."""

from __future__ import annotations

import json
from typing import Any

from qconf.config.search import SearchPath
from qconf.errors import QconfError
from qconf.qmp.control import Control, Preview, _problems
from qconf.qmp.protocol import QmpError
from qconf.qmp.state import Runstate

__all__ = (
    "device_add",
    "device_del",
    "device_list_properties",
    "machine_for_qom",
    "qom_get",
    "qom_list",
    "qom_list_types",
    "qom_set",
    "type_parents",
)


def machine_for_qom(control: Control) -> Any:
    """The built machine, or (before the build) one built from the configuration so far:
    kept while the tweaks and every file it was read from are unchanged, so that a client
    walking the tree property by property does not resolve it again for each."""
    if control.machine is not None:
        return control.machine
    from qconf.cache import Inputs, searched

    preview = control.preview
    if preview is not None and preview.sets == control.sets and preview.inputs.unchanged():
        return preview.machine
    from qconf.assembly.builder import build
    from qconf.config.sources import recording_reads

    control.drop_preview()
    try:
        with recording_reads() as reads:
            machine = build(control.resolve())
    except QconfError as exc:
        raise _problems(exc) from None
    inputs = Inputs.of(reads, searched(control.files, control.include_dirs))
    control.preview = Preview(machine, list(control.sets), inputs)
    return machine


def _object(machine: Any, path: str) -> Any:
    obj = machine.find(path) if path.startswith("/") else None
    if obj is None:
        raise QmpError(f"Device '{path}' not found", "DeviceNotFound")
    return obj


def _prop_type(info: Any, name: str) -> str:
    wiring = info.wires.get(name)
    if wiring is not None and wiring.kind == "link":
        return f"link<{wiring.target or 'object'}>"
    annotation = str(info.model().model_fields[name].annotation)
    if "int" in annotation:
        return "int"
    if "bool" in annotation:
        return "bool"
    if "list" in annotation:
        return "list"
    return "str"


def qom_list(control: Control, args: dict[str, Any], who: str) -> Any:
    """An object's children and properties, with their QOM types."""
    obj = _object(machine_for_qom(control), args["path"])
    out = [{"name": "type", "type": "str"}]  # one spelling: QAPI's, as the properties
    out += [{"name": name, "type": f"child<{child.info.name}>"}
            for name, child in obj.children.items()]  # fmt: skip
    out += [{"name": name, "type": _prop_type(obj.info, name)}
            for name in obj.info.model().model_fields]  # fmt: skip
    return out


def qom_get(control: Control, args: dict[str, Any], who: str) -> Any:
    """A property's canonical value."""
    obj = _object(machine_for_qom(control), args["path"])
    prop: str = args["property"]
    if prop == "type":
        return obj.info.name
    if prop not in obj.info.prop_names:
        raise QmpError(f"Property '{obj.info.name}.{prop}' not found")
    return obj.get(prop)


def qom_set(control: Control, args: dict[str, Any], who: str) -> Any:
    """Before the build, a tweak of the configuration (with its origin); after it, a
    write to the object, where the type allows it."""
    path: str = args["path"]
    prop: str = args["property"]
    value = args["value"]
    if control.status is Runstate.PRELAUNCH:
        if not path.startswith("/machine"):
            raise QmpError(f"Device '{path}' not found", "DeviceNotFound")
        dotted = ".".join(p for p in path.split("/")[2:] if p)
        key = f"{dotted}.{prop}" if dotted else prop
        control.add_set(f"{key}={json.dumps(value)}", who)
        return {}
    obj = _object(control.machine, path)
    if prop not in obj.info.prop_names:
        raise QmpError(f"Property '{obj.info.name}.{prop}' not found")
    if prop not in obj.info.runtime:
        raise QmpError("Property cannot be set after initialization")
    from qconf.config.origin import Origin, Source

    try:
        obj.set(prop, value, Origin(Source(who, layer=who)))
    except QconfError as exc:
        raise _problems(exc) from None
    return {}


HARDWARE = frozenset({"cpu", "intc", "mailbox", "memory", "power", "soc", "timer", "uart"})
"""Categories whose types are devices (QEMU's ``device``); the others are plain objects."""


def type_parents(registry: Any) -> dict[str, tuple[str, bool]]:
    """QOM's view of qconf's types: name -> (parent, abstract). Each category is an
    abstract type (``cpu``, ``uart``...) under ``device`` (hardware) or ``object``, and
    each type sits under its category (or right under ``device`` or ``object`` where a
    type has its category's name, as ``timer`` and ``machine``)."""
    out: dict[str, tuple[str, bool]] = {"device": ("object", True)}
    names = {info.name for info in registry}
    for info in registry:
        category = info.category
        top = "device" if category in HARDWARE else "object"
        if category in names:
            out[info.name] = (top, False)
            continue
        out.setdefault(category, (top, True))
        out[info.name] = (category, False)
    return out


def qom_list_types(control: Control, args: dict[str, Any], who: str) -> Any:
    """Types as QEMU lists them: ``implements`` keeps the types that are or descend from
    it (``device``, ``cpu``, ``uart``, a type name); abstract ones only with ``abstract``."""
    from qconf.resolve import registry_for

    parents = type_parents(registry_for(SearchPath.default(control.include_dirs)))
    wanted, abstract = args.get("implements"), bool(args.get("abstract", False))

    def descends(name: str) -> bool:
        while name != wanted:
            if name not in parents:  # past the top ("object")
                return False
            name = parents[name][0]
        return True

    out = []
    for name, (parent, is_abstract) in parents.items():
        if (is_abstract and not abstract) or (wanted is not None and not descends(name)):
            continue
        row: dict[str, Any] = {"name": name, "parent": parent}
        if is_abstract:
            row["abstract"] = True
        out.append(row)
    return out


def device_list_properties(control: Control, args: dict[str, Any], who: str) -> Any:
    """A type's properties: name, type, description, default."""
    from qconf.resolve import registry_for

    name: str = args["typename"]
    info = registry_for(SearchPath.default(control.include_dirs)).find(name)
    if info is None:
        raise QmpError(f"Parameter 'typename' expects a type name: '{name}' is not one",
                       "DeviceNotFound")  # fmt: skip
    out = []
    for prop, field_info in info.model().model_fields.items():
        row: dict[str, Any] = {"name": prop, "type": _prop_type(info, prop)}
        if field_info.description:
            row["description"] = field_info.description
        if not field_info.is_required():
            default = field_info.get_default(call_default_factory=True)
            if default is not None:
                row["default-value"] = default
        out.append(row)
    return out


def device_add(control: Control, args: dict[str, Any], who: str) -> Any:
    """Add an object: ``driver`` (its type), ``id`` (its name), ``bus`` (the container's
    QOM path or dotted path; default the machine), and its properties. Before the build it
    edits the configuration; after it, hotpluggable types (RAM) join the running machine."""
    props = dict(args)
    kind = props.pop("driver", None) or props.pop("qom-type", None)
    ident = props.pop("id", None)
    if not isinstance(kind, str):
        raise QmpError("Parameter 'driver' is missing")
    if not isinstance(ident, str):
        raise QmpError("Parameter 'id' is missing")
    bus = props.pop("bus", "")
    if not isinstance(bus, str):
        raise QmpError("Invalid parameter type for 'bus', expected: string")
    parent = ".".join(p for p in bus.split("/") if p and p != "machine") if "/" in bus else bus
    key = f"{parent}.{ident}" if parent else ident
    tweak = f"+{key}={json.dumps({'type': kind, **props})}"
    if control.status is Runstate.PRELAUNCH:
        control.add_set(tweak, who)
        return {}
    from qconf.resolve import registry_for

    info = registry_for(SearchPath.default(control.include_dirs)).find(kind)
    if info is not None and not info.hotpluggable:
        raise QmpError(f"Bus '{bus or '/machine'}' does not support hotplugging: a {kind} can "
                       "only be added before the machine is built (hotpluggable: ram)")  # fmt: skip
    return _hotplug(control, tweak, who, add=key)


def device_del(control: Control, args: dict[str, Any], who: str) -> Any:
    """Remove an object (``id``: its name or dotted path): before the build, from the
    configuration; after it, a hotpluggable one (RAM) from the running machine (event
    ``DEVICE_DELETED``)."""
    ident: str = args["id"]
    if control.status is Runstate.PRELAUNCH:
        control.add_set(f"~{ident}", who)
        return {}

    obj = control.machine.find(ident)
    if obj is None or obj is control.machine.root:
        raise QmpError(f"Device '{ident}' not found", "DeviceNotFound")
    if not obj.info.hotpluggable:
        raise QmpError(f"Device '{ident}' does not support hotplugging: a {obj.info.name} "
                       "stays until the machine is gone (hotpluggable: ram)")  # fmt: skip
    emulator = control.emulator()
    base, end = obj.get("base"), obj.get("base") + obj.get("size")
    for cpu in emulator.cpus if emulator is not None else ():
        if base <= cpu.pc < end:
            raise QmpError(f"Device '{ident}' is in use: {cpu.obj.key} runs code from it "
                           f"(pc {cpu.pc:#x}); stop the guest's use of it first")  # fmt: skip
    return _hotplug(control, f"~{obj.key}", who, remove=obj)


def _hotplug(control: Control, tweak: str, who: str, add: str = "", remove: Any = None) -> Any:
    """Change a built machine: the tweak joins the configuration (with its origin) if the
    whole new configuration builds; then the object joins or leaves the live machine and,
    if it runs, the CPUs' memory maps."""
    from qconf.assembly.builder import build
    from qconf.assembly.hotplug import plug, unplug

    control.sets.append((tweak, who))
    try:
        checked = build(control.resolve())
    except QconfError as exc:
        control.sets.pop()
        raise _problems(exc) from None
    emulator = control.emulator()
    try:
        if remove is not None:
            gone = {"device": remove.key, "path": remove.path}
            if emulator is not None:
                emulator.unplug_memory(remove)
            unplug(control.machine, remove)
            control.plugged.discard(gone["path"])
            control.events.append({"event": "DEVICE_DELETED", "data": gone})
        else:
            obj = plug(control.machine, checked, add)
            if emulator is not None:
                try:
                    emulator.plug_memory(obj)
                except BaseException:
                    unplug(control.machine, obj)
                    raise
            control.plugged.add(obj.path)
    except QconfError as exc:
        control.sets.pop()
        raise _problems(exc) from None
    finally:
        checked.destroy()
    return {}
