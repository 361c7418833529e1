"""RISC-V harts: RV64 (``riscv64``) and RV32 (``riscv32``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qconf.model.facets import ArchInfo

__all__ = ("MEI", "MSI", "MTI", "RV32", "RV64", "SEI", "smp_ids")

MSI, MTI, SEI, MEI = 3, 7, 9, 11
"""The ``mip`` bits of the machine software, machine timer, supervisor external and machine
external interrupts."""

GENERAL = ("pc", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2",
           "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9",
           "s10", "s11", "t3", "t4", "t5", "t6")  # fmt: skip
"""pc, then x1-x31 by their ABI names."""
CSRS = ("mstatus", "mepc", "mcause", "mtval", "mtvec", "mie", "mip", "sepc", "scause",
        "stval", "satp")  # fmt: skip
"""The CSRs a fault report and ``info registers`` show."""


def smp_ids(template: Mapping[str, Any], index: int) -> dict[str, Any]:
    """The hart id of the ``index``-th copy of a hart (the machine's ``smp``): the
    template's plus the index, as QEMU numbers ``-smp`` harts."""
    from qconf.model.smp import template_id

    return {"hartid": template_id(template, "hartid") + index}


RV64 = ArchInfo(
    name="riscv64",
    family="riscv",
    qemu_target="riscv64",
    disassembler=("CS_ARCH_RISCV", "CS_MODE_RISCV64|CS_MODE_RISCVC"),
    registers=GENERAL,
    system_registers=CSRS,
    encoding="riscv",
    unicorn_registers="unicorn.riscv_const:UC_RISCV_REG_",
    device_tree="qconf.arch.riscv.fdt:device_tree",
    gdb="qconf.arch.riscv.gdb:RISCV",
    boot="qconf.arch.riscv.boot:place_rv64",
    smp_ids="qconf.arch.riscv:smp_ids",
)
RV32 = ArchInfo(
    name="riscv32",
    family="riscv",
    qemu_target="riscv32",
    disassembler=("CS_ARCH_RISCV", "CS_MODE_RISCV32|CS_MODE_RISCVC"),
    registers=GENERAL,
    system_registers=CSRS,
    encoding="riscv",
    unicorn_registers="unicorn.riscv_const:UC_RISCV_REG_",
    device_tree="qconf.arch.riscv.fdt:device_tree",
    gdb="qconf.arch.riscv.gdb:RISCV",
    bits=32,
    boot="qconf.arch.riscv.boot:place_rv32",
    smp_ids="qconf.arch.riscv:smp_ids",
)
