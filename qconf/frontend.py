"""What stands between the user and a running machine: the QMP server, the monitor on
the terminal, the live status and qconf's notes; and the machine's life around its runs
(``system_reset``, ``--no-shutdown``). :mod:`qconf.runner` makes one per ``qconf run``.

The console belongs to the guest: when the guest's console writes to the terminal that
standard error is on, qconf writes nothing there while the guest runs. Its notes are held
(shown when the monitor opens, or after the run), and the live status goes to standard
error only when the console is elsewhere (``--status auto``), or to the terminal's title
(``--status title``), or where asked (``--status line``).
"""

from __future__ import annotations

import os
import select
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qconf.emu.emulator import Emulator
    from qconf.emu.scheduler import Outcome
    from qconf.emu.terminal import Mux
    from qconf.qmp.control import Control
    from qconf.qmp.server import QmpServer

__all__ = ("STATUS", "Frontend")

STATUS = ("auto", "line", "title", "off")
"""Where ``--status`` puts the live status (see the module's description)."""


def _stderr_line(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _shutdown_data(outcome: Outcome) -> dict[str, Any]:
    """The SHUTDOWN event's data for a run that ended by itself (QEMU's ShutdownCause)."""
    if outcome.fault is not None:
        return {"guest": True, "reason": "guest-panic"}
    if outcome.cause == "interrupt":
        return {"guest": False, "reason": "host-signal"}
    return {"guest": True, "reason": "guest-shutdown"}


class Frontend:
    """One ``qconf run``'s front end.

    :param server: the QMP server (``--qmp``), if any; its control is the run state's.
    :param layers: the files, tweaks and search directories (a monitor opened without QMP
        makes its control from them).
    :param status: where the live status goes (:data:`STATUS`).
    :param no_shutdown: when the guest powers off or faults, stop and stay (for QMP and
        the monitor) until ``quit`` instead of ending.
    """

    def __init__(self, server: QmpServer | None, layers: tuple[Any, Any, Any],
                 status: str = "auto", no_shutdown: bool = False) -> None:  # fmt: skip
        self.server = server
        self.control: Control | None = server.control if server is not None else None
        self.layers = layers
        self.status_mode = status
        self.no_shutdown = no_shutdown
        self.emulator: Emulator | None = None
        self.mux: Mux | None = None
        self.notes: list[str] = []  # notes held while the guest has the terminal
        self.quit_reason = ""  # set once quit was asked for (Ctrl-A x, monitor, QMP)
        self.shares = False
        """The guest's console writes to the terminal standard error is on."""
        self._line_shown = False
        self._stopped = False  # the guest ended, the machine stays (--no-shutdown)
        self.stayed = False
        """The guest's end was kept for inspection (--no-shutdown), then quit."""
        self.debug: Any = None
        """The gdb stubs (:class:`qconf.debug.server.GdbServer`), served while QMP pauses."""

    # --- set-up, before each run ---------------------------------------------------------

    def attach(self, emulator: Emulator) -> None:
        """Take charge of a prepared emulator: the terminal's monitor and Ctrl-A x, where
        notes go, whether the run waits for a controller, QMP's view of it."""
        self.emulator = emulator
        previous, self.mux = self.mux, emulator.consoles.terminal
        if self.mux is not None:
            self.mux.open_monitor = self._open_monitor
            self.mux.on_quit = self._console_quit
            if previous is not None:  # after system_reset: the monitor as it was
                self.mux.monitor, self.mux.in_monitor = previous.monitor, previous.in_monitor
        self.shares = self._shares_terminal()
        if self.shares:
            emulator.scheduler.say = self.notes.append
        emulator.scheduler.keep_alive = self.keeps_alive
        emulator.scheduler.controller_fds = self.fds
        control = self.control
        if control is not None:
            control.emulation = emulator
            if self.server is not None:
                emulator.listeners.append(lambda obj, data: control.console_output(obj.path, data))

    def _shares_terminal(self) -> bool:
        """Whether the guest's console writes to the terminal standard error is on."""
        emulator = self.emulator
        if emulator is None or not emulator.consoles.uses_stdout() or not sys.stderr.isatty():
            return False
        try:
            return os.isatty(1) and os.path.samestat(os.fstat(1), os.fstat(2))
        except OSError:
            return False

    def status(self) -> Any:
        """The run's live status callback (None: no status), by ``--status``."""
        mode = self.status_mode
        if mode == "auto":
            mode = "line" if sys.stderr.isatty() and not self.shares else "off"
        if mode == "line" and sys.stderr.isatty():
            return self._show_line
        if mode == "title" and (self.mux is not None or sys.stderr.isatty()):
            return self._show_title
        return None

    def _show_line(self, text: str) -> None:
        self._line_shown = True
        sys.stderr.write(f"\r\x1b[K[qconf] {text}")
        sys.stderr.flush()

    def _show_title(self, text: str) -> None:
        if self.mux is not None:
            self.mux.set_title(f"qconf: {text}")
        else:
            if not self._line_shown:
                sys.stderr.write("\x1b[22;2t")  # keep the user's title (xterm)
            self._line_shown = True
            sys.stderr.write(f"\x1b]2;qconf: {text}\x07")
            sys.stderr.flush()

    def clear_status(self) -> None:
        """Erase the status line, give the terminal its title back."""
        if self.mux is not None:
            self.mux.restore_title()
        if self._line_shown:
            sys.stderr.write("\x1b[23;2t" if self.status_mode == "title" else "\r\x1b[K")
            sys.stderr.flush()
            self._line_shown = False

    def say(self, lines: list[str]) -> None:
        """qconf's words after a run: on a fresh line if the guest's last output on the
        terminal did not end one; the notes held first."""
        lines = [*self.notes, *lines]
        self.notes.clear()
        if not lines:
            return
        if self.mux is not None and not self.mux.at_line_start and self.shares:
            sys.stdout.flush()
            os.write(1, b"\n")  # the terminal is restored: it adds the carriage return
            self.mux.at_line_start = True
        _stderr_line("\n".join(lines))

    # --- the monitor ---------------------------------------------------------------------

    def _open_monitor(self) -> Any:
        from qconf.qmp.monitor import TerminalMonitor

        return TerminalMonitor(self._control(), self.notes)

    def _control(self) -> Control:
        """The run state QMP and the monitor share (made for the monitor without QMP)."""
        if self.control is None:
            from qconf.qmp.control import Control
            from qconf.qmp.state import Runstate

            files, sets, include_dirs = self.layers
            control = Control(list(files), [(t, None) for t in sets], list(include_dirs))
            assert self.emulator is not None
            control.machine = self.emulator.machine
            control.emulation = self.emulator
            control.transition(Runstate.RUNNING)
            if self._stopped:
                control.transition(Runstate.SHUTDOWN)
            self.control = control
        return self.control

    def _console_quit(self) -> None:
        self.quit_reason = "quit from the console (Ctrl-A X)"
        if self.emulator is not None:
            self.emulator.request_stop(0, self.quit_reason)

    def keeps_alive(self) -> bool:
        """Whether the run waits, when every CPU does with nothing to wake it, rather than
        end as hung: a QMP client or the monitor may still act."""
        from qconf.qmp.state import Runstate

        if self.server is not None or (self.mux is not None and self.mux.in_monitor):
            return True
        return self.control is not None and self.control.status is Runstate.PAUSED

    # --- between slices ------------------------------------------------------------------

    def tick(self, emulator: Emulator) -> None:
        """Serve QMP and the monitor; wait while the machine is paused; end the run when
        quit or system_reset was asked for."""
        self._serve()
        from qconf.qmp.state import Runstate

        while (
            self.control is not None
            and self.control.status is Runstate.PAUSED
            and not self._quitting()
        ):
            self.wait(0.2)
        if self._quitting():
            emulator.request_stop(0, self.quit_reason, "host")
        elif self.control is not None and self.control.reset_requested:
            emulator.request_stop(0, "reset", "host")

    def _serve(self) -> None:
        control = self.control
        server = self.server
        if server is not None and control is not None:
            for chunk in control.take_console():
                server.broadcast("QCONF_CONSOLE", chunk, only=control.console_clients)
            server.poll(0)
            self._quitting("quit (QMP)")
        if self.mux is not None:
            self.mux.serve()
            self._quitting("quit from the monitor")
        self._publish()

    def _publish(self) -> None:
        """Events the monitor's commands caused (``stop``: STOP), to every QMP client."""
        control = self.control
        if control is None or not control.events:
            return
        events, control.events = list(control.events), []
        if self.server is not None:
            for e in events:
                self.server.broadcast(e["event"], e.get("data"))

    def _quitting(self, who: str = "quit (QMP)") -> bool:
        """Whether quit was asked for; if it was just now, ``who`` asked."""
        if self.control is not None and self.control.quit_requested and not self.quit_reason:
            self.quit_reason = who
        return bool(self.quit_reason)

    def fds(self) -> list[int]:
        """The descriptors QMP clients and the terminal's keys come on."""
        fds: list[int] = []
        if self.server is not None:
            fds += [s.fileno() for s in self.server.listeners]
            fds += [s.fileno() for s in self.server.clients]
        if self.mux is not None and (fd := self.mux.inner.wait_fd()) is not None:
            fds.append(fd)
        return fds

    def wait(self, timeout: float) -> None:
        """Sleep up to ``timeout`` until a QMP client or a key needs serving, then serve."""
        fds = self.fds()
        if self.debug is not None:  # gdb too is served while QMP pauses, and may resume
            timeout = min(timeout, 0.02)
        if fds:
            select.select(fds, [], [], timeout)
        else:
            time.sleep(timeout)
        if self.debug is not None:
            self.debug.poll(0.02)
        self._serve()

    # --- after a run ---------------------------------------------------------------------

    def ended(self, outcome: Outcome) -> bool:
        """The run ended: tell QMP clients; with ``--no-shutdown``, when the guest powered
        off or faulted, stay (serving QMP and the monitor) until ``quit`` or
        ``system_reset``. Whether to run again (``system_reset``)."""
        from qconf.qmp.state import Runstate

        control, fault = self.control, outcome.fault
        if fault is not None:
            self._event("QCONF_GUEST_FAULT", {"cpu": fault.cpu, "pc": fault.pc,
                                              "cause": fault.cause})  # fmt: skip
        stays = self.no_shutdown and (outcome.cause == "guest" or fault is not None)
        if control is not None and control.reset_requested and not stays:
            return self._reset()
        if not stays or self._quitting():
            self._shutdown(outcome)
            return False
        self._stopped = self.stayed = True
        if control is not None:
            if fault is not None:
                control.transition(Runstate.GUEST_PANICKED)
                self._event("GUEST_PANICKED", {"action": "pause"})
            else:
                control.transition(Runstate.SHUTDOWN)
                self._event("SHUTDOWN", {"guest": True, "reason": "guest-shutdown"})
            self._event("STOP")
        stays_line = (f"qconf: {outcome.reason}; the machine stays for inspection "
                      "(--no-shutdown) until quit")  # fmt: skip
        if self.shares:  # the guest's terminal: in the monitor's banner (Ctrl-A c)
            self.notes.append(stays_line)
        else:
            _stderr_line(stays_line)
        try:
            while not self._quitting():
                if self.control is not None and self.control.reset_requested:
                    return self._reset()
                self.wait(0.2)
        finally:
            if stays_line in self.notes:  # not shown: no longer true
                self.notes.remove(stays_line)
        self._shutdown(outcome)
        return False

    def _reset(self) -> bool:
        from qconf.qmp.state import Runstate

        self.stayed = False
        control = self.control
        assert control is not None
        control.reset_requested = False
        control.emulation = None
        if control.status in (Runstate.SHUTDOWN, Runstate.GUEST_PANICKED):
            control.transition(Runstate.PAUSED)  # as QEMU's prelaunch: cont starts it
        self._stopped = False
        self._event("RESET", {"guest": False, "reason": "host-qmp-system-reset"})
        return True

    def _shutdown(self, outcome: Outcome) -> None:
        """The machine is done: SHUTDOWN (unless quit sent it), the run state, then the
        clients may read it before the server closes."""
        from qconf.qmp.state import Runstate

        control = self.control
        if control is None:
            return
        control.emulation = None
        if not control.quit_requested and control.status is not Runstate.SHUTDOWN:
            if outcome.fault is not None and control.status is not Runstate.GUEST_PANICKED:
                control.transition(Runstate.GUEST_PANICKED)
                self._event("GUEST_PANICKED", {"action": "poweroff"})
                self._event("STOP")
            control.transition(Runstate.SHUTDOWN)
            self._event("SHUTDOWN", _shutdown_data(outcome))
        elif control.status is not Runstate.SHUTDOWN:
            control.transition(Runstate.SHUTDOWN)
        self._publish()

    def _event(self, name: str, data: dict[str, Any] | None = None) -> None:
        if self.server is not None:
            self.server.broadcast(name, data)

    def close(self) -> None:
        """Let QMP clients read what is left, then close the server."""
        if self.server is not None:
            control = self.control
            if control is not None:
                for chunk in control.take_console():
                    self.server.broadcast("QCONF_CONSOLE", chunk, only=control.console_clients)
            self.server.poll(0.1)
            self.server.close()
