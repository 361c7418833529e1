"""CPU types: RISC-V (rv32/rv64), Arm Cortex-M (M0/M3/M4), AArch64."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field

from qconf.config.units import parse_int
from qconf.model.props import Address, Frequency, Integer, Props
from qconf.model.registry import TypeInfo, TypeRegistry

_SINGLE = set("imafdcqlbjtpvhnke")
_MULTI = re.compile(r"^(z|s|x|sv)[a-z0-9]+$")


def _check_extension(ext: str) -> str:
    e = ext.strip().lower()
    if not ((len(e) == 1 and e in _SINGLE) or _MULTI.match(e)):
        raise ValueError(
            f"unknown RISC-V extension {ext!r}: use single letters "
            "(i m a f d c v h ...) or z*/s*/x* names (zicsr, zifencei, sstc)"
        )
    return e


def _check_isa(exts: list[str]) -> list[str]:
    seen = set()
    for e in exts:
        if e in seen:
            raise ValueError(f"extension {e!r} is listed twice")
        seen.add(e)
    if "i" not in seen and "e" not in seen:
        raise ValueError("the base integer ISA is missing: include 'i' (or 'e')")
    return exts


Isa = Annotated[list[Annotated[str, AfterValidator(_check_extension)]], AfterValidator(_check_isa)]


class CpuProps(Props):
    freq: Frequency = Field(
        1_000_000_000,
        ge=1,
        description="Core clock: virtual time advances by one cycle per "
        "instruction at this frequency.",
    )
    reset_vector: Address = Field(0, description="Address of the first instruction after reset.")
    firmware: str | None = Field(
        None,
        description="The program this CPU runs: an ELF file (its entry point is where the CPU "
        "starts) or a raw binary (loaded at reset_vector). Relative to the file that sets it.",
    )


class RiscvProps(CpuProps):
    hartid: Integer = Field(0, ge=0, description="Hart ID (mhartid); also the a0 boot argument.")
    isa: Isa = Field(
        default_factory=lambda: ["i", "m", "a", "f", "d", "c", "zicsr", "zifencei"],
        description="ISA extensions beyond the base width, e.g. [i, m, a, c].",
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


class CortexMProps(CpuProps):
    freq: Frequency = Field(25_000_000, ge=1, description="Core clock (SYSCLK).")
    vtor: Address = Field(
        0,
        description="Vector table address at reset: the initial SP "
        "and reset handler are read from here.",
    )
    reset_vector: Address | None = Field(  # type: ignore[assignment]
        None,
        description="Override of the reset handler address; unset: read from the "
        "vector table at vtor.",
    )


class CortexM4Props(CortexMProps):
    fpu: bool = Field(True, description="Whether the single-precision FPU is present (M4F).")


class Aarch64Props(CpuProps):
    model: Literal["cortex-a53", "cortex-a57", "cortex-a72", "max"] = Field(
        "cortex-a57", description="Core model (device tree compatible 'arm,<model>')."
    )
    mpidr: Integer = Field(0, ge=0, description="Affinity value in MPIDR_EL1 (cpu reg).")
    start_el: Annotated[Literal[1, 2, 3], BeforeValidator(parse_int)] = Field(
        1, description="Exception level at reset."
    )
    cntfrq: Frequency = Field(62_500_000, ge=1, description="Generic timer frequency (CNTFRQ_EL0).")


def register(registry: TypeRegistry) -> None:
    add = registry.add
    add(TypeInfo("riscv64", RiscvProps, "A 64-bit RISC-V hart (RV64).", "cpu", __name__))
    add(TypeInfo("riscv32", Riscv32Props, "A 32-bit RISC-V hart (RV32).", "cpu", __name__))
    add(TypeInfo("cortex-m0", CortexMProps, "Arm Cortex-M0 (ARMv6-M).", "cpu", __name__))
    add(TypeInfo("cortex-m3", CortexMProps, "Arm Cortex-M3 (ARMv7-M).", "cpu", __name__))
    add(TypeInfo("cortex-m4", CortexM4Props, "Arm Cortex-M4 (ARMv7E-M).", "cpu", __name__))
    add(TypeInfo("aarch64", Aarch64Props, "An Armv8-A core in AArch64 state.", "cpu", __name__))
