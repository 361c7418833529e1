"""The Arm CMSDK APB UART model (MPS2 boards)."""

from __future__ import annotations

from qconf.devices.base import Device
from qconf.emu.context import DeviceContext


class CmsdkUart(Device):
    """Arm CMSDK APB UART: DATA, STATE, CTRL, INTSTATUS, BAUDDIV."""

    STATE = ("ctrl", "bauddiv", "rx")

    def __init__(self, ctx: DeviceContext) -> None:
        super().__init__(ctx)
        self.out = self.chardev()
        self.ctrl = self.bauddiv = 0
        self.rx: int | None = None

    def read(self, offset: int, size: int) -> int:
        if self.rx is None:
            self.rx = self.out.read()
        if offset == 0x0:
            value, self.rx = (self.rx or 0), None
            return value
        if offset == 0x4:  # STATE: bit 1 RX full; bit 0 TX full never
            if self.rx is None:
                self.ctx.run.idle_poll()  # nothing received: polling it may be idling
                return 0
            return 0x2
        if offset == 0x8:
            return self.ctrl
        if offset == 0x10:
            return self.bauddiv
        return 0

    def write(self, offset: int, size: int, value: int) -> None:
        if offset == 0x0 and self.ctrl & 0x1:  # TX enabled
            self.out.write(bytes((value & 0xFF,)))
        elif offset == 0x8:
            self.ctrl = value & 0x7F
        elif offset == 0x10:
            self.bauddiv = value
