"""The scheduler: CPUs in time slices on one deterministic virtual time.

Every CPU runs in turn for one slice (``quantum`` instructions of the fastest CPU; slower
CPUs run proportionally fewer), then virtual time advances by the slice, due timer events
run and interrupts are delivered. A CPU waiting in ``wfi`` is skipped until an enabled
interrupt is pending; when every CPU waits, time jumps to the next timer deadline. Nothing
depends on the host clock, so two runs give the same output and counts.

The scheduler is the :class:`~qconf.emu.context.Clock` and the
:class:`~qconf.emu.context.RunControl` that device models and cores are given; it knows
cores only through the small interface below (:class:`Runnable`), never their
architecture.
"""

from __future__ import annotations

import select
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from qconf.emu.faults import GuestFault
from qconf.emu.vtime import Event, VirtualTime
from qconf.model.objects import Object

__all__ = (
    "EXIT_FAULT",
    "EXIT_INTERRUPTED",
    "EXIT_LIMIT",
    "Debugger",
    "Outcome",
    "Runnable",
    "Scheduler",
)

EXIT_FAULT, EXIT_LIMIT, EXIT_INTERRUPTED = 3, 124, 130
LONE_CPU_QUANTA = 100
"""How many quanta a slice may last when only one CPU runs (it still ends at the next
timer deadline, or as soon as a device raises an interrupt line)."""
CONTROLLER_PERIOD_S = 0.005
"""With a controller (QMP), a lone CPU's slice that polls devices ends after this much
host time, so commands are answered within a few milliseconds."""


class SliceCounter(Protocol):
    """A CPU's instruction counter (:class:`qconf.emu.counting.Counter`)."""

    @property
    def count(self) -> int: ...

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

    def run(self, budget: int) -> None: ...

    def deliver(self) -> None: ...


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

    def stats_lines(self) -> list[str]:
        out = [f"qconf: {self.reason}", f"  virtual time {self.time_ns / 1e6:.6f} ms, "
               f"wall {self.wall_s:.3f} s"]  # fmt: skip
        for cpu, n in self.instructions.items():
            mips = n / self.wall_s / 1e6 if self.wall_s else 0.0
            out.append(f"  {cpu}: {n} instructions, {mips:.1f} MIPS")
        if self.native:
            out.append(f"  native hooks: {self.native}")
        return out


