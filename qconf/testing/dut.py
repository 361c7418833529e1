"""A machine under test, driven step by step from a test: :class:`Dut`.

The machine runs in the test's own thread, only while the test waits for something
(:meth:`Console.expect`, :meth:`Dut.run_for`, :meth:`Dut.wait_exit`): the scheduler runs
its time slices until what the test waits for has shown, and returns between two slices
(``Scheduler.run``'s ``until``). Between those calls the machine is paused, as after
QMP's ``stop``: its registers, memory and objects can be read and written. Nothing
depends on the host: a test that types the same text after the same expects sees the
same bytes, instructions and virtual time on every run, whatever the host's load.

Timeouts are guest time by default: ``expect("=> ", timeout="2s")`` fails once two
seconds of the machine's virtual time went by without the prompt, however long that took
on the host (checked between slices: up to one slice late, 100 quanta at most). ``wall=``
adds a host-time limit, which is the one thing that depends on the host.

Every UART's output is kept in memory (:attr:`Dut.uarts`, by path); the console is the
first UART, as for ``qconf run``. Failures are :class:`ExpectFailed` (an
``AssertionError``), whose message names the pattern and shows the console's last lines.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qconf.errors import QconfError
from qconf.testing.console import DEFAULT_TIMEOUT, Console, ExpectFailed, guest_time

if TYPE_CHECKING:
    from pathlib import Path

    from qconf.assembly.machine import Machine
    from qconf.emu.checkpoint import Checkpoint
    from qconf.emu.emulator import Emulator
    from qconf.model.document import Document

__all__ = (
    "DEFAULT_TIMEOUT",
    "Console",
    "Dut",
    "Stats",
    "ExpectFailed",
    "QmpCommandError",
    "guest_time",
)

EXIT_FAULT = 3


class QmpCommandError(QconfError):
    """A QMP command run in-process (:meth:`Dut.qmp`) answered with an error."""

    code = "E921"


@dataclass(frozen=True)
class Stats:
    """The run so far: instructions per CPU and in all, virtual time, the host time spent
    emulating, and how it ended (``exit_code`` None while it goes on)."""

    instructions: dict[str, int]
    virtual_ns: int
    wall_s: float
    exit_code: int | None
    reason: str

    @property
    def total(self) -> int:
        return sum(self.instructions.values())


class Dut:
    """A machine under test (see the module's description).

    :param machine: a built machine (this object closes it).
    :param doc: the resolved document it was built from, for :meth:`resolved` (None when
        it came from a checkpoint).
    :param name: how messages name it (a test id, a variant).
    """

    def __init__(
        self,
        machine: Machine,
        doc: Document | None = None,
        *,
        name: str = "",
        files: Sequence[str] = (),
        sets: Sequence[str] = (),
        include_dirs: Sequence[str] = (),
    ) -> None:
        from qconf.emu.chardev import MemoryChardev
        from qconf.emu.emulator import Emulator

        self.machine = machine
        self.doc = doc
        self.name = name
        self.files, self.sets, self.include_dirs = tuple(files), tuple(sets), tuple(include_dirs)
        backends = {obj.path: MemoryChardev() for obj in machine.objects()
                    if "chardev" in obj.info.prop_names}  # fmt: skip
        self.emulator: Emulator = Emulator(machine, dict(backends))
        self.uarts: dict[str, Console] = {path: Console(self, path, backend)
                                          for path, backend in backends.items()}  # fmt: skip
        self.log = bytearray()
        """Every UART's output, in the order it came (what a terminal would show)."""
        self.default_wall: float | None = None
        """A host-time limit for waits that give none (pytest's ``--qconf-wall``)."""
        self._ended: Any = None  # the Outcome once the run is over
        self._wall = 0.0
        self._control: Any = None
        try:
            self.emulator.prepare()
        except BaseException:
            self.emulator.close()
            raise
        self.emulator.listeners.append(self._output)
        opened = self.emulator.consoles.console
        first = next((p for p, b in backends.items() if b is opened), None)
        self.console: Console | None = self.uarts[first] if first else None
        """The first UART (``qconf run``'s console), which :meth:`expect` reads."""

    def _output(self, obj: Any, data: bytes) -> None:
        self.log += data
        console = self.uarts.get(obj.path)
        if console is not None:
            console._output(data)

    # --- pytest-embedded's idioms, on the console -----------------------------------------

    def _console(self) -> Console:
        if self.console is None:
            raise ExpectFailed(f"{self.name or 'the machine'} has no UART to expect on")
        return self.console

    def expect(
        self,
        pattern: str | bytes | re.Pattern[str] | re.Pattern[bytes],
        timeout: float | str | None = DEFAULT_TIMEOUT,
        *,
        wall: float | None = None,
    ) -> re.Match[str]:
        """:meth:`Console.expect` on the console (the first UART)."""
        return self._console().expect(pattern, timeout, wall=wall)

    def expect_exact(
        self, text: str | bytes, timeout: float | str | None = DEFAULT_TIMEOUT, *,
        wall: float | None = None,
    ) -> re.Match[str]:  # fmt: skip
        """:meth:`Console.expect_exact` on the console (the first UART)."""
        return self._console().expect_exact(text, timeout, wall=wall)

    def write(self, data: str | bytes) -> None:
        """Type ``data`` into the console (the first UART)."""
        self._console().write(data)

    def uart(self, path: str) -> Console:
        """The UART at ``path`` (``/machine/soc/uart1`` or ``soc.uart1``).

        :raises ExpectFailed: the machine has no UART there (the message lists them).
        """
        obj = self.machine.find(path)
        console = self.uarts.get(obj.path) if obj is not None else None
        if console is None:
            raise ExpectFailed(f"no UART at {path}", hint="UARTs: " + ", ".join(self.uarts))
        return console

    # --- running ------------------------------------------------------------------------

    @property
    def now_ns(self) -> int:
        """The machine's virtual time."""
        return int(self.emulator.scheduler.time.now)

    @property
    def running(self) -> bool:
        """Whether the guest can still run (it has not powered off or faulted)."""
        return self._ended is None

    def run_until(
        self, done: Callable[[], bool], timeout_ns: int | None, wall: float | None = None
    ) -> str:
        """Run until ``done()`` holds between two slices (``done``), ``timeout_ns`` of guest
        time passed (``timeout``), ``wall`` host seconds passed (``wall``), every CPU waits
        for input nothing sent (``idle``), or the run ended (``ended``); which of them.

        :raises KeyboardInterrupt: Ctrl-C stopped the run.
        """
        if done():
            return "done"
        if self._ended is not None:
            return "ended"
        wall = self.default_wall if wall is None else wall
        scheduler = self.emulator.scheduler
        clock = scheduler.time
        deadline = clock.now + timeout_ns if timeout_ns is not None else None
        host_deadline = time.monotonic() + wall if wall is not None else None
        why = ["done"]

        def until() -> bool:
            if done():
                return True
            if deadline is not None and clock.now >= deadline:
                why[0] = "timeout"
                return True
            if host_deadline is not None and time.monotonic() >= host_deadline:
                why[0] = "wall"
                return True
            return False

        outcome = self.emulator.run(until=until)
        self._wall += outcome.wall_s
        if outcome.paused:
            return why[0]
        if outcome.exit_code == 130:
            raise KeyboardInterrupt
        if outcome.exit_code == EXIT_FAULT and outcome.fault is None and "hung" in outcome.reason:
            # every CPU waits for an interrupt, and no timer is armed: only input the test
            # types can wake it, so it is paused rather than over (no slice ran since)
            scheduler.stopping, scheduler.exit_code, scheduler.reason = False, 0, ""
            return "done" if done() else "idle"
        self._ended = outcome
        return "done" if done() else "ended"

    def run_for(self, duration: float | str) -> None:
        """Let ``duration`` of guest time pass (seconds or a duration), or less if the run
        ends; to the slice (a little more)."""
        ns = guest_time(duration)
        self.run_until(lambda: False, ns)

    def wait_exit(self, timeout: float | str | None = DEFAULT_TIMEOUT, *,
                  wall: float | None = None) -> int:  # fmt: skip
        """Run until the guest ends; its exit status (qconf run's: the guest's, 3 for a
        fault).

        :raises ExpectFailed: it still runs after ``timeout`` of guest time (or ``wall``).
        """
        why = self.run_until(lambda: self._ended is not None, guest_time(timeout), wall)
        if self._ended is None:
            what = "waits for input that nothing has sent" if why == "idle" else "still runs"
            raise ExpectFailed(f"expected the guest to exit: it {what} after "
                               f"{self.now_ns / 1e9:.6f} s of guest time",
                               tail=self.tail_text(self.console))  # fmt: skip
        return int(self._ended.exit_code)

    @property
    def exit_code(self) -> int | None:
        """The run's exit status once it ended, else None."""
        return None if self._ended is None else int(self._ended.exit_code)

    @property
    def stats(self) -> Stats:
        """Instructions, virtual time and host time so far, and how the run ended."""
        ended = self._ended
        reason = "" if ended is None else ended.reason
        if ended is not None and ended.fault is not None:
            reason = ended.fault.lines()[0].removeprefix("qconf: ")
        return Stats({cpu.obj.path: cpu.instructions for cpu in self.emulator.cpus},
                     self.now_ns, self._wall, None if ended is None else ended.exit_code,
                     reason)  # fmt: skip

    @property
    def fault(self) -> Any:
        """The guest fault that ended the run (a :class:`~qconf.emu.faults.GuestFault`:
        ``cpu``, ``pc``, ``cause``, ``instruction``, ``registers``), or None."""
        return None if self._ended is None else self._ended.fault

    # --- QMP-level control, in-process ----------------------------------------------------

    def _cpu(self, cpu: str | None) -> Any:
        cores = self.emulator.cpus
        if cpu is None:
            return cores[0]
        for core in cores:
            if cpu in (core.obj.path, core.obj.key):
                return core
        raise QmpCommandError(f"no CPU {cpu}",
                              hint="CPUs: " + ", ".join(c.obj.path for c in cores))  # fmt: skip

    def registers(self, cpu: str | None = None) -> dict[str, int]:
        """A CPU's registers by name, its system registers included (the first CPU by
        default), as ``info registers`` shows them."""
        core = self._cpu(cpu)
        return dict(core.registers(core.pc))

    def read_memory(self, address: int, size: int, cpu: str | None = None) -> bytes:
        """``size`` bytes at ``address`` as ``cpu`` sees them (QMP's ``memsave``)."""
        return bytes(self._cpu(cpu).uc.mem_read(address, size))

    def write_memory(self, address: int, data: bytes, cpu: str | None = None) -> None:
        """Write ``data`` at ``address`` as ``cpu`` sees it; translated code is dropped."""
        self._cpu(cpu).uc.mem_write(address, data)
        for core in self.emulator.cpus:
            core.uc.ctl_flush_tb()

    def qom_get(self, path: str, prop: str) -> Any:
        """A property's value (``qom-get``)."""
        return self.qmp("qom-get", path=path, property=prop)

    def qmp(self, command: str, arguments: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """Run a QMP command in-process, on this machine, and return its ``return`` value:
        the same commands, arguments and checks as ``qconf run --qmp`` (``qom-get``,
        ``qom-list``, ``query-status``, ``qconf-register-read``, ``human-monitor-command``
        with ``info registers``...). Keyword names may use ``_`` for ``-``.

        :raises QmpCommandError: the command's error reply (its ``desc``).
        """
        from qconf.qmp.commands import COMMANDS
        from qconf.qmp.protocol import QmpError

        args = {k.replace("_", "-"): v for k, v in kwargs.items()} | (arguments or {})
        found = COMMANDS.get(command)
        if found is None:
            raise QmpCommandError(f"The command {command} has not been found")
        try:
            return found(self._qmp_control(), args, "qconf.testing")
        except QmpError as exc:
            raise QmpCommandError(f"{command}: {exc.desc}") from None

    def _qmp_control(self) -> Any:
        from qconf.qmp.control import Control
        from qconf.qmp.state import Runstate

        control = self._control
        if control is None:
            control = Control(list(self.files), [(t, None) for t in self.sets],
                              list(self.include_dirs))  # fmt: skip
            control.machine, control.emulation = self.machine, self.emulator
            control.transition(Runstate.PAUSED)
            self._control = control
        if self._ended is not None and control.status is not Runstate.SHUTDOWN:
            control.transition(Runstate.SHUTDOWN)
        return control

    # --- reports ------------------------------------------------------------------------

    def tail_text(self, console: Console | None, count: int = 10) -> str:
        """The last lines of a console, for failure messages."""
        if console is None:
            return "(no console)"
        lines = console.lines(count)
        shown = "\n".join(f"  | {line}" for line in lines) if lines else "  (no output yet)"
        return f"last lines of {console.path}:\n{shown}"

    def resolved(self) -> str:
        """The resolved configuration as YAML with each value's origin (``qconf resolve
        --show-origin``), or why it is not known."""
        if self.doc is None:
            return "# restored from a checkpoint: see the checkpoint's configuration digest\n"
        from qconf.config.dump import dump

        return dump(self.doc.display_tree(pretty=True), "yaml", show_origin=True)

    # --- checkpoints ------------------------------------------------------------------

    def save(self, path: str | Path, label: str = "") -> Checkpoint:
        """Save the machine's whole state to ``path`` (see :mod:`qconf.emu.checkpoint`); a
        machine started from it (:func:`start`'s ``checkpoint``) goes on as this one does.

        :raises CheckpointError: the run has ended, or something in the machine has no
            state a checkpoint can hold.
        """
        from qconf.assembly.identity import identify
        from qconf.emu.checkpoint import save

        return save(self.emulator, path, identify(self.machine), label=label,
                    files=self.files, sets=self.sets, include_dirs=self.include_dirs)  # fmt: skip

    def close(self) -> None:
        """Free the engines and the machine."""
        self.emulator.close()
        self.machine.destroy()


def start(
    files: Sequence[str] = (),
    sets: Sequence[str] = (),
    include_dirs: Sequence[str] = (),
    *,
    name: str = "",
    checkpoint: str | Path | None = None,
) -> Dut:
    """Resolve, build and prepare a machine under test: paused at its first instruction,
    or where ``checkpoint`` was saved (with no files, the machine the checkpoint holds).

    :raises QconfError: the machine cannot be resolved, built or prepared, or the
        checkpoint cannot be read or belongs to another machine (located).
    """
    import qconf

    saved = None
    doc = None
    if checkpoint is not None:
        from qconf.emu.checkpoint import read

        saved = read(checkpoint)
    if files or saved is None:
        doc = qconf.resolve(list(files), list(sets), include_dirs=list(include_dirs))
        machine = qconf.build(doc)
    else:
        machine = saved.machine()
    try:
        if saved is not None:
            from qconf.assembly.identity import identify

            saved.check(identify(machine))
        dut = Dut(machine, doc, name=name, files=files, sets=sets, include_dirs=include_dirs)
    except BaseException:
        machine.destroy()
        raise
    if saved is not None:
        try:
            saved.load(dut.emulator)
        except BaseException:
            dut.close()
            raise
    return dut
