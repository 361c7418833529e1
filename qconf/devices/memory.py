"""Memory regions: RAM and ROM."""

from __future__ import annotations

from pydantic import Field

from qconf.model.props import Address, Props, Size
from qconf.model.registry import TypeInfo, TypeRegistry


class RamProps(Props):
    base: Address = Field(description="Bus address of the first byte.")
    size: Size = Field(gt=0, description="Size of the region.")


class RomProps(RamProps):
    file: str | None = Field(
        None,
        description="Image file copied into the ROM at reset "
        "(relative to the file that sets it); unset: zero-filled.",
    )


def register(registry: TypeRegistry) -> None:
    registry.add(
        TypeInfo(
            "ram",
            RamProps,
            "Read-write memory, one host buffer shared by every CPU that maps it.",
            "memory",
            __name__,
        )
    )
    registry.add(TypeInfo("rom", RomProps, "Read-only memory.", "memory", __name__))