class Scheduler:
    """One machine's virtual time, its run state, and the loop over its CPUs.

    :param quantum: the slice, in instructions of the fastest CPU.
    :param skip_waits: whether a lone CPU polling the clock may jump ahead.
    """

    def __init__(self, quantum: int, skip_waits: bool = True) -> None:
        self.quantum = quantum
        self.skip_waits = skip_waits
        self.time = VirtualTime()
        self.cores: list[Runnable] = []
        self.inputs: list[InputDevice] = []
        self.stopping = False
        self.exit_code = 0
        self.reason = ""
        self.log: list[str] = []
        self.running: Runnable | None = None  # the CPU executing now, if any
        self.slice_start = 0
        self.slice_end = 0
        self.slice_count = 0  # the running CPU's instruction count when its slice began
        self.ahead: dict[Runnable, int] = {}  # instructions a CPU ran past its last budget
        # (kept between run() calls: a run that pauses and goes on slices as one that does
        # not, and checkpoints save it)
        self.alone = False  # the running CPU is the only one running
        self.skipped = 0  # ns of busy-waiting skipped in this slice
        self.wall_deadline = 0.0  # a lone CPU's slice ends at its next device read after
        # this host time (time.monotonic()), so that a controller (QMP) is served at least
        # every few ms however busy the guest's device polling is; 0: no limit
        self.slice_cut = False  # the running CPU's slice was cut (it must not go on)
        self.debugger: Debugger | None = None  # gdb stubs (qconf.debug), when attached

    # --- the clock (qconf.emu.context.Clock) ------------------------------------------

    def now(self) -> int:
        """Virtual time as a device sees it: the start of the current slice plus what the
        running CPU has executed of it (in fast timing, to the end of the translated block
        it runs; in exact timing, to the instruction), plus any busy-wait it skipped."""
        cpu = self.running
        if cpu is None:
            return self.time.now
        done = cpu.counting.count - self.slice_count
        return self.slice_start + done * 1_000_000_000 // int(cpu.freq) + self.skipped

    def at(self, when: int, action: Callable[[], None]) -> Event:
        return self.time.at(when, action)

    def skip(self, ns: int) -> bool:
        """Let the running CPU's time jump ``ns`` ahead: it is polling the clock in a loop.
        Only a lone running CPU may (others would fall behind it); the slice ends when the
        jump reaches its end, so timer events still come on time. Whether it skipped."""
        if not self.alone or not self.skip_waits:
            return False
        self.skipped += ns
        if self.now() >= self.slice_end:
            self.cut_slice()
        return True

    # --- run control (qconf.emu.context.RunControl) -----------------------------------

    def cut_slice(self) -> None:
        """End the running CPU's slice at its next block: something it did (raising an
        interrupt line, arming a timer in the past) needs the scheduler now."""
        cpu = self.running
        if cpu is not None:
            self.slice_cut = True
            cpu.counting.cut()

    def run_alone(self, cpu: Runnable, budget: int) -> None:
        """Run ``cpu`` for ``budget`` instructions now, out of turn, while the machine
        stands still (a debugger steps it); devices see it as the running CPU."""
        if self.running is cpu:
            cpu.run(budget)
            return
        saved = self.running, self.slice_start, self.slice_count, self.skipped, self.alone
        self.running, self.slice_start = cpu, self.now()
        self.slice_count, self.skipped, self.alone = cpu.instructions, 0, False
        try:
            cpu.run(budget)
        finally:
            self.running, self.slice_start, self.slice_count, self.skipped, self.alone = saved

    def request_stop(self, code: int, reason: str) -> None:
        if not self.stopping:
            self.stopping, self.exit_code, self.reason = True, code, reason

    def note(self, message: str) -> None:
        if message not in self.log:
            self.log.append(message)
            print(f"qconf: note: {message}", file=sys.stderr)

    # --- the loop ---------------------------------------------------------------------

    def run(
        self,
        max_insns: int | None = None,
        timeout: float | None = None,
        status: Callable[[str], None] | None = None,
        tick: Callable[[], None] | None = None,
        wait_fds: Callable[[], Sequence[int]] = tuple,
        until: Callable[[], bool] | None = None,
    ) -> Outcome:
        """Run the CPUs until a stop is requested, the guest faults or a limit is reached.

        :param tick: a controller (QMP) between slices; it may block, and request a stop.
        :param wait_fds: the descriptors whose input could wake a waiting CPU.
        :param until: asked between slices; when it holds, the run returns with ``paused``
            set and the machine as it is: a later ``run`` goes on exactly as if it had not
            returned (the slices are the same; a test driver steps the machine this way).
        """
        clock, cores = self.time, self.cores
        fastest = max(cpu.freq for cpu in cores)
        quantum_ns = max(1, self.quantum * 1_000_000_000 // fastest)
        start = time.monotonic()
        next_status = start + 1.0  # short runs show no status line
        total = 0
        ahead = self.ahead
        fault: GuestFault | None = None

        def interrupted(signum: int, frame: object) -> None:
            # Ctrl-C: a flag, not an exception, which could land inside an engine callback
            # and be lost there; the running slice ends at its next block
            self.request_stop(EXIT_INTERRUPTED, "interrupted (Ctrl-C)")
            self.cut_slice()

        previous = _install_sigint(interrupted)
        paused = False
        try:
            while not self.stopping:
                if until is not None and until():
                    paused = True
                    break
                if timeout is not None and time.monotonic() - start > timeout:
                    self.request_stop(EXIT_LIMIT, f"stopped after {timeout:g} s (--timeout)")
                    break
                if tick is not None:
                    tick()
                    if self.stopping:
                        break
                if self.debugger is not None:
                    self.debugger.between()
                    if self.stopping:
                        break
                for model in self.inputs:  # input that arrived raises receive interrupts
                    model.poll_input()
                for cpu in cores:
                    cpu.deliver()
                runnable = [cpu for cpu in cores if not cpu.waiting]
                if self.debugger is not None:
                    runnable = [cpu for cpu in runnable if self.debugger.runs(cpu)]
                deadline = clock.next_deadline()
                if not runnable:
                    if deadline is None:
                        fds = list(wait_fds())
                        served = tick is not None or self.debugger is not None
                        if not fds and not served:
                            self.request_stop(EXIT_FAULT, "every CPU waits for an interrupt "
                                              "and no timer is armed: the guest hung")  # fmt: skip
                            break
                        # waiting for input (a console) or for a controller (QMP): virtual
                        # time stands still meanwhile, as nothing can happen in it
                        select.select(fds, [], [], 0.01 if served else 0.1)
                        continue
                    clock.advance(deadline)
                    continue
                # a lone CPU runs long slices; every slice ends at the next timer deadline,
                # so timer interrupts arrive exactly on time
                alone = len(runnable) == 1
                span = quantum_ns * (LONE_CPU_QUANTA if alone else 1)
                if deadline is not None:
                    span = max(1, min(span, deadline - clock.now))
                self.slice_start, self.slice_end = clock.now, clock.now + span
                if tick is not None:
                    self.wall_deadline = time.monotonic() + CONTROLLER_PERIOD_S
                self.alone, self.skipped = alone, 0
                elapsed = span
                for cpu in runnable:
                    # in fast timing a CPU may end its slice past the budget (at the end
                    # of a block): it runs that much less in its next one
                    budget = max(1, span * cpu.freq // 1_000_000_000 - ahead.get(cpu, 0))
                    if max_insns is not None:  # stop at the limit (exact timing: to it)
                        budget = min(budget, max(1, max_insns - total))
                    before = self.slice_count = cpu.instructions
                    self.running = last = cpu
                    self.slice_cut = False
                    cpu.run(budget)
                    while self.debugger is not None and self.debugger.held(cpu):
                        # a debugger stopped it mid-slice and the machine stood still: the
                        # slice goes on from there, as if nothing had happened
                        left = before + budget - cpu.instructions
                        if left <= 0 or cpu.waiting or self.stopping or self.slice_cut:
                            break
                        cpu.run(left)
                    ran = cpu.instructions - before
                    total += ran
                    ahead[cpu] = max(0, ran - budget)
                    if alone:  # the time it ran (cut short, or past its budget), and skipped
                        elapsed = max(1, -(-ran * 1_000_000_000 // cpu.freq) + self.skipped)
                    if self.stopping:
                        break
                self.running = None
                if self.stopping:
                    # the last slice counts: time moves by what the stopping CPU ran (its
                    # due events do not run: the machine has stopped)
                    self._end_slice(last)
                    break
                clock.advance(self.slice_start + elapsed)
                if max_insns is not None and total >= max_insns:
                    self.request_stop(EXIT_LIMIT, f"stopped after {total} instructions "
                                      "(--max-insns)")  # fmt: skip
                now = time.monotonic()
                if status is not None and now >= next_status:
                    next_status = now + 0.5
                    status(f"virtual {clock.now / 1e6:.3f} ms, {total / 1e6:.1f} M instructions, "
                           f"{total / max(now - start, 1e-9) / 1e6:.0f} MIPS")  # fmt: skip
        except GuestFault as exc:
            if self.running is not None:
                self._end_slice(self.running)
            if self.debugger is not None:
                self.debugger.fault(exc)
            fault = exc
            self.request_stop(EXIT_FAULT, f"guest fault on {exc.cpu}")
        except KeyboardInterrupt:
            self.request_stop(EXIT_INTERRUPTED, "interrupted (Ctrl-C)")
        finally:
            _install_sigint(previous)
        self.running = None
        from qconf.emu.native import status as native_status

        return Outcome(self.exit_code, self.reason, clock.now,
                       {cpu.obj.path: cpu.instructions for cpu in cores},
                       time.monotonic() - start, fault, native_status(), paused)  # fmt: skip

    def _end_slice(self, cpu: Runnable) -> None:
        """Move time to the end of what ``cpu`` ran of the last slice, without running
        events."""
        ran = cpu.instructions - self.slice_count
        elapsed = -(-ran * 1_000_000_000 // cpu.freq) + self.skipped
        self.time.now = max(self.time.now, self.slice_start + elapsed)


def _install_sigint(handler: Any) -> Any:
    """Set the SIGINT handler (in the main thread only); the one it replaces."""
    import signal
    import threading

    if handler is None or threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, handler)
