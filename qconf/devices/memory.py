"""Memory regions: RAM, ROM, and aliases that show a window of another region."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import Field

from qconf.errors import BuildError, QconfError
from qconf.model.objects import Object
from qconf.model.props import Address, HostPath, Integer, MemoryLink, Props, Size
from qconf.model.registry import TypeInfo, TypeRegistry, region_from_base_size

if TYPE_CHECKING:
    from qconf.assembly.machine import Machine


class RamProps(Props):
    base: Address = Field(description="Bus address of the first byte.")
    size: Size = Field(gt=0, description="Size of the region.")
    priority: Integer = Field(
        0,
        description="Which region wins where regions of one address space overlap: the "
        "higher priority; overlaps at equal priority are errors.",
    )


class RomProps(RamProps):
    file: HostPath | None = Field(
        None,
        description="Image file copied into the ROM at reset "
        "(relative to the file that sets it); unset: zero-filled.",
    )


class AliasProps(Props):
    target: MemoryLink = Field(description="The RAM or ROM this alias shows.")
    offset: Size = Field(0, description="Offset of the window within the target.")
    base: Address = Field(description="Where the window appears in this address space.")
    size: Size = Field(gt=0, description="Size of the window.")
    priority: Integer = Field(
        0, description="Which region wins where regions overlap: the higher priority."
    )


class UnimplementedProps(Props):
    base: Address = Field(description="Start of the window.")
    size: Size = Field(gt=0, description="Size of the window.")
    priority: Integer = Field(
        -1, description="Which region wins where regions overlap; by default below others."
    )


def check_alias(alias: Object, machine: Machine) -> Sequence[QconfError]:
    """An alias's window lies within its target."""
    from qconf.assembly.links import find

    target = find(machine.root, alias, alias.get("target"))
    if target is None:  # the connect step reported it
        return ()
    end = alias.get("offset") + alias.get("size")
    if end <= target.get("size"):
        return ()
    return (BuildError(
        f"the window (offset {alias.get('offset'):#x} + size {alias.get('size'):#x}) runs "
        f"past the end of {target.key} ({target.get('size'):#x} bytes)",
        code="E608", origin=alias.origins.get("size") or alias.origin, path=alias.key,
        hint="shrink the window or lower its offset",
    ),)  # fmt: skip


def register(registry: TypeRegistry) -> None:
    registry.add(
        TypeInfo(
            "ram",
            RamProps,
            "Read-write memory, one host buffer shared by every CPU that maps it.",
            "memory",
            __name__,
            regions=region_from_base_size("ram"),
            hotpluggable=True,  # device_add / device_del on a built machine (QMP)
            backends=("memory",),
        )
    )
    registry.add(
        TypeInfo(
            "rom", RomProps, "Read-only memory.", "memory", __name__,
            regions=region_from_base_size("rom"), backends=("rom",),
        )
    )  # fmt: skip
    registry.add(
        TypeInfo(
            "alias",
            AliasProps,
            "A window onto part of a RAM or ROM at another address (or in another address "
            "space); the same bytes, no copy.",
            "memory",
            __name__,
            regions=region_from_base_size("alias"),
            check=check_alias,
        )
    )
    registry.add(
        TypeInfo(
            "unimplemented",
            UnimplementedProps,
            "A window where accesses are allowed but do nothing: reads give 0, writes are "
            "ignored, and the first access is logged (instead of a guest fault).",
            "memory",
            __name__,
        )
    )
