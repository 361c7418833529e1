"""What QMP commands act on: the layers of the document, the machine built from them, and
the run state. One ``Control`` per qconf process, shared by every client."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from qconf.config.layers import Layer, load_layers
from qconf.config.overrides import parse_override
from qconf.config.paths import PathSyntaxError, parse_path
from qconf.config.search import SearchPath
from qconf.errors import QconfError, flatten
from qconf.qmp.protocol import QmpError

__all__ = ("COMMANDS", "Control")

Handler = Callable[["Control", dict[str, Any], str], Any]


def _problems(exc: QconfError) -> QmpError:
    return QmpError("\n".join(line for err in flatten(exc) for line in err.lines()))


@dataclass
class Control:
    """The configuration (files and tweaks, in order) and the machine's life."""

    files: list[str] = field(default_factory=list)
    sets: list[tuple[str, str | None]] = field(default_factory=list)  # (text, who)
    include_dirs: list[str] = field(default_factory=list)
    status: str = "prelaunch"  # prelaunch (preconfig), paused, running, shutdown
    machine: Any = None
    start_paused: bool = False
    events: list[dict[str, Any]] = field(default_factory=list)
    quit_requested: bool = False
    emulation: Any = None  # the running emulation, once the machine runs
    console_clients: set[int] = field(default_factory=set)  # sessions that want output
    console_buffer: list[dict[str, Any]] = field(default_factory=list)
    reset_requested: bool = False
    plugged: set[str] = field(default_factory=set)  # paths of objects hotplugged since build
    prepare: Callable[[Any], Any] | None = None  # machine -> its prepared emulator
    prepared: Any = None  # ... made at the build, so that a missing image is a build error
    preview: Any = None  # before the build: (machine, tweaks, inputs) the QOM commands show

    def console_output(self, device: str, data: bytes) -> None:
        """A UART wrote ``data``: kept for the clients that asked for it, one chunk per
        device until the next delivery."""
        if not self.console_clients:
            return
        last = self.console_buffer[-1] if self.console_buffer else None
        text = data.decode("latin-1")
        if last is not None and last["device"] == device:
            last["data"] += text
        else:
            self.console_buffer.append({"device": device, "data": text})

    def take_console(self) -> list[dict[str, Any]]:
        """The output chunks since the last call, in order (events ``QCONF_CONSOLE``)."""
        chunks, self.console_buffer = self.console_buffer, []
        return chunks

    # --- the document ---------------------------------------------------------------

    def layers(self) -> list[Layer]:
        search = SearchPath.default(self.include_dirs)
        layers: list[Layer] = list(load_layers(self.files, [], search))
        for i, (text, who) in enumerate(self.sets, 1):
            layers.append(parse_override(text, i, label=who))
        return layers

    def resolve(self) -> Any:
        from qconf.resolve import resolve_layers

        return resolve_layers(self.layers(), search=SearchPath.default(self.include_dirs))

    # --- the machine ----------------------------------------------------------------

    def emulator(self) -> Any:
        """The emulator of the built machine: the running one, else the one prepared at
        the build (None before it)."""
        return self.emulation.host if self.emulation is not None else self.prepared

    def drop_preview(self) -> None:
        """Forget the machine shown before the build (see :func:`machine_for_qom`)."""
        if self.preview is not None:
            self.preview[0].destroy()
            self.preview = None

    def build(self) -> None:
        """Resolve, build, and prepare the run (map memory, load images); stay in
        preconfig (raising every problem) if any of that fails."""
        from qconf.build.builder import build

        self.drop_preview()

        try:
            machine = build(self.resolve())
        except QconfError as exc:
            raise _problems(exc) from None
        if self.prepare is not None:
            try:
                self.prepared = self.prepare(machine)
            except QconfError as exc:
                machine.destroy()
                raise _problems(exc) from None
        self.machine = machine
        self.status = "paused" if self.start_paused else "running"


PHASES = {
    "prelaunch": "before the machine is built (in preconfig, until x-exit-preconfig)",
    "built": "once the machine is built (after x-exit-preconfig)",
    "running": "once the machine has started (after x-exit-preconfig and cont)",
}


