"""AArch64 core types: their properties and registry entries."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from qconf.config.units import parse_int
from qconf.devices.common import CpuProps, KernelProps
from qconf.model.props import Frequency, Integer
from qconf.model.registry import TypeInfo, TypeRegistry


class Aarch64Props(CpuProps, KernelProps):
    model: Literal["cortex-a53", "cortex-a57", "cortex-a72", "max"] = Field(
        "cortex-a57", description="Core model (device tree compatible 'arm,<model>')."
    )
    mpidr: Integer = Field(0, ge=0, description="Affinity value in MPIDR_EL1 (cpu reg).")
    start_el: Annotated[Literal[1, 2, 3], BeforeValidator(parse_int)] = Field(
        1, description="Exception level at reset."
    )
    cntfrq: Frequency = Field(62_500_000, ge=1, description="Generic timer frequency (CNTFRQ_EL0).")


def register(registry: TypeRegistry) -> None:
    registry.add(TypeInfo("aarch64", Aarch64Props, "An Armv8-A core in AArch64 state.", "cpu",
                          __name__, behaviour="qconf.arch.aarch64.core:Aarch64Core",
                          arch="qconf.arch.aarch64:AARCH64", backends=("program",)))  # fmt: skip
