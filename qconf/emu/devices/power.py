"""Models of devices that end the run: the SiFive test finisher and a generic poweroff
register (types declared in :mod:`qconf.devices.power`)."""

from __future__ import annotations

from qconf.emu.devices.base import _Device


class SifiveTest(_Device):
    """The test finisher: 0x5555 pass (status 0), 0x3333 | code << 16 fail, 0x7777 reset."""

    def read(self, offset: int, size: int) -> int:
        return 0

    def write(self, offset: int, size: int, value: int) -> None:
        kind, code = value & 0xFFFF, (value >> 16) & 0xFFFF
        if kind == 0x5555:
            self.emu.request_stop(0, f"{self.obj.key}: guest powered off (pass)")
        elif kind == 0x3333:
            self.emu.request_stop(code or 1, f"{self.obj.key}: guest reported failure {code}")
        elif kind == 0x7777:
            self.emu.request_stop(0, f"{self.obj.key}: guest asked for a reset")


class Poweroff(_Device):
    """A write ends the run; with ``exit_code``, the value written is the exit status."""

    def read(self, offset: int, size: int) -> int:
        return 0

    def write(self, offset: int, size: int, value: int) -> None:
        code = value & 0xFF if self.obj.get("exit_code") else 0
        self.emu.request_stop(code, f"{self.obj.key}: guest powered off (status {code})")
