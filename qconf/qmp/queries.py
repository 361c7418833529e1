"""What a client asks about the machine: ``query-cpus-fast``, ``query-target``,
``query-memory-size-summary``, ``query-kvm``, ``query-name``, and what management tools
ask first: ``query-machines`` (the profiles), ``query-cpu-definitions`` (the CPU types),
``query-events``, ``query-chardev``, ``query-hotpluggable-cpus``. (The commands about the
commands, ``query-commands`` and ``query-qmp-schema``, are in ``commands``.)"""

from __future__ import annotations

from typing import Any

from qconf.qmp.control import Control

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

    if control.machine is None:
        return []
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
    if control.machine is None:
        return {"base-memory": 0, "plugged-memory": 0}
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
    """The machines qconf knows by name: the profiles on the search path, each with its
    number of CPUs (``cpu-max``: qconf adds no CPUs to a running machine) and its first
    CPU's type; a profile that does not resolve is left out."""
    from qconf.config.search import SearchPath
    from qconf.errors import QconfError
    from qconf.resolve import registry_for, resolve

    search = SearchPath.default(control.include_dirs)
    types = registry_for(search)
    out = []
    for name in search.names():
        try:
            doc = resolve([name], include_dirs=control.include_dirs)
        except QconfError:
            continue
        cpus = [info.name for _, node in doc.objects()
                if (info := doc.type_of(node)) is not None and info.category == "cpu"]  # fmt: skip
        entry: dict[str, Any] = {"name": name, "cpu-max": len(cpus), "hotpluggable-cpus": False,
                                 "numa-mem-supported": False, "deprecated": False,
                                 "acpi": False}  # fmt: skip
        if cpus and types.find(cpus[0]) is not None:
            entry["default-cpu-type"] = cpus[0]
        out.append(entry)
    return out


def query_cpu_definitions(control: Control, args: dict[str, Any], who: str) -> Any:
    """Every CPU type, as QEMU lists its CPU models."""
    from qconf.config.search import SearchPath
    from qconf.resolve import registry_for

    types = registry_for(SearchPath.default(control.include_dirs))
    return [{"name": info.name, "typename": info.name, "static": False, "deprecated": False,
             "migration-safe": False} for info in types if info.category == "cpu"]  # fmt: skip


def query_events(control: Control, args: dict[str, Any], who: str) -> Any:
    """Every event qconf sends (as ``query-qmp-schema`` lists them)."""
    from qconf.qmp.schema import EVENTS

    return [{"name": name} for name in EVENTS]


def query_chardev(control: Control, args: dict[str, Any], who: str) -> Any:
    """The character backends of the built machine: ``label`` (the backend's dotted path),
    ``filename`` (QEMU's form: ``stdio``, ``file:PATH``, ``socket:...``) and whether a
    device uses it (``frontend-open``)."""
    if control.machine is None:
        return []
    used = {b.path for (_, kind), b in control.machine.backends.items() if kind == "chardev"}
    return [{"label": obj.key, "filename": _chardev_filename(obj),
             "frontend-open": obj.path in used}
            for obj in control.machine.objects() if obj.info.name == "chardev"]  # fmt: skip


def _chardev_filename(obj: Any) -> str:
    """A backend as QEMU's ``query-chardev`` writes it (``file:PATH``, ``tcp:HOST:PORT``)."""
    kind = str(obj.get("backend"))
    server = ",server=on" if obj.get("server") else ""
    if kind in ("file", "unix"):
        return f"{kind}:{obj.get('path')}{server if kind == 'unix' else ''}"
    if kind == "tcp":
        return f"tcp:{obj.get('host')}:{obj.get('port')}{server}"
    return kind


def query_hotpluggable_cpus(control: Control, args: dict[str, Any], who: str) -> Any:
    """The CPUs of the built machine as QEMU lists its CPU slots; every slot is taken
    (qconf adds no CPUs to a machine once built)."""
    if control.machine is None:
        return []
    return [{"type": cpu.info.name, "vcpus-count": 1, "props": {"core-id": i},
             "qom-path": cpu.path} for i, cpu in enumerate(control.machine.cpus())]  # fmt: skip
