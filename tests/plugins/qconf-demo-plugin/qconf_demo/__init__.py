"""A qconf plugin: one device type, declared and modelled in one module, the way a device
is added to qconf: its properties, its behaviour (what the guest's register accesses do)
and its device-tree node."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from qconf.devices.base import Device
from qconf.dtb import TreeWriter
from qconf.emu.context import DeviceContext
from qconf.model.objects import Object
from qconf.model.props import Address, Duration, IrqRefs, Props, Size
from qconf.model.registry import TypeInfo, TypeRegistry


class BlinkerProps(Props):
    base: Address = Field(description="Register window address.")
    size: Size = Field(0x100, description="Register window size.")
    period: Duration = Field(500_000_000, ge=1, description="Blink period.")
    irq: IrqRefs | None = Field(None, description="Interrupt raised at each blink.")


class Blinker(Device):
    """CTRL (+0x0, bit 0: on), COUNT (+0x4: blinks since it was switched on), ACK (+0x8:
    a write drops the interrupt raised at each blink). It blinks every ``period`` of
    virtual time while on."""

    def __init__(self, ctx: DeviceContext) -> None:
        super().__init__(ctx)
        self.period: int = ctx.obj.get("period")
        self.ctrl = self.count = 0
        self.next: Any = None

    def _blink(self) -> None:
        self.count += 1
        self.raise_irq("irq", True)
        self.next = self.ctx.clock.at(self.ctx.clock.now() + self.period, self._blink)

    def read(self, offset: int, size: int) -> int:
        return {0x0: self.ctrl, 0x4: self.count}.get(offset, 0)

    def write(self, offset: int, size: int, value: int) -> None:
        if offset == 0x0:
            on, was = value & 1, self.ctrl & 1
            self.ctrl = on
            if on and not was:
                self.count = 0
                self.next = self.ctx.clock.at(self.ctx.clock.now() + self.period, self._blink)
            elif was and not on and self.next is not None:
                self.next.cancelled = True
        elif offset == 0x8:
            self.raise_irq("irq", False)


def fdt_node(w: TreeWriter, obj: Object, depth: int) -> str:
    name = f"blinker@{obj.get('base'):x}"
    w.emit(depth, f"{name} {{")
    wires = [wire for wire in w.machine.wires if wire.source is obj]
    if wires:
        w.emit(depth + 1, f"interrupts = <0x{wires[0].index:x}>;")
        w.emit(depth + 1, f"interrupt-parent = <0x{w.phandle(wires[0].sink.path):x}>;")
    w.reg(obj, depth + 1)
    w.emit(depth + 1, 'compatible = "qconf,blinker";')
    w.emit(depth, "};")
    return name


def register(registry: TypeRegistry) -> None:
    registry.add(TypeInfo("blinker", BlinkerProps, "An LED that blinks.", "gpio", __name__,
                          behaviour=Blinker, fdt=fdt_node))  # fmt: skip
