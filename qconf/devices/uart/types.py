"""UARTs: NS16550A, PL011, CMSDK APB UART."""

from __future__ import annotations

from pydantic import Field

from qconf.devices.common import CharProps, IrqProps, MmioProps
from qconf.model.props import ClockIn, Integer, IrqRefs, Size
from qconf.model.registry import TypeInfo, TypeRegistry


class Ns16550aProps(CharProps, IrqProps, MmioProps):
    size: Size = Field(0x100, description="Size of the register window.")
    clock: ClockIn = Field(
        3_686_400,
        description="Input clock (device tree clock-frequency): a frequency or a clock "
        "object's path; the divisor latch divides it.",
    )
    reg_shift: Integer = Field(
        0, ge=0, le=2, description="Registers are 1 << reg_shift bytes apart."
    )


class Pl011Props(CharProps, IrqProps, MmioProps):
    clock: ClockIn = Field(
        24_000_000, description="UARTCLK input clock: a frequency or a clock object's path."
    )


class CmsdkUartProps(CharProps, MmioProps):
    clock: ClockIn = Field(
        25_000_000, description="PCLK input clock: a frequency or a clock object's path."
    )
    irq_tx: IrqRefs | None = Field(None, description="Interrupt input for the TX interrupt.")
    irq_rx: IrqRefs | None = Field(None, description="Interrupt input for the RX interrupt.")


def register(registry: TypeRegistry) -> None:
    here = "qconf.devices.uart"
    registry.add(TypeInfo("ns16550a", Ns16550aProps, "NS16550A-compatible UART.", "uart",
                          __name__, behaviour=f"{here}.ns16550a:Ns16550a",
                          fdt=f"{here}.ns16550a:fdt_node", backends=("chardev",)))  # fmt: skip
    registry.add(TypeInfo("pl011", Pl011Props, "Arm PrimeCell PL011 UART.", "uart", __name__,
                          behaviour=f"{here}.pl011:Pl011", fdt=f"{here}.pl011:fdt_node",
                          backends=("chardev",)))  # fmt: skip
    registry.add(TypeInfo("cmsdk-apb-uart", CmsdkUartProps, "Arm CMSDK APB UART (MPS2 boards).",
                          "uart", __name__, behaviour=f"{here}.cmsdk:CmsdkUart",
                          backends=("chardev",)))  # fmt: skip