def _need(control: Control, name: str, phase: str) -> None:
    """Refuse a command in the wrong phase, naming the one it needs and the current one."""
    now = control.status
    ok = {"prelaunch": now == "prelaunch",
          "built": control.machine is not None and now != "shutdown",
          "running": control.emulation is not None and now != "shutdown"}[phase]  # fmt: skip
    if not ok:
        raise QmpError(f"The command '{name}' is permitted only {PHASES[phase]}; "
                       f"the machine is {now}")  # fmt: skip


def qmp_capabilities(control: Control, args: dict[str, Any], who: str) -> Any:
    raise AssertionError("handled by the session")  # pragma: no cover


def query_version(control: Control, args: dict[str, Any], who: str) -> Any:
    from qconf import __version__
    from qconf.qmp.protocol import QEMU_VERSION

    return {"qemu": dict(QEMU_VERSION), "package": f"qconf {__version__}"}


def query_commands(control: Control, args: dict[str, Any], who: str) -> Any:
    return [{"name": name} for name in COMMANDS]


def query_status(control: Control, args: dict[str, Any], who: str) -> Any:
    return {"status": control.status, "singlestep": False,
            "running": control.status == "running"}  # fmt: skip


def stop(control: Control, args: dict[str, Any], who: str) -> Any:
    if control.status == "running":
        control.status = "paused"
        control.events.append({"event": "STOP"})
    return {}


def cont(control: Control, args: dict[str, Any], who: str) -> Any:
    if control.status == "prelaunch":
        control.build()  # as if x-exit-preconfig then cont
    if control.status == "paused":
        control.status = "running"
        control.events.append({"event": "RESUME"})
    return {}


def quit_(control: Control, args: dict[str, Any], who: str) -> Any:
    control.quit_requested = True
    control.events.append({"event": "SHUTDOWN", "data": {"guest": False,
                                                         "reason": "host-qmp-quit"}})  # fmt: skip
    return {}


def x_exit_preconfig(control: Control, args: dict[str, Any], who: str) -> Any:
    _need(control, "x-exit-preconfig", "prelaunch")
    control.build()
    return {}


def qconf_add_file(control: Control, args: dict[str, Any], who: str) -> Any:
    """Add a file layer (a path, or a profile name) above those there are."""
    _need(control, "qconf-add-file", "prelaunch")
    path = _string(args, "path")
    control.files.append(path)
    try:
        control.layers()
    except QconfError as exc:
        control.files.pop()
        raise _problems(exc) from None
    return {}


def qconf_set(control: Control, args: dict[str, Any], who: str) -> Any:
    """Apply one ``--set``-style tweak; its origin names the client and command."""
    _need(control, "qconf-set", "prelaunch")
    text = _string(args, "set")
    control.sets.append((text, who))
    try:
        from qconf.config.layers import merge_layers
        from qconf.resolve import registry_for

        layers = control.layers()
        search = SearchPath.default(control.include_dirs)
        merge_layers(layers, registry_for(search, layers).declared)  # a path that exists?
    except QconfError as exc:
        control.sets.pop()
        raise _problems(exc) from None
    return {}


def qconf_validate(control: Control, args: dict[str, Any], who: str) -> Any:
    """Every problem of the configuration as it stands (GenericError), or ``{}``."""
    from qconf.build.builder import build

    try:
        build(control.resolve()).destroy()
    except QconfError as exc:
        raise _problems(exc) from None
    return {}


def qconf_resolve(control: Control, args: dict[str, Any], who: str) -> Any:
    """The resolved document (canonical values), with origins if ``origins`` is true."""
    from qconf.config.dump import dump

    try:
        doc = control.resolve()
    except QconfError as exc:
        raise _problems(exc) from None
    text = dump(doc.display_tree(pretty=False), "json", bool(args.get("origins")))
    return json.loads(text)


def qconf_explain(control: Control, args: dict[str, Any], who: str) -> Any:
    """Where the value at ``path`` was set, layer by layer."""
    from qconf.model.explain import explain

    text = _string(args, "path")
    try:
        path = parse_path(text) if text not in ("", ".") else ()
    except PathSyntaxError as exc:
        raise QmpError(f"bad path {text!r}: {exc}") from None
    try:
        return explain(control.resolve(), path).to_json()
    except QconfError as exc:
        raise _problems(exc) from None


def _string(args: dict[str, Any], name: str) -> str:
    value = args.get(name)
    if not isinstance(value, str):
        raise QmpError(f"Parameter '{name}' is missing" if value is None
                       else f"Invalid parameter type for '{name}', expected: string")  # fmt: skip
    return value


