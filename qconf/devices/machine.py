"""The machine (the document's root) and plain containers that group objects."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from qconf.model.props import Integer, Props, empty_list
from qconf.model.registry import TypeInfo, TypeRegistry


class MachineProps(Props):
    model: str = Field("", description="Human-readable board name (device tree 'model').")
    compatible: list[str] = Field(
        default_factory=empty_list, description="Device tree 'compatible' strings of the board."
    )
    description: str = Field("", description="Free text describing this machine.")
    bootargs: str = Field(
        "", description="Kernel command line passed in the device tree's /chosen node."
    )
    smp: Integer = Field(
        1,
        ge=1,
        le=512,
        description="How many CPUs like smp_cpu the machine has (QEMU's -smp): copies "
        "named after it (cpu1, cpu2, ...) with its properties and their own ids (RISC-V "
        "hartid; RISC-V only for now); ${smp} in the document's values is this count.",
    )
    smp_cpu: str = Field(
        "cpu0",
        description="The CPU smp copies (a path ending in a number); what is set on it, "
        "every copy gets.",
    )
    quantum: Integer = Field(
        10_000,
        ge=1,
        le=10_000_000,
        description="Instructions each CPU runs before the scheduler "
        "moves to the next (round-robin quantum).",
    )
    device_tree: Literal["none", "auto"] = Field(
        "none",
        description="auto: generate the machine's device tree when it runs, place it at the "
        "end of the first RAM (2 MiB aligned, as QEMU does) and pass its address to every CPU "
        "(RISC-V a1, AArch64 x0).",
    )
    skip_busy_waits: bool = Field(
        True,
        description="When the only running CPU reads the time over and over from one place "
        "(a delay loop), let its time jump ahead (1 us, doubling to 1 ms per read) instead of "
        "executing the wait. Deterministic; turn off to count every instruction of a wait.",
    )
    timing: Literal["fast", "exact"] = Field(
        "fast",
        description="Where a CPU's time slice may end; counting is exact in both (guest "
        "instructions, a compressed or 16-bit Thumb one counts one) and guest output is the "
        "same. fast: at the end of the translated block that reaches the slice's budget "
        "(0.5x-0.8x raw Unicorn). exact: at the budget's instruction (--max-insns stops at "
        "the limit; a hook on every instruction, about 0.05x-0.08x raw Unicorn).",
    )


class ContainerProps(Props):
    description: str = Field("", description="Free text describing this group.")
    address_space: bool = Field(
        False,
        description="Give this group its own address space: its regions, and what its "
        "CPUs see; the enclosing space stays visible beneath it at lower priority.",
    )


def register(registry: TypeRegistry) -> None:
    registry.add(
        TypeInfo(
            "machine",
            MachineProps,
            "The machine: root of the document and of the system address space.",
            "machine",
            __name__,
        )
    )
    registry.add(
        TypeInfo(
            "container",
            ContainerProps,
            "A named group of objects (an SoC, a cluster, a bus) with no behaviour of its own.",
            "machine",
            __name__,
        )
    )
