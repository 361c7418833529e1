"""Armv8-A cores in AArch64 state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qconf.model.facets import ArchInfo

__all__ = ("AARCH64", "smp_ids")

CLUSTER = 8
"""CPUs per cluster (MPIDR Aff0 0-7), as QEMU's virt board numbers ``-smp`` CPUs with
a GICv2."""


def smp_ids(template: Mapping[str, Any], index: int) -> dict[str, Any]:
    """The MPIDR affinity of the ``index``-th copy of a core (the machine's ``smp``):
    QEMU's virt numbering, counted on from the template's: Aff0 is the position in a
    cluster of 8, Aff1 the cluster (``smp=10``: 0x0..0x7, 0x100, 0x101)."""
    from qconf.model.smp import template_id

    first = template_id(template, "mpidr")
    n = (first >> 8 & 0xFF) * CLUSTER + (first & 0xFF) + index
    return {"mpidr": (first & ~0xFFFF) | (n // CLUSTER) << 8 | n % CLUSTER}


AARCH64 = ArchInfo(
    name="aarch64",
    family="aarch64",
    qemu_target="aarch64",
    disassembler=("CS_ARCH_ARM64", "CS_MODE_ARM"),
    registers=("pc", "sp", "x30", "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7"),
    system_registers=(),
    unicorn_registers="unicorn.arm64_const:UC_ARM64_REG_",
    device_tree="qconf.arch.aarch64.fdt:device_tree",
    tree_at_ram_start=True,
    gdb="qconf.arch.aarch64.gdb:AARCH64",
    boot="qconf.arch.aarch64.boot:place",
    smp_ids="qconf.arch.aarch64:smp_ids",
    secondaries_off=True,
)