COMMANDS: dict[str, Handler] = {
    "qmp_capabilities": qmp_capabilities,
    "query-version": query_version,
    "query-commands": query_commands,
    "query-status": query_status,
    "stop": stop,
    "cont": cont,
    "quit": quit_,
    "x-exit-preconfig": x_exit_preconfig,
    "qconf-add-file": qconf_add_file,
    "qconf-set": qconf_set,
    "qconf-validate": qconf_validate,
    "qconf-resolve": qconf_resolve,
    "qconf-explain": qconf_explain,
}
"""Every command, by its QMP name (QEMU's where QEMU has one)."""


# --- QOM: the machine's objects, as QEMU's QOM commands show them ----------------------


def machine_for_qom(control: Control) -> Any:
    """The built machine, or (before the build) one built from the configuration so far:
    kept while the tweaks and every file it was read from are unchanged, so that a client
    walking the tree property by property does not resolve it again for each."""
    if control.machine is not None:
        return control.machine
    from qconf.build.snapshot import Inputs, searched

    preview = control.preview
    if preview is not None and preview[1] == control.sets and preview[2].unchanged():
        return preview[0]
    from qconf.build.builder import build
    from qconf.config.sources import recording_reads

    control.drop_preview()
    try:
        with recording_reads() as reads:
            machine = build(control.resolve())
    except QconfError as exc:
        raise _problems(exc) from None
    inputs = Inputs.of(reads, searched(control.files, control.include_dirs))
    control.preview = (machine, list(control.sets), inputs)
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
    annotation = str(info.props.model_fields[name].annotation)
    if "int" in annotation:
        return "int"
    if "bool" in annotation:
        return "bool"
    if "list" in annotation:
        return "list"
    return "str"


def qom_list(control: Control, args: dict[str, Any], who: str) -> Any:
    obj = _object(machine_for_qom(control), _string(args, "path"))
    out = [{"name": "type", "type": "string"}]
    out += [{"name": name, "type": f"child<{child.info.name}>"}
            for name, child in obj.children.items()]  # fmt: skip
    out += [{"name": name, "type": _prop_type(obj.info, name)}
            for name in obj.info.props.model_fields]  # fmt: skip
    return out


def qom_get(control: Control, args: dict[str, Any], who: str) -> Any:
    obj = _object(machine_for_qom(control), _string(args, "path"))
    prop = _string(args, "property")
    if prop == "type":
        return obj.info.name
    if prop not in obj.info.prop_names:
        raise QmpError(f"Property '{obj.info.name}.{prop}' not found")
    return obj.get(prop)


def qom_set(control: Control, args: dict[str, Any], who: str) -> Any:
    """Before the build, a tweak of the configuration (with its origin); after it, a
    write to the object, where the type allows it."""
    path, prop = _string(args, "path"), _string(args, "property")
    if "value" not in args:
        raise QmpError("Parameter 'value' is missing")
    value = args["value"]
    if control.machine is None:
        if not path.startswith("/machine"):
            raise QmpError(f"Device '{path}' not found", "DeviceNotFound")
        dotted = ".".join(p for p in path.split("/")[2:] if p)
        key = f"{dotted}.{prop}" if dotted else prop
        return qconf_set(control, {"set": f"{key}={json.dumps(value)}"}, who)
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
    from qconf.resolve import registry_for

    name = _string(args, "typename")
    info = registry_for(SearchPath.default(control.include_dirs)).find(name)
    if info is None:
        raise QmpError(f"Parameter 'typename' expects a type name: '{name}' is not one",
                       "DeviceNotFound")  # fmt: skip
    out = []
    for prop, field_info in info.props.model_fields.items():
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
    if control.machine is None:
        return qconf_set(control, {"set": tweak}, who)
    _need(control, "device_add", "built")
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
    ident = _string(args, "id")
    if control.machine is None:
        return qconf_set(control, {"set": f"~{ident}"}, who)
    _need(control, "device_del", "built")

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
    from qconf.build.builder import build
    from qconf.build.hotplug import plug, unplug

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


COMMANDS.update({
    "qom-list": qom_list,
    "qom-get": qom_get,
    "qom-set": qom_set,
    "qom-list-types": qom_list_types,
    "device-list-properties": device_list_properties,
    "qom-list-properties": device_list_properties,
    "device_add": device_add,
    "object-add": device_add,
    "device_del": device_del,
    "object-del": device_del,
})  # fmt: skip


