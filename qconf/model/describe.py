"""``qconf types``: the types, their properties, units, defaults and descriptions."""

from __future__ import annotations

from typing import Any

from qconf.model.registry import TypeInfo, TypeRegistry

__all__ = ("describe_type", "list_types", "property_rows")


def list_types(registry: TypeRegistry) -> list[str]:
    """Every type by category, then the modules that failed to load and why."""
    rows = [(info.name, info.category, info.description, info.module) for info in registry]
    width = max(len(r[0]) for r in rows)
    out = []
    category = None
    for name, cat, desc, module in rows:
        if cat != category:
            out.append(f"{cat}:")
            category = cat
        plugin = (
            "" if module.startswith("qconf.")
            else f"  [{module}]" if module.startswith("component ")
            else f"  [module {module}]"
        )  # fmt: skip
        out.append(f"  {name:<{width}}  {desc}{plugin}")
    if registry.failures:
        out.append("unavailable (a module failed to load):")
        for failure in registry.failures.values():
            types = ", ".join(failure.types) if failure.types else "types unknown"
            out.append(f"  module {failure.module} ({types}): {failure.reason}")
    return out


def _kind(schema: dict[str, Any], unit: str | None) -> str:
    if unit:
        return {
            "Hz": "frequency (Hz)",
            "bytes": "size (bytes)",
            "ns": "duration (ns)",
            "address": "address",
        }.get(unit, unit)
    if "enum" in schema:
        return "one of " + ", ".join(str(v) for v in schema["enum"])
    if "const" in schema:
        return f"= {schema['const']}"
    if "anyOf" in schema:
        parts = [_kind(s, None) for s in schema["anyOf"] if s.get("type") != "null"]
        nullable = any(s.get("type") == "null" for s in schema["anyOf"])
        return " or ".join(parts) + (" (optional)" if nullable else "")
    t = schema.get("type")
    if t == "array":
        return "list of " + _kind(schema.get("items", {}), None).replace("text", "names")
    if t == "string" and "pattern" in schema and "plic" in str(schema.get("examples")):
        return "interrupt input"
    return {"string": "text", "integer": "integer", "boolean": "boolean", "number": "number"}.get(
        str(t), str(t or "any")
    )


def property_rows(info: TypeInfo) -> list[dict[str, Any]]:
    """One row per property: name, kind, unit, default (formatted), required, description."""
    raw = info.model().model_json_schema(mode="validation").get("properties", {})
    rows = []
    for name, field in info.model().model_fields.items():
        unit = info.units.get(name)
        unit_name = unit.name if unit else None
        schema = raw.get(name, {})
        if "x-unit" in schema or (
            "anyOf" in schema and any("x-unit" in s for s in schema["anyOf"])
        ):
            kind = _kind({}, unit_name) if unit_name else "integer"
            if "anyOf" in schema and any(s.get("type") == "null" for s in schema["anyOf"]):
                kind += " (optional)"
        else:
            kind = _kind(schema, None)
        required = field.is_required()
        default = (
            None if required else info.format(name, field.get_default(call_default_factory=True))
        )
        rows.append(
            {
                "name": name,
                "kind": kind,
                "unit": unit_name,
                "required": required,
                "default": default,
                "description": field.description or "",
            }
        )
    return rows


def describe_type(info: TypeInfo) -> list[str]:
    out = [
        f"{info.name}: {info.description}",
        f"  category: {info.category}, module: {info.module}"
        + (
            ", hotpluggable (QMP device_add/device_del on a built machine)"
            if info.hotpluggable
            else ""
        ),
        "",
        "  properties:",
    ]
    rows = property_rows(info)
    nw = max((len(r["name"]) for r in rows), default=4)
    kw = max((len(r["kind"]) for r in rows), default=4)
    for r in rows:
        default = "(required)" if r["required"] else f"default {_show(r['default'])}"
        out.append(f"    {r['name']:<{nw}}  {r['kind']:<{kw}}  {default}")
        out.append(f"    {'':<{nw}}  {r['description']}")
    if info.composite is not None:
        out += ["", "  children (each instance expands to):"]
        for name, child in info.composite.children.value.items():
            t = child.value.get("type") if isinstance(child.value, dict) else None
            out.append(f"    {name} ({t.value if t is not None else '?'})")
    return out


def _show(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if value == "":
        return '""'
    return str(value)
