"""What a client asks about the machine, in QEMU 7.2's reply shapes: ``query-cpus-fast``,
``query-target``, ``query-memory-size-summary``, ``query-kvm``, ``query-name``, and what
management tools ask first: ``query-machines`` (qconf's profiles), ``query-cpu-definitions``
(its CPU types), ``query-chardev``, ``query-events``, ``query-hotpluggable-cpus``. (The
commands about the commands, ``query-commands`` and ``query-qmp-schema``, are in
``commands``.)"""

from __future__ import annotations

from typing import Any

from qconf.config.search import SearchPath
from qconf.errors import QconfError
from qconf.qmp.control import Control
from qconf.qmp.protocol import QmpError
from qconf.qmp.qom import machine_for_qom
from qconf.qmp.schema import EVENTS

__all__ = (
    "query_chardev",
    "query_cpu_definitions",
    "query_cpus_fast",
    "query_events",
    "query_hotpluggable_cpus",
    "query_kvm",
    "query_machines",
    "query_memory_size_summary",
    "query_name",
    "query_target",
)


def query_cpus_fast(control: Control, args: dict[str, Any], who: str) -> Any:
    """Every CPU of the built machine: index, QOM path, architecture (``target``), as
    QEMU's; ``thread-id`` is qconf's (every CPU runs in its one thread)."""
    import os

    cpus = control.machine.cpus()
    return [{"cpu-index": i, "qom-path": cpu.path, "thread-id": os.getpid(),
             "props": {"core-id": i}, "target": cpu.info.arch_info.qemu_target}
            for i, cpu in enumerate(cpus)]  # fmt: skip


def query_target(control: Control, args: dict[str, Any], who: str) -> Any:
    """The first CPU's architecture (a heterogeneous machine has several: see
    ``query-cpus-fast``)."""
    cpus = query_cpus_fast(control, {}, who)
    return {"arch": cpus[0]["target"] if cpus else "none"}


def query_memory_size_summary(control: Control, args: dict[str, Any], who: str) -> Any:
    """RAM in bytes: ``base-memory`` built with the machine, ``plugged-memory`` added to
    it since (memory hotplug), as QEMU counts them."""
    rams = control.machine.rams()
    total = sum(o.get("size") for o in rams)
    plugged = sum(o.get("size") for o in rams if o.path in control.plugged)
    return {"base-memory": total - plugged, "plugged-memory": plugged}


def query_kvm(control: Control, args: dict[str, Any], who: str) -> Any:
    """As QEMU without KVM: neither present nor enabled."""
    return {"enabled": False, "present": False}


def query_name(control: Control, args: dict[str, Any], who: str) -> Any:
    """As QEMU without ``-name``: no name."""
    return {}


def query_machines(control: Control, args: dict[str, Any], who: str) -> Any:
    """The machine types: qconf's profiles on the search path, each with its CPUs (count
    and first type) and first RAM, as QEMU's ``MachineInfo``."""
    from qconf.assembly.builder import build
    from qconf.resolve import resolve

    out = []
    for name in SearchPath.default(control.include_dirs).names():
        row: dict[str, Any] = {"name": name, "cpu-max": 0, "hotpluggable-cpus": False,
                               "numa-mem-supported": False, "deprecated": False}  # fmt: skip
        try:
            machine = build(resolve([name], include_dirs=control.include_dirs))
        except QconfError:  # listed all the same; qconf-validate or x-exit-preconfig tell why
            out.append(row)
            continue
        cpus = [o.info.name for o in machine.cpus()]
        rams = [o.key for o in machine.rams()]
        machine.destroy()
        row["cpu-max"] = len(cpus)
        if cpus:
            row["default-cpu-type"] = cpus[0]
        if rams:
            row["default-ram-id"] = rams[0]
        out.append(row)
    return out


def query_cpu_definitions(control: Control, args: dict[str, Any], who: str) -> Any:
    """The CPU types, as QEMU's ``CpuDefinitionInfo`` (qconf's type names are its QOM type
    names)."""
    from qconf.resolve import registry_for

    registry = registry_for(SearchPath.default(control.include_dirs))
    return [{"name": info.name, "typename": info.name, "static": False, "deprecated": False}
            for info in registry if info.arch is not None]  # fmt: skip


def query_events(control: Control, args: dict[str, Any], who: str) -> Any:
    """Every event's name (QEMU dropped this command in 6.0 for ``query-qmp-schema``; older
    tools still ask)."""
    return [{"name": name} for name in EVENTS]


def query_chardev(control: Control, args: dict[str, Any], who: str) -> Any:
    """The character devices: the QMP sockets (``compat_monitorN``, as QEMU names them) and
    the machine's chardev backends (before the build, as configured so far), with
    ``frontend-open`` once the running machine uses one."""
    out = [{"label": f"compat_monitor{i}", "filename": name, "frontend-open": True}
           for i, name in enumerate(control.monitors)]  # fmt: skip
    machine = machine_for_qom(control)
    emulator = control.emulator()
    opened = emulator.consoles.opened if emulator is not None else {}
    for obj in machine.objects():
        if obj.info.category == "backend" and "backend" in obj.info.prop_names:  # a chardev
            out.append({"label": obj.path.rsplit("/", 1)[-1], "filename": _filename(obj),
                        "frontend-open": obj in opened})  # fmt: skip
    return out


def _filename(chardev: Any) -> str:
    """A chardev backend as QEMU writes its ``filename``: ``stdio``, ``null``,
    ``file:PATH``, ``unix:PATH,server=on``, ``tcp:HOST:PORT,server=on``."""
    kind, path = chardev.get("backend"), chardev.get("path")
    server = ",server=on" if chardev.get("server") else ""
    if kind == "file":
        return f"file:{path}"
    if kind == "unix":
        return f"unix:{path}{server}"
    if kind == "tcp":
        return f"tcp:{chardev.get('host')}:{chardev.get('port')}{server}"
    return str(kind)


def query_hotpluggable_cpus(control: Control, args: dict[str, Any], who: str) -> Any:
    """QEMU's answer for machines whose CPUs cannot be plugged (riscv64 and arm64 ``virt``),
    which qconf's machines are."""
    raise QmpError("The feature 'query-hotpluggable-cpus' is not enabled")
