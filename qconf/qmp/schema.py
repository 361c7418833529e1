"""``query-qmp-schema``: the commands, events and object types in QAPI's SchemaInfo format,
from the same declarations as ``qconf types`` and the JSON Schema (the type registry) and
the command table. Type names are masked as numbers, as QEMU does; the list is the same
for a given set of types, so clients may cache it."""

from __future__ import annotations

from typing import Any

from qconf.qmp.protocol import QmpError

__all__ = ("COMMAND_ARGS", "EVENTS", "check_arguments", "qmp_schema")

# name -> [(argument, QAPI type, optional)]; "any" for values of any JSON type
COMMAND_ARGS: dict[str, list[tuple[str, str, bool]]] = {
    "qmp_capabilities": [("enable", "[str]", True)],
    "qom-list": [("path", "str", False)],
    "qom-get": [("path", "str", False), ("property", "str", False)],
    "qom-set": [("path", "str", False), ("property", "str", False), ("value", "any", False)],
    "qom-list-types": [("implements", "str", True), ("abstract", "bool", True)],
    "device-list-properties": [("typename", "str", False)],
    "qom-list-properties": [("typename", "str", False)],
    "device_add": [("driver", "str", False), ("id", "str", False), ("bus", "str", True)],
    "object-add": [("qom-type", "str", False), ("id", "str", False), ("bus", "str", True)],
    "device_del": [("id", "str", False)],
    "object-del": [("id", "str", False)],
    "qconf-add-file": [("path", "str", False)],
    "qconf-set": [("set", "str", False)],
    "qconf-resolve": [("origins", "bool", True)],
    "qconf-explain": [("path", "str", False)],
    "qconf-diff": [("path", "str", False)],
    "qconf-memory-read": [("cpu", "str", False), ("address", "int", False),
                          ("size", "int", False)],
    "qconf-memory-write": [("cpu", "str", False), ("address", "int", False),
                           ("data", "str", False)],
    "qconf-register-read": [("cpu", "str", False), ("register", "str", False)],
    "qconf-register-write": [("cpu", "str", False), ("register", "str", False),
                             ("value", "int", False)],
    "qconf-console-events": [("enable", "bool", True)],
    "qconf-console-write": [("device", "str", False), ("data", "str", False),
                            ("format", "str", True)],
    "human-monitor-command": [("command-line", "str", False), ("cpu-index", "int", True)],
}  # fmt: skip

OPEN_COMMANDS = frozenset({"device_add", "object-add"})
"""Commands that take more arguments than they declare (the new object's properties)."""

_JSON_TYPES = {"str": ("string", str), "int": ("integer", int), "bool": ("boolean", bool)}


def check_arguments(command: str, args: dict[str, Any]) -> None:
    """Check ``args`` against the command's declaration, in QEMU's order and words:
    each declared argument (missing, or of the wrong JSON type), then unexpected ones.

    :raises QmpError: on the first problem.
    """
    declared = COMMAND_ARGS.get(command, [])
    for name, declared_type, optional in declared:
        if name not in args:
            if optional:
                continue
            raise QmpError(f"Parameter '{name}' is missing")
        value, qapi = args[name], declared_type
        if qapi.startswith("["):
            if not isinstance(value, list):
                raise QmpError(f"Invalid parameter type for '{name}', expected: array")
            items = [(f"{name}[{i}]", item) for i, item in enumerate(value)]
            qapi = qapi[1:-1]
        else:
            items = [(name, value)]
        if qapi == "any":
            continue
        label, kind = _JSON_TYPES[qapi]
        for where, item in items:
            ok = isinstance(item, kind) and (kind is bool or not isinstance(item, bool))
            if not ok:
                raise QmpError(f"Invalid parameter type for '{where}', expected: {label}")
    if command not in OPEN_COMMANDS:
        names = {name for name, _, _ in declared}
        for name in args:
            if name not in names:
                raise QmpError(f"Parameter '{name}' is unexpected")


EVENTS: dict[str, list[tuple[str, str, bool]]] = {
    "STOP": [],
    "RESET": [("guest", "bool", False), ("reason", "str", False)],
    "RESUME": [],
    "SHUTDOWN": [("guest", "bool", False), ("reason", "str", False)],
    "QCONF_CONSOLE": [("device", "str", False), ("data", "str", False)],
    "DEVICE_DELETED": [("device", "str", True), ("path", "str", False)],
    "QCONF_GUEST_FAULT": [("cpu", "str", False), ("pc", "int", False), ("cause", "str", False)],
}

BUILTINS = {"str": "string", "int": "int", "bool": "boolean", "any": "value", "null": "null"}


class _Schema:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = [
            {"name": name, "meta-type": "builtin", "json-type": json_type}
            for name, json_type in BUILTINS.items()
        ]
        self.count = 0

    def _name(self) -> str:
        self.count += 1
        return str(self.count)

    def type_ref(self, qapi: str) -> str:
        if qapi.startswith("["):
            name = self._name()
            self.entries.append({"name": name, "meta-type": "array",
                                 "element-type": self.type_ref(qapi[1:-1])})  # fmt: skip
            return name
        return qapi

    def object(self, members: list[tuple[str, str, bool]], extra: dict[str, Any] | None = None
               ) -> str:  # fmt: skip
        name = self._name()
        entry: dict[str, Any] = {"name": name, "meta-type": "object", "members": []}
        for member, qapi, optional in members:
            row: dict[str, Any] = {"name": member, "type": self.type_ref(qapi)}
            if optional:
                row["default"] = None
            entry["members"].append(row)
        entry.update(extra or {})
        self.entries.append(entry)
        return name


def qmp_schema(commands: list[str], registry: Any) -> list[dict[str, Any]]:
    """The SchemaInfo list for ``commands`` and the object types of ``registry``."""
    schema = _Schema()
    for name in commands:
        arg = schema.object(COMMAND_ARGS.get(name, []))
        entry: dict[str, Any] = {"name": name, "meta-type": "command", "arg-type": arg,
                                 "ret-type": "any"}  # fmt: skip
        if name.startswith("x-"):
            entry["features"] = ["unstable"]
        schema.entries.append(entry)
    for name, members in EVENTS.items():
        schema.entries.append({"name": name, "meta-type": "event",
                               "arg-type": schema.object(members)})  # fmt: skip
    for info in registry:
        members = []
        for prop, field_info in info.model().model_fields.items():
            annotation = str(field_info.annotation)
            qapi = (
                "int"
                if "int" in annotation
                else "bool"
                if "bool" in annotation
                else ("[str]" if "list" in annotation else "str")
            )
            members.append((prop, qapi, not field_info.is_required()))
        schema.object(members, {"qconf-type": info.name})
    return schema.entries
