"""A qconf plugin: one device type, declared the same way as the built-in ones."""

from __future__ import annotations

from pydantic import Field

from qconf.model.props import Address, Duration, IrqRefs, Props, Size
from qconf.model.registry import TypeInfo, TypeRegistry


class BlinkerProps(Props):
    base: Address = Field(description="Register window address.")
    size: Size = Field(0x100, description="Register window size.")
    period: Duration = Field(500_000_000, ge=1, description="Blink period.")
    irq: IrqRefs | None = Field(None, description="Interrupt raised at each blink.")


def register(registry: TypeRegistry) -> None:
    registry.add(TypeInfo("blinker", BlinkerProps, "An LED that blinks.", "gpio", __name__))