# --- guest state and output of a running machine ----------------------------------------


def _cpu(control: Control, path: str) -> Any:
    for cpu in control.emulation.cpus:
        if path in (cpu.obj.path, cpu.obj.key):
            return cpu
    raise QmpError(f"Device '{path}' not found (a CPU path, e.g. /machine/cpu0)",
                   "DeviceNotFound")  # fmt: skip


def _int(args: dict[str, Any], name: str) -> int:
    value = args.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise QmpError(f"Parameter '{name}' is missing" if value is None
                       else f"Invalid parameter type for '{name}', expected: integer")  # fmt: skip
    return value


def memory_read(control: Control, args: dict[str, Any], who: str) -> Any:
    """``size`` bytes at ``address`` as ``cpu`` sees them, as hex."""
    _need(control, "qconf-memory-read", "running")
    cpu = _cpu(control, _string(args, "cpu"))
    size = _int(args, "size")
    if not 0 < size <= 1 << 20:
        raise QmpError("Parameter 'size' must be between 1 and 1048576")
    try:
        return {"data": bytes(cpu.uc.mem_read(_int(args, "address"), size)).hex()}
    except Exception as exc:
        raise QmpError(f"cannot read guest memory: {exc}") from None


def memory_write(control: Control, args: dict[str, Any], who: str) -> Any:
    """Write ``data`` (hex) at ``address`` as ``cpu`` sees it; every CPU's translated
    code is dropped, since the bytes may be code."""
    _need(control, "qconf-memory-write", "running")
    cpu = _cpu(control, _string(args, "cpu"))
    try:
        data = bytes.fromhex(_string(args, "data"))
        cpu.uc.mem_write(_int(args, "address"), data)
    except (ValueError, Exception) as exc:
        raise QmpError(f"cannot write guest memory: {exc}") from None
    for other in control.emulation.cpus:
        other.uc.ctl_flush_tb()
    return {}


def _register_id(cpu: Any, name: str) -> int:
    from unicorn import arm64_const, arm_const, riscv_const

    prefix, module = {"aarch64": ("UC_ARM64_REG_", arm64_const),
                      "cortex-m": ("UC_ARM_REG_", arm_const)}.get(
        cpu.arch, ("UC_RISCV_REG_", riscv_const))  # fmt: skip
    reg = getattr(module, prefix + name.upper(), None)
    if not isinstance(reg, int):
        raise QmpError(f"{cpu.obj.key} has no register {name!r}")
    return reg


def register_read(control: Control, args: dict[str, Any], who: str) -> Any:
    _need(control, "qconf-register-read", "running")
    cpu = _cpu(control, _string(args, "cpu"))
    return {"value": int(cpu.uc.reg_read(_register_id(cpu, _string(args, "register"))))}


def register_write(control: Control, args: dict[str, Any], who: str) -> Any:
    _need(control, "qconf-register-write", "running")
    cpu = _cpu(control, _string(args, "cpu"))
    name = _string(args, "register")
    cpu.uc.reg_write(_register_id(cpu, name), _int(args, "value"))
    if name.lower() == "pc":
        cpu.pc = _int(args, "value")
    return {}


def console_events(control: Control, args: dict[str, Any], who: str) -> Any:
    """``enable`` true or false: send an event ``QCONF_CONSOLE`` ({device, data}) with each
    chunk of output any UART writes, to this client."""
    session = int(who.split()[2])
    if args.get("enable", True):
        control.console_clients.add(session)
    else:
        control.console_clients.discard(session)
    return {}


def console_write(control: Control, args: dict[str, Any], who: str) -> Any:
    """Type ``data`` into the UART at ``device`` (its path), as if on its console, before
    what its own backend brings; ``format`` is ``utf8`` (default) or ``base64``, as
    QEMU's ``ringbuf-write``."""
    import base64
    import binascii
    from collections import deque

    _need(control, "qconf-console-write", "running")
    path, text = _string(args, "device"), _string(args, "data")
    obj = control.machine.find(path)
    if obj is None or "chardev" not in obj.info.prop_names:
        raise QmpError(f"Device '{path}' not found (a UART's path, e.g. /machine/soc/uart0)",
                       "DeviceNotFound")  # fmt: skip
    fmt = args.get("format", "utf8")
    if fmt == "base64":
        try:
            data = base64.b64decode(text, validate=True)
        except binascii.Error:
            raise QmpError("Parameter 'data' is not valid base64") from None
    elif fmt == "utf8":
        data = text.encode()
    else:
        raise QmpError(f"Parameter 'format' does not accept value '{fmt}'")
    control.emulation.console_input.setdefault(obj, deque()).extend(data)
    return {}


