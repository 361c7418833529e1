"""A qconf plugin that registers one type, then fails."""

from __future__ import annotations

from pydantic import Field

from qconf.model.props import Address, Props
from qconf.model.registry import TypeInfo, TypeRegistry


class HalfwayProps(Props):
    base: Address = Field(description="Register window address.")


def register(registry: TypeRegistry) -> None:
    registry.add(TypeInfo("halfway-dev", HalfwayProps, "Never usable.", "misc", __name__))
    raise RuntimeError("device table is missing")
