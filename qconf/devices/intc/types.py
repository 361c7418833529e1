"""Interrupt controllers and per-hart timers: CLINT, PLIC, NVIC (+SysTick), GIC."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from qconf.config.units import parse_int
from qconf.devices.common import MmioProps
from qconf.errors import BuildError, QconfError
from qconf.model.objects import Object
from qconf.model.props import Address, CpuLink, Frequency, Integer, Props, Size
from qconf.model.registry import Region, TypeInfo, TypeRegistry

if TYPE_CHECKING:
    from qconf.assembly.machine import Machine


class ClintProps(MmioProps):
    size: Size = Field(0x10000, description="Size of the register window.")
    num_harts: Integer = Field(
        1, ge=1, le=4095, description="Harts served (msip/mtimecmp per hart)."
    )
    timebase: Frequency = Field(
        10_000_000, ge=1, description="mtime tick rate (device tree timebase-frequency)."
    )


class PlicProps(MmioProps):
    size: Size = Field(0x600000, description="Size of the register window.")
    num_sources: Integer = Field(
        95, ge=1, le=1023, description="Interrupt sources (riscv,ndev); source 0 is reserved."
    )
    num_priorities: Integer = Field(7, ge=1, le=7, description="Highest priority level.")
    num_harts: Integer = Field(
        1, ge=1, description="Harts served, each with an M and an S context."
    )


class NvicProps(Props):
    base: Address = Field(0xE000_E000, description="System Control Space address.")
    num_irq: Integer = Field(32, ge=1, le=496, description="External interrupt lines.")
    prio_bits: Integer = Field(3, ge=2, le=8, description="Implemented priority bits.")
    cpu: CpuLink | None = Field(
        None,
        description="Path of the Cortex-M CPU this NVIC serves; "
        "unset: the only Cortex-M CPU of the machine.",
    )
    systick_refclk: Frequency | None = Field(
        None, ge=1, description="SysTick external reference clock; unset: the CPU clock only."
    )


class GicProps(Props):
    version: Annotated[Literal[2, 3], BeforeValidator(parse_int)] = Field(
        2, description="GIC architecture version."
    )
    dist_base: Address = Field(0x0800_0000, description="Distributor address.")
    cpu_base: Address = Field(0x0801_0000, description="CPU interface address (GICv2).")
    redist_base: Address = Field(0x080A_0000, description="Redistributor address (GICv3).")
    num_irq: Integer = Field(
        288, ge=32, le=1020, description="Interrupt IDs including the 32 private ones."
    )


def check_plic(plic: Object, machine: Machine) -> Sequence[QconfError]:
    """Nothing is wired to source 0, which the PLIC reserves (it means "no interrupt")."""
    return [
        BuildError(
            f"{plic.key}.in[0] is PLIC source 0, which is reserved: it never interrupts",
            code="E604", origin=wire.origin, path=f"{wire.source.key}.{wire.output}",
            hint=f"use a source from 1 to {plic.get('num_sources')}",
        )
        for wire in machine.wires
        if wire.sink is plic and wire.line == "in" and wire.index == 0
    ]  # fmt: skip


GICV2_CPUS = 8
"""CPU interfaces a GICv2 has (its target lists are 8 bits wide)."""


def check_gic(gic: Object, machine: Machine) -> Sequence[QconfError]:
    """A GICv2 serves at most eight AArch64 CPUs of its address space (QEMU's virt board
    refuses ``-smp 9`` with one, too)."""
    if gic.get("version") != 2:
        return []
    space = machine.space_of(gic)
    cores = [o for o in machine.objects()
             if o.info.arch_info is not None and o.info.arch_info.family == "aarch64"
             and machine.space_of(o) is space]  # fmt: skip
    if len(cores) <= GICV2_CPUS:
        return []
    extra = cores[GICV2_CPUS]  # its mpidr was set by smp, if smp made it
    return [BuildError(
        f"{gic.key} is a GICv2, which serves {GICV2_CPUS} CPUs, but {len(cores)} AArch64 "
        f"CPUs share its address space ({extra.key} and later would get no interrupts)",
        code="E614", origin=extra.origins.get("mpidr", extra.origin), path=extra.key,
        hint=f"use at most {GICV2_CPUS} CPUs (smp), or a GICv3 (version: 3)",
    )]  # fmt: skip


def _plic_inputs(values: Mapping[str, Any]) -> dict[str, int]:
    return {"in": values["num_sources"] + 1}


def _nvic_inputs(values: Mapping[str, Any]) -> dict[str, int]:
    return {"in": values["num_irq"]}


def _nvic_regions(values: Mapping[str, Any]) -> tuple[Region, ...]:
    return (Region("scs", values["base"], 0x1000),)


def _gic_inputs(values: Mapping[str, Any]) -> dict[str, int]:
    return {"in": values["num_irq"]}


def _gic_regions(values: Mapping[str, Any]) -> tuple[Region, ...]:
    if values["version"] == 2:
        return (Region("dist", values["dist_base"], 0x1000),
                Region("cpu", values["cpu_base"], 0x2000))  # fmt: skip
    return (Region("dist", values["dist_base"], 0x10000),
            Region("redist", values["redist_base"], 0x20000))  # fmt: skip


def register(registry: TypeRegistry) -> None:
    here = "qconf.devices.intc"
    add = registry.add
    add(TypeInfo("clint", ClintProps, "RISC-V core-local interruptor: mtime, mtimecmp, msip.",
                 "intc", __name__, behaviour=f"{here}.clint:Clint",
                 fdt=f"{here}.clint:fdt_node"))  # fmt: skip
    add(TypeInfo("plic", PlicProps, "RISC-V platform-level interrupt controller.", "intc",
                 __name__, irq_inputs=_plic_inputs, behaviour=f"{here}.plic:Plic",
                 fdt=f"{here}.plic:fdt_node", check=check_plic))  # fmt: skip
    add(TypeInfo("nvic", NvicProps, "Arm v7-M nested vectored interrupt controller with SysTick.",
                 "intc", __name__, regions=_nvic_regions, irq_inputs=_nvic_inputs,
                 behaviour=f"{here}.nvic:Nvic"))  # fmt: skip
    add(TypeInfo("gic", GicProps, "Arm generic interrupt controller (v2 or v3).", "intc",
                 __name__, regions=_gic_regions, irq_inputs=_gic_inputs,
                 behaviour=f"{here}.gic:Gic", fdt=f"{here}.gic:fdt_node",
                 check=check_gic))  # fmt: skip
