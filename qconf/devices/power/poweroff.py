"""The generic poweroff register's model."""

from __future__ import annotations

from qconf.devices.base import Device


class Poweroff(Device):
    """A write ends the run; with ``exit_code``, the value written is the exit status."""

    STATE = ()

    def read(self, offset: int, size: int) -> int:
        return 0

    def write(self, offset: int, size: int, value: int) -> None:
        code = value & 0xFF if self.obj.get("exit_code") else 0
        self.ctx.run.request_stop(code, f"{self.obj.key}: guest powered off (status {code})")
