"""What the scheduler runs and what a run gives back: the small interfaces it knows CPUs,
debuggers and input devices by (:class:`Runnable`, :class:`Debugger`,
:class:`InputDevice`), and the :class:`Outcome` of a run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from qconf.emu.faults import GuestFault
from qconf.model.objects import Object

__all__ = ("Debugger", "InputDevice", "Outcome", "Runnable", "SliceCounter")


class SliceCounter(Protocol):
    """A CPU's instruction counter (:class:`qconf.emu.counting.Counter`)."""

    @property
    def count(self) -> int: ...

    @property
    def block_pc(self) -> int: ...

    def cut(self) -> None: ...


class Runnable(Protocol):
    """A CPU as the scheduler sees it (:class:`qconf.emu.core.Core`)."""

    obj: Object
    freq: int
    waiting: bool

    @property
    def counting(self) -> SliceCounter: ...

    @property
    def instructions(self) -> int: ...

    @property
    def time_read_at(self) -> int: ...

    def run(self, budget: int) -> None: ...

    def deliver(self) -> None: ...

    def idle_state(self) -> Any: ...


class Debugger(Protocol):
    """Debuggers attached to the machine (:class:`qconf.debug.server.GdbServer`). While one
    has the machine stopped, no CPU runs and virtual time stands still: it serves its
    clients inside these calls, and returns when every debugger lets the machine go."""

    def between(self) -> None:
        """Between slices: serve the debuggers (a new one, Ctrl-C in one, stop the
        machine here)."""
        ...

    def held(self, cpu: Runnable) -> bool:
        """After ``cpu.run``: if a debugger's hook stopped it (a breakpoint, a
        watchpoint), report it and hold the machine until it may go on; True then (its
        slice goes on from there), False if no debugger stopped it."""
        ...

    def runs(self, cpu: Runnable) -> bool:
        """Whether ``cpu`` may run (a debugger resumed only some of its CPUs)."""
        ...

    def fault(self, fault: GuestFault) -> None:
        """The run ends with a guest fault: debuggers see the faulting CPU first."""
        ...


class InputDevice(Protocol):
    """A device whose backend's input may raise an interrupt (a UART)."""

    def poll_input(self) -> None: ...

    def input_wakes(self) -> bool: ...


@dataclass
class Outcome:
    """How a run ended."""

    exit_code: int
    reason: str
    time_ns: int
    instructions: dict[str, int]
    wall_s: float
    fault: GuestFault | None = None
    native: str = ""  # whether native hooks counted (qconf.emu.native.status)
    paused: bool = False  # ``until`` held between two slices: the run may go on
    cause: str = "guest"
    """Who ended the run: ``guest`` (it powered off, exited or asked for a reset),
    ``fault`` (a guest fault), ``hung``, ``limit`` (a limit or a failed script step),
    ``interrupt`` (Ctrl-C), ``host`` (quit from the console or QMP), ``error`` (a device
    model failed)."""

    def stats_lines(self) -> list[str]:
        out = [f"qconf: {self.reason}", f"  virtual time {self.time_ns / 1e6:.6f} ms, "
               f"wall {self.wall_s:.3f} s"]  # fmt: skip
        for cpu, n in self.instructions.items():
            mips = n / self.wall_s / 1e6 if self.wall_s else 0.0
            out.append(f"  {cpu}: {n} instructions, {mips:.1f} MIPS")
        if self.native:
            out.append(f"  native hooks: {self.native}")
        return out
