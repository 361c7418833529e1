"""Every QMP command, by its QMP name (QEMU's where QEMU has one), and the function that
runs it: in ``run_commands`` (run state, configuration), ``qom`` (objects, types,
hotplug), ``guest`` (memory, registers, consoles) or ``queries``."""

from __future__ import annotations

from qconf.qmp import guest, qom, queries, run_commands
from qconf.qmp.control import Handler

__all__ = ("COMMANDS",)

COMMANDS: dict[str, Handler] = {
    "qmp_capabilities": run_commands.qmp_capabilities,
    "query-version": run_commands.query_version,
    "query-commands": run_commands.query_commands,
    "query-status": run_commands.query_status,
    "stop": run_commands.stop,
    "cont": run_commands.cont,
    "quit": run_commands.quit_,
    "x-exit-preconfig": run_commands.x_exit_preconfig,
    "qconf-add-file": run_commands.qconf_add_file,
    "qconf-set": run_commands.qconf_set,
    "qconf-validate": run_commands.qconf_validate,
    "qconf-resolve": run_commands.qconf_resolve,
    "qconf-explain": run_commands.qconf_explain,
    "qom-list": qom.qom_list,
    "qom-get": qom.qom_get,
    "qom-set": qom.qom_set,
    "qom-list-types": qom.qom_list_types,
    "device-list-properties": qom.device_list_properties,
    "qom-list-properties": qom.device_list_properties,
    "device_add": qom.device_add,
    "object-add": qom.device_add,
    "device_del": qom.device_del,
    "object-del": qom.device_del,
    "qconf-console-write": guest.console_write,
    "qconf-memory-read": guest.memory_read,
    "qconf-memory-write": guest.memory_write,
    "qconf-register-read": guest.register_read,
    "qconf-register-write": guest.register_write,
    "qconf-console-events": guest.console_events,
    "query-qmp-schema": queries.query_qmp_schema,
    "system_reset": run_commands.system_reset,
    "qconf-diff": run_commands.qconf_diff,
    "query-memory-size-summary": queries.query_memory_size_summary,
    "human-monitor-command": queries.human_monitor_command,
    "query-cpus-fast": queries.query_cpus_fast,
    "query-target": queries.query_target,
    "query-kvm": lambda control, args, who: {"enabled": False, "present": False},
    "query-name": lambda control, args, who: {},
}
"""Every command, by its QMP name, in the order ``query-commands`` and
``query-qmp-schema`` list them."""
