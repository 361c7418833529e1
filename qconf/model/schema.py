"""JSON Schema (draft 2020-12) of machine documents and of each type, for editors.

Files are layers, so an object in a user file may omit ``type:`` (it overrides an object
a profile defines); where ``type`` is present, the object is checked against that type.
Every property also accepts a merge marker map (``{$delete: true}``, ``{$append: [...]}``)
and an expression (``${smp}``).

A schema made for what a document builds on (:func:`overrides_schema`: a profile, or a
board and its profiles) knows every object there and its type, so an ordinary override
file is checked too: ``cpu0: {freq: 1GHzz, hartd: 3}`` has a bad unit and an unknown
property (reported as ``'hartd' was unexpected``); a new key must be an object with
``type:``.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from qconf.model.registry import TypeInfo, TypeRegistry

if TYPE_CHECKING:
    from qconf.config.node import Node, PathKey
    from qconf.model.document import Document

__all__ = ("SCHEMA_DIALECT", "document_schema", "overrides_schema", "type_schema")

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

_MARKER = {
    "type": "object",
    "description": "Merge marker: $delete removes, $replace replaces wholesale, "
    "$append/$prepend extend a list.",
    "properties": {
        "$delete": {"const": True}, "$replace": {"const": True},
        "$append": {"type": "array"}, "$prepend": {"type": "array"},
    },
    "additionalProperties": False,
    "minProperties": 1,
}  # fmt: skip
_MARKER_KEYS = ("$delete", "$replace", "$append", "$prepend")
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
        # a map is a merge marker (no property takes a map) and text with ${ an expression;
        # anything else is the value, checked by its own schema so that an editor names
        # what is wrong with it
        props[name] = {
            "if": {"anyOf": [{"type": "object"}, {"type": "string", "pattern": r"\$\{"}]},
            "then": {
                "if": {"type": "object"},
                "then": {"$ref": "#/$defs/marker"},
                "else": {"$ref": "#/$defs/expression"},
            },
            "else": schema,
            "description": schema.get("description", ""),
        }
    return props


def _type_def(info: TypeInfo, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    properties = {"type": {"const": info.name, "description": "The object's type."}}
    properties.update(_props_schema(info))
    properties.update(extra or {})
    return {
        "type": "object",
        "title": info.name,
        "description": info.description,
        "properties": properties,
        "patternProperties": {r"^\$": True},
        **_others(properties, {"type": "object"}, {"$ref": "#/$defs/object"}),
    }


def _others(properties: dict[str, Any], allowed: Any, checked: Any) -> dict[str, Any]:
    """What an object says of keys beyond its ``properties``: when each is ``allowed``
    (a child object), it is ``checked``; else they are unexpected, which is how a
    validator words a misspelled property (``'hartd' was unexpected``)."""
    # the markers by name, not by pattern: with patternProperties beside it, a validator
    # words additionalProperties: false as "does not match any of the regexes"
    known = {"properties": dict.fromkeys([*properties, *_MARKER_KEYS], True)}
    return {
        "if": {**known, "additionalProperties": allowed},
        "then": {**known, "additionalProperties": checked},
        "else": {**known, "additionalProperties": False},
    }


def _directives() -> dict[str, Any]:
    """``extends``, ``include`` and ``components``: what stands at a document's root."""
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
    return {
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


def document_schema(registry: TypeRegistry) -> dict[str, Any]:
    """The schema of a whole machine document (any layer of one)."""
    defs: dict[str, Any] = {"marker": _MARKER, "expression": _EXPRESSION}
    names = [info.name for info in registry]
    directives = _directives()
    for info in registry:
        # directives stand at the root, which is the machine object
        defs[info.name] = _type_def(info, directives if info.name == "machine" else None)
    defs["object"] = {
        "description": "A child object: a map with `type:` (optional in override files).",
        "type": "object",
        "properties": {"type": {"enum": names}},
        "allOf": [
            {
                "if": {
                    "type": "object",
                    "properties": {"type": {"const": n}},
                    "required": ["type"],
                },
                "then": {"$ref": f"#/$defs/{n}"},
            }
            for n in names
        ],
        "additionalProperties": True,
    }
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


def overrides_schema(doc: Document, over: str = "a machine") -> dict[str, Any]:
    """The schema of a layer over ``doc`` (what a board extends: a profile, or the board
    itself): every object ``doc`` has is known with its type, so its properties are
    checked without ``type:``; a key that is neither a property nor an object of it must
    be a new object with ``type:``, else it reads as an unexpected (misspelled) property.
    Restating ``type:`` checks the object against that type instead.

    :param over: what ``doc`` was resolved from, for the schema's title.
    """
    registry = doc.registry
    base = document_schema(registry)
    defs: dict[str, Any] = base["$defs"]
    for path, node in doc.objects():
        info = doc.type_of(node)
        if info is not None:
            defs[_at(path)] = _known_object(info, path, node, root=not path)
    return {
        "$schema": SCHEMA_DIALECT,
        "title": f"qconf machine document over {over}",
        "description": "A layer over a resolved machine: its objects are known with their "
        "types; new objects need `type:`. See docs/editors.md.",
        "$ref": f"#/$defs/{_at(())}",
        "$defs": defs,
    }


def _at(path: tuple[PathKey, ...]) -> str:
    from qconf.config.node import format_path

    return "at:" + format_path(path).replace("~", "~0").replace("/", "~1")


def _known_object(
    info: TypeInfo, path: tuple[PathKey, ...], node: Node, *, root: bool
) -> dict[str, Any]:
    from qconf.model.document import is_object

    properties: dict[str, Any] = {
        "type": {"type": "string", "description": f"The object's type (here: {info.name})."}
    }
    properties.update(_props_schema(info))
    if root:
        properties.update(_directives())
    for key, child in node.value.items():
        if key != "type" and is_object(child):
            kind = child.value["type"].value
            properties[key] = {  # null: `!delete`, a tag with no value
                "if": {"type": "null"},
                "else": {"$ref": f"#/$defs/{_at((*path, key))}"},
                "description": f"{kind}: an object of the document ({key})",
            }
    own = {
        "type": "object",
        "title": f"{'.'.join(str(p) for p in path) or 'machine'} ({info.name})",
        "description": info.description,
        "properties": properties,
        "patternProperties": {r"^\$": True},
        # a key that is neither a property nor an object of the document: a new object
        # (with its type), else a misspelling
        **_others(properties, {"type": "object", "required": ["type"]}, {"$ref": "#/$defs/object"}),
    }
    # restating the type checks the object as one of that type
    return {
        "if": {"type": "object", "required": ["type"]},
        "then": {"$ref": "#/$defs/object"},
        "else": own,
    }