COMMANDS.update({
    "qconf-console-write": console_write,
    "qconf-memory-read": memory_read,
    "qconf-memory-write": memory_write,
    "qconf-register-read": register_read,
    "qconf-register-write": register_write,
    "qconf-console-events": console_events,
})  # fmt: skip


def query_qmp_schema(control: Control, args: dict[str, Any], who: str) -> Any:
    from qconf.qmp.schema import qmp_schema
    from qconf.resolve import registry_for

    return qmp_schema(list(COMMANDS), registry_for(SearchPath.default(control.include_dirs)))


COMMANDS["query-qmp-schema"] = query_qmp_schema


def system_reset(control: Control, args: dict[str, Any], who: str) -> Any:
    """Restart the machine from power-on: memory cleared, programs loaded again, every
    CPU at its reset address (event ``RESET``)."""
    _need(control, "system_reset", "built")
    control.reset_requested = True
    return {}


COMMANDS["system_reset"] = system_reset


def qconf_diff(control: Control, args: dict[str, Any], who: str) -> Any:
    """The differences between the configuration so far and a file or profile (``path``),
    value by value, units understood (as ``qconf diff --format json``)."""
    from qconf.model.diff import diff
    from qconf.resolve import resolve

    try:
        here = control.resolve()
        other = resolve([_string(args, "path")], include_dirs=control.include_dirs)
    except QconfError as exc:
        raise _problems(exc) from None
    changes = diff(here, other)
    return {"equal": not changes, "changes": [c.to_json(here, other) for c in changes]}


COMMANDS["qconf-diff"] = qconf_diff


def human_monitor_command(control: Control, args: dict[str, Any], who: str) -> Any:
    """A human monitor command line (``info mtree``, ``x /4xw ADDR``...); its output."""
    from qconf.qmp.hmp import human_monitor_command as hmp

    return hmp(control, args, who)


def query_cpus_fast(control: Control, args: dict[str, Any], who: str) -> Any:
    """Every CPU of the built machine: index, QOM path, architecture (``target``), as
    QEMU's; ``thread-id`` is qconf's (every CPU runs in its one thread)."""
    import os

    if control.machine is None:
        return []
    cpus = [o for o in control.machine.objects() if o.info.category == "cpu"]
    return [{"cpu-index": i, "qom-path": cpu.path, "thread-id": os.getpid(),
             "props": {"core-id": i}, "target": _target(cpu.info.name)}
            for i, cpu in enumerate(cpus)]  # fmt: skip


def _target(cpu_type: str) -> str:
    """QEMU's target name for a qconf CPU type (riscv64, aarch64, arm)."""
    return "arm" if cpu_type.startswith("cortex-m") else cpu_type


def query_target(control: Control, args: dict[str, Any], who: str) -> Any:
    """The first CPU's architecture (a heterogeneous machine has several: see
    ``query-cpus-fast``)."""
    cpus = query_cpus_fast(control, {}, who)
    return {"arch": cpus[0]["target"] if cpus else "none"}


def query_memory_size_summary(control: Control, args: dict[str, Any], who: str) -> Any:
    """RAM in bytes: ``base-memory`` built with the machine, ``plugged-memory`` added to
    it since (memory hotplug), as QEMU counts them."""
    if control.machine is None:
        return {"base-memory": 0, "plugged-memory": 0}
    total = sum(o.get("size") for o in control.machine.objects() if o.info.name == "ram")
    plugged = sum(o.get("size") for o in control.machine.objects()
                  if o.info.name == "ram" and o.path in control.plugged)  # fmt: skip
    return {"base-memory": total - plugged, "plugged-memory": plugged}


COMMANDS.update({
    "query-memory-size-summary": query_memory_size_summary,
    "human-monitor-command": human_monitor_command,
    "query-cpus-fast": query_cpus_fast,
    "query-target": query_target,
    "query-kvm": lambda control, args, who: {"enabled": False, "present": False},
    "query-name": lambda control, args, who: {},
})  # fmt: skip
