"""Cortex-M core types: their properties and registry entries."""

from __future__ import annotations

from pydantic import Field

from qconf.devices.common import CpuProps
from qconf.model.props import Address, Frequency
from qconf.model.registry import TypeInfo, TypeRegistry


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


def register(registry: TypeRegistry) -> None:
    for name, props, description in (
        ("cortex-m0", CortexMProps, "Arm Cortex-M0 (ARMv6-M)."),
        ("cortex-m3", CortexMProps, "Arm Cortex-M3 (ARMv7-M)."),
        ("cortex-m4", CortexM4Props, "Arm Cortex-M4 (ARMv7E-M)."),
    ):
        registry.add(TypeInfo(name, props, description, "cpu", __name__,
                              behaviour="qconf.arch.cortexm.core:CortexM",
                              arch="qconf.arch.cortexm:CORTEX_M",
                              backends=("program",)))  # fmt: skip
