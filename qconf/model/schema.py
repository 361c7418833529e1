"""JSON Schema (draft 2020-12) of machine documents and of each type, for editors.

Files are layers, so an object in a user file may omit ``type:`` (it overrides an object
a profile defines); where ``type`` is present, the object is checked against that type.
Every property also accepts a merge marker map (``{$delete: true}``, ``{$append: [...]}``)
and an expression (``${smp}``).
"""

from __future__ import annotations

import copy
from typing import Any

from qconf.model.registry import TypeInfo, TypeRegistry

__all__ = ("SCHEMA_DIALECT", "document_schema", "type_schema")

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

_MARKER = {
    "type": "object",
    "description": "Merge marker: $delete removes, $replace replaces wholesale, "
    "$append/$prepend extend a list.",
    "properties": {
        "$delete": {"const": True}, "$replace": {"const": True},
        "$append": {"type": "array"}, "$prepend": {"type": "array"},
    },
    "minProperties": 1,
}  # fmt: skip
_EXPRESSION = {
    "type": "string",
    "pattern": r"\$\{",
    "description": "An expression: ${smp} in a machine document, a component's parameters "
    "in its template (docs/components.md).",
}


def _props_schema(info: TypeInfo) -> dict[str, Any]:
    raw = info.model().model_json_schema(mode="validation")
    props: dict[str, Any] = {}
    for name, raw_schema in raw.get("properties", {}).items():
        schema = copy.deepcopy(raw_schema)
        schema.pop("title", None)
        field = info.model().model_fields[name]
        if field.description:
            schema["description"] = field.description
        if field.is_required():
            schema["x-required"] = True
        props[name] = {
            "anyOf": [schema, {"$ref": "#/$defs/marker"}, {"$ref": "#/$defs/expression"}],
            "description": schema.get("description", ""),
        }
    return props


def _type_def(info: TypeInfo) -> dict[str, Any]:
    properties = {"type": {"const": info.name, "description": "The object's type."}}
    properties.update(_props_schema(info))
    return {
        "type": "object",
        "title": info.name,
        "description": info.description,
        "properties": properties,
        "patternProperties": {r"^\$": True},
        "additionalProperties": {"$ref": "#/$defs/object"},
    }


def document_schema(registry: TypeRegistry) -> dict[str, Any]:
    """The schema of a whole machine document (any layer of one)."""
    defs: dict[str, Any] = {"marker": _MARKER, "expression": _EXPRESSION}
    names = [info.name for info in registry]
    for info in registry:
        defs[info.name] = _type_def(info)
    defs["object"] = {
        "description": "A child object: a map with `type:` (optional in override files).",
        "type": "object",
        "properties": {"type": {"enum": names}},
        "allOf": [
            {
                "if": {"properties": {"type": {"const": n}}, "required": ["type"]},
                "then": {"$ref": f"#/$defs/{n}"},
            }
            for n in names
        ],
        "additionalProperties": True,
    }
    ref_list = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
    include_item = {
        "anyOf": [
            {"type": "string"},
            {
                "type": "object",
                "properties": {"path": {"type": "string"}, "at": {"type": "string"}},
                "required": ["path"],
                "additionalProperties": False,
            },
        ]
    }
    directives = {
        "extends": {
            **ref_list,
            "description": "Profiles (by name) or files this document builds on, lowest first.",
        },
        "include": {
            "anyOf": [include_item, {"type": "array", "items": include_item}],
            "description": "Fragments merged below this file's own keys.",
        },
        "components": {
            "type": "object",
            "description": "Component types this document declares (docs/components.md).",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "description": {"type": "string"},
                    "category": {"type": "string"},
                    "params": {"type": "object", "additionalProperties": {
                        "type": "object",
                        "properties": {
                            "type": {"enum": ["integer", "frequency", "size", "address",
                                              "duration", "string", "bool", "list"]},
                            "default": True, "description": {"type": "string"},
                            "min": True, "max": True,
                        },
                        "required": ["type"],
                        "additionalProperties": False,
                    }},
                    "children": {"type": "object"},
                },
                "required": ["children"],
                "additionalProperties": False,
            },
        },
    }  # fmt: skip
    if "machine" in defs:
        # directives stand at the root, which is the machine object
        defs["machine"]["properties"].update(directives)
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "qconf machine document",
        "description": "A machine (or a layer of one): machine properties and named child "
        "objects. See docs/configuration.md.",
        "type": "object",
        "properties": directives,
        "allOf": [
            {"if": {"not": {"required": ["type"]}}, "then": {"$ref": "#/$defs/machine"}},
            {"$ref": "#/$defs/object"},
        ],
        "$defs": defs,
    }


def type_schema(registry: TypeRegistry, name: str) -> dict[str, Any]:
    """The schema of one type's objects."""
    info = registry.get(name)
    schema = _type_def(info)
    return {
        "$schema": SCHEMA_DIALECT,
        **schema,
        "$defs": {"marker": _MARKER, "expression": _EXPRESSION, "object": {"type": "object"}},
    }
