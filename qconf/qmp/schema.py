"""``query-qmp-schema``: the commands, events and object types in QAPI's SchemaInfo format,
from the commands' declarations (``registry``), the events below, and the same type
declarations as ``qconf types`` and the JSON Schema (the type registry). Type names are
masked as numbers, as QEMU does; the list is the same for a given set of commands and
types, so clients may cache it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from qconf.qmp.registry import Arg, Command, members

__all__ = ("EVENTS", "qmp_schema")

EVENTS: dict[str, Mapping[str, str]] = {
    "STOP": {},
    "RESET": {"guest": "bool", "reason": "str"},
    "RESUME": {},
    "SHUTDOWN": {"guest": "bool", "reason": "str"},
    "QCONF_CONSOLE": {"device": "str", "data": "str"},
    "DEVICE_DELETED": {"*device": "str", "path": "str"},
    "QCONF_GUEST_FAULT": {"cpu": "str", "pc": "int", "cause": "str"},
    "JOB_STATUS_CHANGE": {"id": "str", "status": "str"},
    "GUEST_PANICKED": {"action": "str"},
}
"""Every event qconf sends, with its data members in QAPI's notation (as commands'
arguments: ``*`` marks an optional one)."""

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

    def object(self, rows: Iterable[Arg], extra: dict[str, Any] | None = None) -> str:
        name = self._name()
        entry: dict[str, Any] = {"name": name, "meta-type": "object", "members": []}
        for member in rows:
            row: dict[str, Any] = {"name": member.name, "type": self.type_ref(member.type)}
            if member.optional:
                row["default"] = None
            entry["members"].append(row)
        entry.update(extra or {})
        self.entries.append(entry)
        return name


def qmp_schema(commands: Iterable[Command], registry: Any) -> list[dict[str, Any]]:
    """The SchemaInfo list for ``commands`` (in their order), the events, and the object
    types of ``registry``."""
    schema = _Schema()
    for command in commands:
        arg = schema.object(command.args)
        entry: dict[str, Any] = {"name": command.name, "meta-type": "command", "arg-type": arg,
                                 "ret-type": "any"}  # fmt: skip
        if command.features:
            entry["features"] = list(command.features)
        schema.entries.append(entry)
    for name, data in EVENTS.items():
        schema.entries.append({"name": name, "meta-type": "event",
                               "arg-type": schema.object(members(data))})  # fmt: skip
    for info in registry:
        props = []
        for prop, field_info in info.model().model_fields.items():
            annotation = str(field_info.annotation)
            qapi = (
                "int"
                if "int" in annotation
                else "bool"
                if "bool" in annotation
                else ("[str]" if "list" in annotation else "str")
            )
            props.append(Arg(prop, qapi, not field_info.is_required()))
        schema.object(props, {"qconf-type": info.name})
    return schema.entries
