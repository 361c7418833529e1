"""UARTs: NS16550A, PL011, CMSDK APB UART."""

from __future__ import annotations

from pydantic import Field

from qconf.devices.common import CharProps, IrqProps, MmioProps
from qconf.model.props import Frequency, Integer, IrqRef, Size
from qconf.model.registry import TypeInfo, TypeRegistry


class Ns16550aProps(CharProps, IrqProps, MmioProps):
    size: Size = Field(0x100, description="Size of the register window.")
    clock: Frequency = Field(
        3_686_400,
        ge=1,
        description="Input clock (device tree clock-frequency); the divisor latch divides it.",
    )
    reg_shift: Integer = Field(
        0, ge=0, le=2, description="Registers are 1 << reg_shift bytes apart."
    )


class Pl011Props(CharProps, IrqProps, MmioProps):
    clock: Frequency = Field(24_000_000, ge=1, description="UARTCLK input clock.")


class CmsdkUartProps(CharProps, MmioProps):
    clock: Frequency = Field(25_000_000, ge=1, description="PCLK input clock.")
    irq_tx: IrqRef | None = Field(None, description="Interrupt input for the TX interrupt.")
    irq_rx: IrqRef | None = Field(None, description="Interrupt input for the RX interrupt.")


def register(registry: TypeRegistry) -> None:
    registry.add(TypeInfo("ns16550a", Ns16550aProps, "NS16550A-compatible UART.", "uart", __name__))
    registry.add(TypeInfo("pl011", Pl011Props, "Arm PrimeCell PL011 UART.", "uart", __name__))
    registry.add(
        TypeInfo(
            "cmsdk-apb-uart", CmsdkUartProps, "Arm CMSDK APB UART (MPS2 boards).", "uart", __name__
        )
    )
