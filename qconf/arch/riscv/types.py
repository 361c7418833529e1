"""RISC-V hart types: their properties and registry entries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from qconf.arch.riscv.isa_names import check_isa, check_name
from qconf.devices.common import CpuProps, KernelProps
from qconf.model.props import Address, Integer
from qconf.model.registry import TypeInfo, TypeRegistry


def _extension(xlen: int) -> Callable[[str], str]:
    return lambda ext: check_name(ext, xlen)


Isa = Annotated[list[Annotated[str, AfterValidator(_extension(64))]], AfterValidator(check_isa)]
Isa32 = Annotated[list[Annotated[str, AfterValidator(_extension(32))]], AfterValidator(check_isa)]


class RiscvProps(CpuProps, KernelProps):
    hartid: Integer = Field(0, ge=0, description="Hart ID (mhartid); also the a0 boot argument.")
    isa: Isa = Field(
        default_factory=lambda: ["i", "m", "a", "f", "d", "c", "zicsr", "zifencei"],
        description="ISA extensions beyond the base width, e.g. [i, m, a, c]; only those "
        "Unicorn 2.1.4 executes (qconf/arch/riscv/isa.py); the device tree's riscv,isa.",
    )
    mmu: Literal["none", "sv39", "sv48", "sv57"] = Field(
        "sv48", description="Virtual-memory scheme reported in the device tree."
    )
    reset_vector: Address = Field(
        0x1000,
        description="Address of the first instruction "
        "after reset (QEMU virt: the boot ROM at 0x1000).",
    )


class Riscv32Props(RiscvProps):
    mmu: Literal["none", "sv32"] = Field(  # type: ignore[assignment]
        "sv32", description="Virtual-memory scheme reported in the device tree."
    )
    isa: Isa32 = Field(
        default_factory=lambda: ["i", "m", "a", "c", "zicsr", "zifencei"],
        description="ISA extensions beyond the base width, e.g. [i, m, a, c].",
    )


def register(registry: TypeRegistry) -> None:
    for name, props, description, arch in (
        ("riscv64", RiscvProps, "A 64-bit RISC-V hart (RV64).", "RV64"),
        ("riscv32", Riscv32Props, "A 32-bit RISC-V hart (RV32).", "RV32"),
    ):
        registry.add(TypeInfo(name, props, description, "cpu", __name__,
                              behaviour="qconf.arch.riscv.core:RiscvHart",
                              arch=f"qconf.arch.riscv:{arch}", backends=("program",)))  # fmt: skip
