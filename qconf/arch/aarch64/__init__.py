"""Armv8-A cores in AArch64 state."""

from __future__ import annotations

from qconf.model.facets import ArchInfo

__all__ = ("AARCH64",)

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
)
