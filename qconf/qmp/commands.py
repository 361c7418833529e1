"""Every QMP command, declared once: its QMP name (QEMU's where QEMU has one), its
arguments, the run states it is allowed in, and the function that runs it (see
``registry``). The functions are in ``run_commands`` (run state, configuration), ``qom``
(objects, types, hotplug), ``guest`` (memory, registers, consoles), ``queries``, and here
for the commands about the commands (``query-commands``, ``query-qmp-schema``) and the
human monitor, which runs some of them."""

from __future__ import annotations

from typing import Any

from qconf.qmp import guest, hmp, qom, queries, run_commands
from qconf.qmp.control import Control
from qconf.qmp.registry import ALIVE, BUILT, INITIALIZED, PRELAUNCH, STARTED, Command, declare

__all__ = ("COMMANDS",)


def query_commands(control: Control, args: dict[str, Any], who: str) -> Any:
    """Every command's name."""
    return [{"name": name} for name in COMMANDS]


def query_qmp_schema(control: Control, args: dict[str, Any], who: str) -> Any:
    """Every command, event and object type, in QAPI's SchemaInfo format."""
    from qconf.config.search import SearchPath
    from qconf.qmp.schema import qmp_schema
    from qconf.resolve import registry_for

    types = registry_for(SearchPath.default(control.include_dirs))
    return qmp_schema(COMMANDS.values(), types)


def human_monitor_command(control: Control, args: dict[str, Any], who: str) -> Any:
    """A human monitor command line (``info mtree``, ``x /4xw ADDR``...); its output."""
    return hmp.human_monitor_command(control, args, lambda name: COMMANDS[name](control, {}, who))


COMMANDS: dict[str, Command] = declare(
    Command("qmp_capabilities", run_commands.qmp_capabilities, {"*enable": "[str]"}),
    Command("query-version", run_commands.query_version),
    Command("query-commands", query_commands),
    Command("query-status", run_commands.query_status),
    Command("stop", run_commands.stop, allowed=INITIALIZED),  # as QEMU: not in preconfig
    Command("cont", run_commands.cont),
    Command("quit", run_commands.quit_),
    Command("x-exit-preconfig", run_commands.x_exit_preconfig, allowed=PRELAUNCH),
    Command("qconf-add-file", run_commands.qconf_add_file, {"path": "str"}, allowed=PRELAUNCH),
    Command("qconf-set", run_commands.qconf_set, {"set": "str"}, allowed=PRELAUNCH),
    Command("qconf-validate", run_commands.qconf_validate),
    Command("qconf-resolve", run_commands.qconf_resolve, {"*origins": "bool"}),
    Command("qconf-explain", run_commands.qconf_explain, {"path": "str"}),
    Command("qom-list", qom.qom_list, {"path": "str"}),
    Command("qom-get", qom.qom_get, {"path": "str", "property": "str"}),
    Command("qom-set", qom.qom_set, {"path": "str", "property": "str", "value": "any"}),
    Command("qom-list-types", qom.qom_list_types, {"*implements": "str", "*abstract": "bool"}),
    Command("device-list-properties", qom.device_list_properties, {"typename": "str"}),
    Command("qom-list-properties", qom.device_list_properties, {"typename": "str"}),
    Command("device_add", qom.device_add, {"driver": "str", "id": "str", "*bus": "str"},
            allowed=ALIVE, open=True),
    Command("object-add", qom.device_add, {"qom-type": "str", "id": "str", "*bus": "str"},
            allowed=ALIVE, open=True),
    Command("device_del", qom.device_del, {"id": "str"}, allowed=ALIVE),
    Command("object-del", qom.device_del, {"id": "str"}, allowed=ALIVE),
    Command("qconf-console-write", guest.console_write,
            {"device": "str", "data": "str", "*format": "str"}, allowed=STARTED),
    Command("qconf-memory-read", guest.memory_read,
            {"cpu": "str", "address": "int", "size": "int"}, allowed=STARTED),
    Command("qconf-memory-write", guest.memory_write,
            {"cpu": "str", "address": "int", "data": "str"}, allowed=STARTED),
    Command("memsave", guest.memory_save,
            {"val": "int", "size": "int", "filename": "str", "*cpu-index": "int"}, allowed=STARTED),
    Command("pmemsave", guest.memory_save, {"val": "int", "size": "int", "filename": "str"},
            allowed=STARTED),
    Command("qconf-register-read", guest.register_read, {"cpu": "str", "register": "str"},
            allowed=STARTED),
    Command("qconf-register-write", guest.register_write,
            {"cpu": "str", "register": "str", "value": "int"}, allowed=STARTED),
    Command("qconf-console-events", guest.console_events, {"*enable": "bool"}),
    Command("query-qmp-schema", query_qmp_schema),
    Command("system_reset", run_commands.system_reset, allowed=BUILT),
    Command("qconf-diff", run_commands.qconf_diff, {"path": "str"}),
    Command("query-memory-size-summary", queries.query_memory_size_summary),
    Command("human-monitor-command", human_monitor_command,
            {"command-line": "str", "*cpu-index": "int"}),
    Command("query-cpus-fast", queries.query_cpus_fast),
    Command("query-target", queries.query_target),
    Command("query-kvm", queries.query_kvm),
    Command("query-name", queries.query_name),
    Command("query-machines", queries.query_machines),
    Command("query-cpu-definitions", queries.query_cpu_definitions),
    Command("query-events", queries.query_events),
    Command("query-chardev", queries.query_chardev),
    Command("query-hotpluggable-cpus", queries.query_hotpluggable_cpus),
)  # fmt: skip
"""Every command, by its QMP name, in the order ``query-commands`` and
``query-qmp-schema`` list them."""
