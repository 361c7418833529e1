"""The NS16550A UART model and its device-tree node."""

from __future__ import annotations

from qconf.devices.base import Device
from qconf.dtb import TreeWriter
from qconf.emu.context import DeviceContext
from qconf.model.objects import Object


class Ns16550a(Device):
    """The 16550A subset guests use: THR/RBR, IER, IIR, LCR (DLAB), LSR, SCR."""

    STATE = ("ier", "lcr", "mcr", "scr", "dll", "dlm", "rx")

    def __init__(self, ctx: DeviceContext) -> None:
        super().__init__(ctx)
        obj = ctx.obj
        self.shift = obj.get("reg_shift")
        self.ier = self.lcr = self.mcr = self.scr = self.dll = self.dlm = 0
        self.out = self.chardev()
        self.rx: int | None = None

    def _poll(self) -> None:
        if self.rx is None:
            self.rx = self.out.read()

    def _update(self) -> None:
        self._poll()
        self.raise_irq("irq", bool((self.ier & 0x2) or (self.ier & 0x1 and self.rx is not None)))

    def input_wakes(self) -> bool:
        """Whether input would raise an interrupt (the receive interrupt is enabled)."""
        return bool(self.ier & 0x1)

    def poll_input(self) -> None:
        """Between slices: input that arrived raises the receive interrupt (if enabled)."""
        if self.input_wakes():
            self._update()

    def read(self, offset: int, size: int) -> int:
        reg = offset >> self.shift
        dlab = self.lcr & 0x80
        if reg == 0:
            if dlab:
                return self.dll
            self._poll()
            value, self.rx = (self.rx or 0), None
            self._update()
            return value
        if reg == 1:
            return self.dlm if dlab else self.ier
        if reg == 2:  # IIR: 0xc0 FIFOs enabled; 0x1 none pending, 0x4 rx, 0x2 thr empty
            self._poll()
            if self.ier & 0x1 and self.rx is not None:
                return 0xC4
            return 0xC2 if self.ier & 0x2 else 0xC1
        if reg == 3:
            return self.lcr
        if reg == 4:
            return self.mcr
        if reg == 5:  # LSR: THR empty, transmitter empty, data ready
            self._poll()
            if self.rx is None:
                self.ctx.run.idle_poll()  # nothing received: polling it may be idling
                return 0x60
            return 0x61
        if reg == 6:
            return 0xB0  # MSR: DCD, DSR, CTS
        return self.scr

    def write(self, offset: int, size: int, value: int) -> None:
        reg = offset >> self.shift
        value &= 0xFF
        dlab = self.lcr & 0x80
        if reg == 0:
            if dlab:
                self.dll = value
            else:
                self.out.write(bytes((value,)))
        elif reg == 1:
            if dlab:
                self.dlm = value
            else:
                self.ier = value & 0x0F
                self._update()
        elif reg == 3:
            self.lcr = value
        elif reg == 4:
            self.mcr = value
        elif reg == 7:
            self.scr = value


def fdt_node(w: TreeWriter, obj: Object, depth: int) -> str:
    """``serial@BASE``, compatible ``ns16550a``."""
    name = f"serial@{obj.get('base'):x}"
    w.emit(depth, f"{name} {{")
    wires = [wire for wire in w.machine.wires if wire.source is obj]
    if wires:
        w.emit(depth + 1, f"interrupts = <0x{wires[0].index:x}>;")
        w.emit(depth + 1, f"interrupt-parent = <0x{w.phandle(wires[0].sink.path):x}>;")
    w.emit(depth + 1, f"clock-frequency = <0x{w.machine.clock_rate(obj, 'clock'):x}>;")
    w.reg(obj, depth + 1)
    w.emit(depth + 1, 'compatible = "ns16550a";')
    w.emit(depth, "};")
    return name
