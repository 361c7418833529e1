"""The model of the generic ``timer`` type, a CMSDK APB timer on virtual time."""

from __future__ import annotations

from typing import Any

from qconf.devices.base import Device
from qconf.emu.context import DeviceContext


class Timer(Device):
    """The `timer` type, register-compatible with Arm's CMSDK APB timer: CTRL (+0x0: bit 0
    enable, bit 3 interrupt enable), VALUE (+0x4), RELOAD (+0x8), INTSTATUS/INTCLEAR
    (+0xC). It counts VALUE down at ``freq`` in virtual time; reaching zero sets the
    interrupt (a level, until cleared) and reloads."""

    STATE = ("ctrl", "reload", "status", "_value", "_epoch")

    def __init__(self, ctx: DeviceContext) -> None:
        super().__init__(ctx)
        self.hz: int = ctx.rate("freq")
        self.ctrl = self.reload = self.status = 0
        self._value = 0
        self._epoch = 0
        self._event: Any = None

    def _now_value(self) -> int:
        if not self.ctrl & 1:
            return self._value
        ticks = (self.ctx.clock.now() - self._epoch) * self.hz // 1_000_000_000
        return max(0, self._value - ticks)

    def _restart(self, value: int) -> None:
        if self._event is not None:
            self._event.cancelled = True
            self._event = None
        self._value, self._epoch = value, self.ctx.clock.now()
        self.rearm()

    def rearm(self) -> None:
        """The expiry event of the count that runs (from VALUE and when it was loaded)."""
        if self.ctrl & 1 and self._value > 0:
            when = self._epoch + -(-self._value * 1_000_000_000 // self.hz)
            self._event = self.ctx.clock.at(when, self._expired)

    def _expired(self) -> None:
        self._event = None
        self.status = 1
        self._update()
        self._restart(self.reload)

    def _update(self) -> None:
        self.raise_irq("irq", bool(self.status and self.ctrl & 8))

    def read(self, offset: int, size: int) -> int:
        if offset == 0x0:
            return self.ctrl
        if offset == 0x4:
            return self._now_value()
        if offset == 0x8:
            return self.reload
        if offset == 0xC:
            return self.status
        return 0

    def write(self, offset: int, size: int, value: int) -> None:
        value &= 0xFFFFFFFF
        if offset == 0x0:
            current = self._now_value()
            self.ctrl = value & 0xF
            self._restart(current)
        elif offset == 0x4:
            self._restart(value)
        elif offset == 0x8:
            self.reload = value
            self._restart(value)  # writing RELOAD also loads VALUE, as on the CMSDK timer
        elif offset == 0xC and value & 1:
            self.status = 0
        self._update()
