"""The Arm PL011 UART model and its device-tree node."""

from __future__ import annotations

from qconf.devices.base import Device
from qconf.dtb import TreeWriter
from qconf.emu.context import DeviceContext
from qconf.model.objects import Object


class Pl011(Device):
    """PL011: DR, FR, IBRD/FBRD, LCR_H, CR, IMSC, RIS, MIS, ICR, peripheral ids."""

    ID = (0x11, 0x10, 0x14, 0x00, 0x0D, 0xF0, 0x05, 0xB1)
    STATE = ("regs", "rx")

    def __init__(self, ctx: DeviceContext) -> None:
        super().__init__(ctx)
        self.out = self.chardev()
        self.regs = {0x24: 0, 0x28: 0, 0x2C: 0, 0x30: 0x300, 0x38: 0}
        self.rx: int | None = None

    def _ris(self) -> int:
        if self.rx is None:
            self.rx = self.out.read()
        return 0x20 | (0x10 if self.rx is not None else 0)  # TX always ready

    def _update(self) -> None:
        self.raise_irq("irq", bool(self._ris() & self.regs[0x38]))

    def input_wakes(self) -> bool:
        """Whether input would raise an interrupt (RXIM is set)."""
        return bool(self.regs[0x38] & 0x10)

    def poll_input(self) -> None:
        """Between slices: input that arrived raises the receive interrupt (if enabled)."""
        if self.input_wakes():
            self._update()

    def read(self, offset: int, size: int) -> int:
        if offset == 0x00:
            self._ris()
            value, self.rx = (self.rx or 0), None
            self._update()
            return value
        if offset == 0x18:  # FR: TXFE, RXFE when empty
            if self._ris() & 0x10:
                return 0x80
            self.ctx.run.idle_poll()  # nothing received: polling it may be idling
            return 0x90
        if offset == 0x3C:
            return self._ris()
        if offset == 0x40:
            return self._ris() & self.regs[0x38]
        if 0xFE0 <= offset < 0x1000:
            return self.ID[(offset - 0xFE0) >> 2]
        return self.regs.get(offset, 0)

    def write(self, offset: int, size: int, value: int) -> None:
        if offset == 0x00:
            self.out.write(bytes((value & 0xFF,)))
        elif offset in self.regs:
            self.regs[offset] = value
            self._update()


def fdt_node(w: TreeWriter, obj: Object, depth: int) -> str:
    """``pl011@BASE`` with its clock and its GIC interrupt (an SPI)."""
    name = f"pl011@{obj.get('base'):x}"
    clock = w.fixed_clock(w.machine.clock_rate(obj, "clock"))
    w.emit(depth, f"{name} {{")
    w.emit(depth + 1, 'clock-names = "uartclk", "apb_pclk";')
    w.emit(depth + 1, f"clocks = <0x{clock:x} 0x{clock:x}>;")
    wires = [wire for wire in w.machine.wires if wire.source is obj and wire.index >= 32]
    if wires:
        w.emit(depth + 1, f"interrupts = <0x00 0x{wires[0].index - 32:x} 0x04>;")
    w.reg(obj, depth + 1)
    w.emit(depth + 1, 'compatible = "arm,pl011", "arm,primecell";')
    w.emit(depth, "};")
    return name
