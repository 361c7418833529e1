"""Run a built machine: the platform (memory, devices, cores, images) under the scheduler.

:class:`Emulator` is one run of one machine: :meth:`Emulator.prepare` sets the platform up
(:mod:`qconf.emu.platform`), :meth:`Emulator.run` runs the scheduler
(:mod:`qconf.emu.scheduler`) until the guest powers off, faults or a limit is reached, and
:meth:`Emulator.close` frees the engines. :func:`run` does all three.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import IO, Any

from qconf.assembly.machine import Machine
from qconf.emu.chardev import Chardev
from qconf.emu.consoles import Consoles
from qconf.emu.core import Core
from qconf.emu.irqs import Wires
from qconf.emu.platform import Platform
from qconf.emu.scheduler import EXIT_FAULT, EXIT_INTERRUPTED, EXIT_LIMIT, Outcome, Scheduler
from qconf.emu.trace import Tracer
from qconf.model.objects import Object

__all__ = ("EXIT_FAULT", "EXIT_INTERRUPTED", "EXIT_LIMIT", "EXIT_OUTPUT_CLOSED", "Emulator",
           "Outcome", "run")  # fmt: skip

EXIT_OUTPUT_CLOSED = 128 + 13
"""The status of a run whose console output was closed: a program killed by SIGPIPE's."""


class Emulator:
    """One run of one machine.

    :param chardevs: backends in place of those the machine names, by the path of their
        backend object (``/machine/backends/chardev/soc-uart0``) or device.
    :param script: steps that drive the console (the first UART): see
        :mod:`qconf.emu.script` (``Expect``, ``Send``, or ``(pattern, text)`` pairs).
    :param trace: the trace categories to write (:mod:`qconf.emu.trace`), if any.
    :param trace_to: where the trace goes (closed with the emulator); standard error if
        None.
    """

    def __init__(
        self,
        machine: Machine,
        chardevs: dict[str, Chardev] | None = None,
        script: Sequence[Any] | None = None,
        *,
        trace: set[str] | None = None,
        trace_to: IO[str] | None = None,
    ) -> None:
        self.machine = machine
        root = machine.root
        self.scheduler = Scheduler(root.get("quantum"), root.get("skip_busy_waits"))
        self.consoles = Consoles(machine, chardevs, script, on_quit=self._quit,
                                 on_closed=self._output_closed,
                                 scheduler=self.scheduler)  # fmt: skip
        self.wires = Wires(machine.wires, self.scheduler.cut_slice)
        self.tracer = Tracer(trace, trace_to, self.scheduler) if trace else None
        self.platform = Platform(machine, self.scheduler, self.wires, self.consoles,
                                 self.tracer)  # fmt: skip
        self.scheduler.input_fds = self.consoles.input_fds

    def _quit(self) -> None:
        self.scheduler.request_stop(0, "quit from the console (Ctrl-A X)", "host")

    def _output_closed(self) -> None:
        # as a program ended by SIGPIPE: `qconf run | head -1` ends quietly
        self.scheduler.request_stop(EXIT_OUTPUT_CLOSED, "standard output was closed", "host")

    # --- what a controller (QMP) uses ----------------------------------------------------

    @property
    def cpus(self) -> list[Core]:
        """The running cores, in the machine's order."""
        return self.platform.cores

    @property
    def listeners(self) -> list[Callable[[Object, bytes], None]]:
        """Called with each device's output."""
        return self.consoles.listeners

    @property
    def console_input(self) -> dict[Object, deque[int]]:
        """Input typed into devices (``qconf-console-write``), read before their backends'."""
        return self.consoles.typed

    def request_stop(self, code: int, reason: str, cause: str = "host") -> None:
        """End the run with exit status ``code``; ``cause`` as the outcome says it
        (:attr:`~qconf.emu.scheduler.Outcome.cause`: by default, the host's)."""
        self.scheduler.request_stop(code, reason, cause)

    def plug_memory(self, obj: Object) -> None:
        self.platform.plug_memory(obj)

    def unplug_memory(self, obj: Object) -> None:
        self.platform.unplug_memory(obj)

    # --- the run --------------------------------------------------------------------

    def prepare(self) -> None:
        """Set the machine up: memory, devices, cores, images.

        :raises RunError: the machine cannot be mapped or its images loaded.
        """
        self.platform.prepare()

    def run(
        self,
        max_insns: int | None = None,
        timeout: float | None = None,
        status: Callable[[str], None] | None = None,
        tick: Callable[[Emulator], None] | None = None,
        until: Callable[[], bool] | None = None,
        max_time: int | None = None,
    ) -> Outcome:
        """Run until the guest powers off, faults, or a limit is reached (see :func:`run`);
        or, when ``until`` holds between two slices, return a paused outcome: the next call
        goes on from there as if the run had not stopped."""
        between = None if tick is None else lambda: tick(self)
        outcome = self.scheduler.run(max_insns, timeout, status, between,
                                     self.platform.wait_fds, until=until,
                                     max_time=max_time)  # fmt: skip
        script = self.consoles.scripted
        waiting = script.waiting if script is not None else None
        if (waiting is not None and not outcome.paused and outcome.cause == "guest"
                and outcome.exit_code == 0):  # fmt: skip
            # the guest ended well before the script did: the script failed
            outcome.exit_code = 1
            outcome.reason += f", before {waiting.describe()} matched"
        return outcome

    def run_pausing(
        self,
        max_insns: int | None,
        timeout: float | None,
        status: Callable[[str], None] | None,
        tick: Callable[[Emulator], None] | None,
        until: Callable[[], bool] | None,
        on_pause: Callable[[Emulator], None] | None,
        max_time: int | None = None,
    ) -> Outcome:
        """:meth:`run` to the end, calling ``on_pause`` with the emulator each time
        ``until`` held between two slices (a checkpoint is saved) and going on as if it had
        not paused: the limits count the whole run."""
        start = sum(cpu.instructions for cpu in self.cpus)
        wall = 0.0
        while True:
            done = sum(cpu.instructions for cpu in self.cpus) - start
            left = None if max_insns is None else max(1, max_insns - done)
            remaining = None if timeout is None else max(1e-9, timeout - wall)
            outcome = self.run(left, remaining, status, tick, until, max_time)
            wall += outcome.wall_s
            if not outcome.paused:
                outcome.wall_s = wall
                return outcome
            if on_pause is not None:
                on_pause(self)

    def close(self) -> None:
        """Free the engines, the memory and the backends; end the trace."""
        self.platform.close()
        if self.tracer is not None:
            self.tracer.close()


