"""What a client asks about the machine: ``query-cpus-fast``, ``query-target``,
``query-memory-size-summary``, ``query-kvm``, ``query-name``. (The commands about the
commands, ``query-commands`` and ``query-qmp-schema``, are in ``commands``.)"""

from __future__ import annotations

from typing import Any

from qconf.qmp.control import Control

__all__ = (
    "query_cpus_fast",
    "query_kvm",
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
