"""Devices that end the run: SiFive test finisher and a generic poweroff register."""

from __future__ import annotations

from pydantic import Field

from qconf.devices.common import MmioProps
from qconf.model.registry import TypeInfo, TypeRegistry


class SifiveTestProps(MmioProps):
    pass


class PoweroffProps(MmioProps):
    exit_code: bool = Field(
        True,
        description="Whether the value written becomes qconf's "
        "exit status (else every write exits 0).",
    )


def register(registry: TypeRegistry) -> None:
    here = "qconf.devices.power"
    registry.add(TypeInfo("sifive-test", SifiveTestProps, "SiFive test finisher: writes of "
                          "0x5555 (pass), 0x3333 (fail) or 0x7777 (reset) end the run.",
                          "power", __name__, behaviour=f"{here}.sifive_test:SifiveTest",
                          fdt=f"{here}.sifive_test:fdt_node"))  # fmt: skip
    registry.add(TypeInfo("poweroff", PoweroffProps, "Poweroff register: any write ends the run.",
                          "power", __name__, behaviour=f"{here}.poweroff:Poweroff"))  # fmt: skip