def run(
    machine: Machine,
    *,
    max_insns: int | None = None,
    timeout: float | None = None,
    chardevs: dict[str, Chardev] | None = None,
    status: Callable[[str], None] | None = None,
    script: Sequence[Any] | None = None,
    tick: Callable[[Emulator], None] | None = None,
    prepared: Emulator | None = None,
    until: Callable[[], bool] | None = None,
    on_pause: Callable[[Emulator], None] | None = None,
    max_time: int | None = None,
) -> Outcome:
    """Run ``machine`` until the guest powers off, faults, or a limit is reached.

    ``chardevs`` replaces backends by path (``{"/machine/backends/chardev/soc-uart0":
    MemoryChardev()}``), for tests and scripts. ``status`` is called with a progress line
    about twice a second once a run has lasted a second. ``script`` drives the console (the
    first UART, whatever its backend): ``[(b"Hit any key", b"\\n"), (b"=> ",
    b"version\\n")]`` types each text once the output shows its pattern, in order; steps of
    :mod:`qconf.emu.script` add regular expressions and time limits (``[Expect(b"=> ",
    within=2_000_000_000), Send(b"version\\n")]``). ``timeout`` (host seconds) and
    ``max_time`` (virtual nanoseconds) stop the run with status 124.
    ``tick`` is called between slices with the emulator (a controller: QMP).
    ``prepared`` is an ``Emulator`` of ``machine`` already prepared (images loaded), which
    this run uses and closes. When ``until`` holds between two slices, ``on_pause`` is
    called with the emulator (a checkpoint is saved), and the run goes on as if it had not
    paused; the limits count the whole run.

    :raises RunError: the machine cannot be mapped or its images loaded.
    """
    emulator = prepared
    try:
        if emulator is None:
            emulator = Emulator(machine, chardevs, script)
            emulator.prepare()
        return emulator.run_pausing(max_insns, timeout, status, tick, until, on_pause, max_time)
    finally:
        if emulator is not None:
            emulator.close()
