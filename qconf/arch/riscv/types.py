"""RISC-V hart types: their properties and registry entries."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from qconf.arch.riscv.isa import check_extension
from qconf.devices.common import CpuProps, KernelProps
from qconf.model.props import Address, Integer
from qconf.model.registry import TypeInfo, TypeRegistry


def _check_extension(ext: str) -> str:
    e = ext.strip().lower()
    if e == "e":
        raise ValueError(
            "RV32E/RV64E (16 registers) is not what Unicorn 2.1.4 runs: it has 32\n"
            "list 'i', the base integer ISA, instead"
        )
    return check_extension(e)


def _check_isa(exts: list[str]) -> list[str]:
    seen = set()
    for e in exts:
        if e in seen:
            raise ValueError(f"extension {e!r} is listed twice")
        seen.add(e)
    if "i" not in seen:
        raise ValueError("the base integer ISA is missing: include 'i'")
    return exts


Isa = Annotated[list[Annotated[str, AfterValidator(_check_extension)]], AfterValidator(_check_isa)]


class RiscvProps(CpuProps, KernelProps):
    hartid: Integer = Field(0, ge=0, description="Hart ID (mhartid); also the a0 boot argument.")
    isa: Isa = Field(
        default_factory=lambda: ["i", "m", "a", "f", "d", "c", "zicsr", "zifencei"],
        description="ISA extensions beyond the base width, e.g. [i, m, a, c]: only those "
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
    isa: Isa = Field(
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
