"""The human monitor on the terminal (Ctrl-A c on a stdio console): the commands
``human-monitor-command`` runs (``info registers``, ``info mtree``, ``x /4xw ADDR``,
``stop``, ``cont``, ``system_reset``, ``quit``...), on the same machine and run state as
the QMP clients' (see :mod:`qconf.qmp.hmp`)."""

from __future__ import annotations

from typing import Any

from qconf.qmp.control import Control
from qconf.qmp.protocol import QmpError

__all__ = ("TerminalMonitor",)


class TerminalMonitor:
    """Runs human monitor lines for the terminal (see :class:`qconf.emu.terminal.Monitor`).

    :param control: the run state and the machine (shared with QMP clients, if any).
    :param notes: qconf's notes held while the guest had the terminal, shown first.
    """

    prompt = "(qconf) "

    def __init__(self, control: Control, notes: list[str] | None = None) -> None:
        self.control = control
        self.notes = notes if notes is not None else []

    @property
    def done(self) -> bool:
        """Whether ``quit`` was run (here or by a QMP client)."""
        return self.control.quit_requested

    def banner(self) -> str:
        from qconf import __version__
        from qconf.qmp.protocol import QEMU_VERSION

        v = QEMU_VERSION
        lines = [f"qconf {__version__} monitor (QEMU {v['major']}.{v['minor']} HMP) - type "
                 "'help' for more information", *self.notes]  # fmt: skip
        self.notes.clear()
        return "".join(f"{line}\r\n" for line in lines)

    def execute(self, line: str) -> str:
        """Run ``line`` as ``human-monitor-command`` does, for the client "monitor"."""
        from qconf.qmp.commands import COMMANDS

        command = COMMANDS["human-monitor-command"]
        try:
            result: Any = command(self.control, {"command-line": line}, "monitor")
        except QmpError as exc:
            return f"Error: {exc.desc}\r\n"
        return str(result)
