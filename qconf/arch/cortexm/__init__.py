"""Arm Cortex-M cores: M0 (v6-M), M3 (v7-M) and M4 (v7E-M)."""

from __future__ import annotations

from qconf.model.facets import ArchInfo

__all__ = ("CORTEX_M",)

CORTEX_M = ArchInfo(
    name="cortex-m",
    family="arm-m",
    qemu_target="arm",
    disassembler=("CS_ARCH_ARM", "CS_MODE_THUMB|CS_MODE_MCLASS"),
    registers=(
        "pc",
        "sp",
        "lr",
        "xpsr",
        "r0",
        "r1",
        "r2",
        "r3",
        "r4",
        "r5",
        "r6",
        "r7",
        "r8",
        "r9",
        "r10",
        "r11",
        "r12",
    ),
    system_registers=(),
    encoding="thumb",
    unicorn_registers="unicorn.arm_const:UC_ARM_REG_",
    bits=32,
    gdb="qconf.arch.cortexm.gdb:CORTEX_M",
)
