"""The scheduler: CPUs in time slices on one deterministic virtual time.

Every CPU runs in turn for one slice (``quantum`` instructions of the fastest CPU; slower
CPUs run proportionally fewer), then virtual time advances by the slice, due timer events
run and interrupts are delivered. A CPU waiting in ``wfi`` is skipped until an enabled
interrupt is pending; when every CPU waits, time jumps to the next timer deadline. Nothing
depends on the host clock, so two runs give the same output and counts.

The scheduler is the :class:`~qconf.emu.context.Clock` and the
:class:`~qconf.emu.context.RunControl` that device models and cores are given; it knows
cores only through the small interfaces of :mod:`qconf.emu.runnable`, never their
architecture.
"""

from __future__ import annotations

import select
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from qconf.emu.faults import GuestFault
from qconf.emu.runnable import Debugger, InputDevice, Outcome, Runnable
from qconf.emu.vtime import Event, VirtualTime

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
IDLE_STREAK = 8
"""Empty polls in a row (see :meth:`Scheduler.idle_poll`) before the CPU's state is
compared to decide whether it idles."""
IDLE_WINDOW = 4096
"""Most instructions between two empty polls of one idle loop."""
IDLE_WAIT_S = 0.1
"""How long (host seconds) the scheduler sleeps at most, when every CPU waits, before it
looks again (host-time limits, a parked CPU)."""


@dataclass
class _IdleStreak:
    """Empty polls of one CPU in a row (see :meth:`Scheduler.idle_poll`)."""

    cpu: Runnable
    at: int  # the CPU's instruction count at the last poll
    accesses: int  # the device accesses counted then
    polls: int = 1
    states: dict[int, Any] = field(default_factory=dict)  # by block pc: idle_state then
    idle: bool = False  # a state came back unchanged at its pc: the CPU idles
    skips: int = 0


class Scheduler:
    """One machine's virtual time, its run state, and the loop over its CPUs.

    :param quantum: the slice, in instructions of the fastest CPU.
    :param skip_waits: whether a lone CPU polling the clock may jump ahead.
    """

    def __init__(self, quantum: int, skip_waits: bool = True) -> None:
        self.quantum = quantum
        self.skip_waits = skip_waits
        self.time = VirtualTime()
        self.limits = VirtualTime()
        """Virtual deadlines that end the run or a script step (``--max-time``,
        ``--within``): a slice ends at one, but unlike the machine's timer events, time
        never jumps to one while every CPU waits. Their actions run between slices, with
        :attr:`time` at or past their deadline."""
        self.services: list[Callable[[], None]] = []
        """Called between slices: checks of host-time limits (a script step's), and the
        like; each may request a stop."""
        self.cores: list[Runnable] = []
        self.inputs: list[InputDevice] = []
        self.stopping = False
        self.exit_code = 0
        self.reason = ""
        self.cause = "guest"
        self.log: list[str] = []
        self._noted: set[str] = set()
        self.say: Callable[[str], None] = _say
        """Where notes go (a line each): standard error, unless the front end holds them
        (the console shares the terminal)."""
        self.running: Runnable | None = None  # the CPU executing now, if any
        self.slice_start = 0
        self.slice_end = 0
        self.slice_count = 0  # the running CPU's instruction count when its slice began
        self.ahead: dict[Runnable, int] = {}  # instructions a CPU ran past its last budget
        # (kept between run() calls: a run that pauses and goes on slices as one that does
        # not, and checkpoints save it)
        self.alone = False  # the running CPU is the only one running
        self.skipped = 0  # ns of busy-waiting skipped in this slice
        self.accesses = 0  # device register accesses so far (counted by the platform)
        self.parked: list[Runnable] = []  # idle CPUs waiting for input (see idle_poll)
        self.input_fds: Callable[[], Sequence[int]] = tuple
        """Every descriptor input may come from (consoles), whatever their interrupts."""
        self.keep_alive: Callable[[], bool] | None = None
        """Whether, when every CPU waits with nothing to wake it, the run waits for a
        controller (a QMP client, the terminal's monitor) rather than end as hung; None:
        whenever the run has a ``tick``."""
        self.controller_fds: Callable[[], Sequence[int]] = tuple
        """Descriptors a controller is served on (QMP sockets, the terminal): while
        every CPU waits, input on them wakes the loop, which then calls ``tick``."""
        self._idle: _IdleStreak | None = None
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

    def idle_poll(self) -> None:
        """The running CPU read a device register that shows nothing to do: a UART's
        receive status with no input waiting, an address no device answers.

        A lone running CPU that does only this (it polls every few thousand instructions
        at most, with no other device access and no time read in between) and comes back
        to the same block in the same state (:meth:`~qconf.emu.core.Core.idle_state`:
        registers and stack) is idle: its loop cannot progress until something comes from
        outside. If input can come (a console on a terminal, a pipe, a socket), the CPU is
        parked: it waits, as in ``wfi``, until input arrives, a timer is due (time jumps
        there) or a controller acts, then polls again; the host sleeps meanwhile. If no
        input can come, its time jumps ahead at each poll instead, 1 us at first and
        doubling up to 1 ms, as for a busy-wait on the clock. Either way the guest runs
        the same instructions for the same input."""
        cpu = self.running
        if cpu is None or not self.alone or not self.skip_waits:
            return
        done, streak = cpu.instructions, self._idle
        if (
            streak is None
            or streak.cpu is not cpu
            or done - streak.at > IDLE_WINDOW
            or self.accesses != streak.accesses + 1
            or cpu.time_read_at > streak.at
        ):
            if streak is None or streak.polls > 1:
                self._idle = _IdleStreak(cpu, done, self.accesses)
            else:  # a poll between other accesses (a UART's status before each byte out)
                streak.cpu, streak.at, streak.accesses = cpu, done, self.accesses
            return
        streak.at, streak.accesses = done, self.accesses
        streak.polls += 1
        if not streak.idle:
            if streak.polls < IDLE_STREAK:
                return
            pc, state = cpu.counting.block_pc, cpu.idle_state()
            if streak.states.get(pc) != state:  # compared at the next poll from there
                streak.states[pc] = state
                return
            streak.idle = True
        if self.input_fds():
            self._idle = None
            cpu.waiting = True
            self.parked.append(cpu)
            self.cut_slice()
            return
        step = min(1000 << min(streak.skips, 10), 1_000_000)
        streak.skips += 1
        self.skip(step)

    def _unpark(self) -> None:
        for cpu in self.parked:
            cpu.waiting = False
        self.parked.clear()

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

    def request_stop(self, code: int, reason: str, cause: str = "guest") -> None:
        """End the run with status ``code`` (the first request wins); ``cause`` says who
        ended it (see :attr:`Outcome.cause`): models and cores leave it, the guest's."""
        if not self.stopping:
            self.stopping, self.exit_code, self.reason = True, code, reason
            self.cause = cause

    def note(self, message: str) -> None:
        if message not in self._noted:
            self._noted.add(message)
            self.log.append(message)
            self.say(f"qconf: note: {message}")

    # --- the loop ---------------------------------------------------------------------

    def run(
        self,
        max_insns: int | None = None,
        timeout: float | None = None,
        status: Callable[[str], None] | None = None,
        tick: Callable[[], None] | None = None,
        wait_fds: Callable[[], Sequence[int]] = tuple,
        until: Callable[[], bool] | None = None,
        max_time: int | None = None,
    ) -> Outcome:
        """Run the CPUs until a stop is requested, the guest faults or a limit is reached.

        :param timeout: host seconds after which the run stops (status 124).
        :param tick: a controller (QMP) between slices; it may block, and request a stop.
        :param wait_fds: the descriptors whose input could wake a waiting CPU.
        :param until: asked between slices; when it holds, the run returns with ``paused``
            set and the machine as it is: a later ``run`` goes on exactly as if it had not
            returned (the slices are the same; a test driver steps the machine this way).
        :param max_time: virtual time (ns) at which the run stops (status 124): the last
            slice ends there (fast timing: at the end of its block). It is not a timer
            event: time never jumps to it while every CPU waits for input.
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
            self.request_stop(EXIT_INTERRUPTED, "interrupted (Ctrl-C)", "interrupt")
            self.cut_slice()

        ends: Event | None = None
        if max_time is not None:
            ends = self.limits.at(max_time, lambda: self.request_stop(
                EXIT_LIMIT, f"stopped at {_duration(max_time)} of virtual time (--max-time)",
                "limit"))  # fmt: skip
        previous = _install_sigint(interrupted)
        paused = False
        try:
            while not self.stopping:
                if until is not None and until():
                    paused = True
                    break
                if timeout is not None and time.monotonic() - start > timeout:
                    self.request_stop(EXIT_LIMIT, f"stopped after {timeout:g} s of host time "
                                      "(--timeout)", "limit")  # fmt: skip
                    break
                self.limits.advance(clock.now)  # --max-time, --within: they stop the run
                for service in self.services:
                    service()
                if self.stopping:
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
                        alive = (
                            tick is not None if self.keep_alive is None else self.keep_alive()
                        ) or (self.debugger is not None)
                        if self.parked or alive:  # idle CPUs poll again when input comes
                            fds += self.input_fds()
                        if alive:
                            fds += self.controller_fds()
                        if not fds and not alive:
                            self.request_stop(EXIT_FAULT, "every CPU waits for an interrupt "
                                              "and no timer is armed: the guest hung",
                                              "hung")  # fmt: skip
                            break
                        # waiting for input (a console) or for a controller (QMP): virtual
                        # time stands still meanwhile, as nothing can happen in it
                        served = tick is not None or self.debugger is not None
                        wait = 0.01 if served and not fds else IDLE_WAIT_S
                        select.select(fds, [], [], wait)
                        self._unpark()
                        continue
                    # a timer wakes a CPU then; a limit before it ends the run there
                    limit = self.limits.next_deadline()
                    clock.advance(deadline if limit is None else min(deadline, limit))
                    self._unpark()
                    continue
                # a lone CPU runs long slices; every slice ends at the next timer deadline,
                # so timer interrupts arrive exactly on time
                alone = len(runnable) == 1
                span = quantum_ns * (LONE_CPU_QUANTA if alone else 1)
                if deadline is not None:
                    span = max(1, min(span, deadline - clock.now))
                limit = self.limits.next_deadline()
                if limit is not None:
                    span = max(1, min(span, limit - clock.now))
                self.slice_start, self.slice_end = clock.now, clock.now + span
                if tick is not None:
                    self.wall_deadline = time.monotonic() + CONTROLLER_PERIOD_S
                self.alone, self.skipped, self._idle = alone, 0, None
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
                                      "(--max-insns)", "limit")  # fmt: skip
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
            self.request_stop(EXIT_FAULT, f"guest fault on {exc.cpu}", "fault")
        except KeyboardInterrupt:
            self.request_stop(EXIT_INTERRUPTED, "interrupted (Ctrl-C)", "interrupt")
        finally:
            _install_sigint(previous)
            if ends is not None:
                ends.cancelled = True
        self.running = None
        from qconf.emu.native import status as native_status

        return Outcome(self.exit_code, self.reason, clock.now,
                       {cpu.obj.path: cpu.instructions for cpu in cores},
                       time.monotonic() - start, fault, native_status(), paused,
                       self.cause)  # fmt: skip

    def _end_slice(self, cpu: Runnable) -> None:
        """Move time to the end of what ``cpu`` ran of the last slice, without running
        events."""
        ran = cpu.instructions - self.slice_count
        elapsed = -(-ran * 1_000_000_000 // cpu.freq) + self.skipped
        self.time.now = max(self.time.now, self.slice_start + elapsed)


def _say(line: str) -> None:
    print(line, file=sys.stderr)


def _duration(ns: int) -> str:
    """``2s``, ``10ms``, ``1500us``: the largest unit that divides exactly."""
    from qconf.config.units import format_duration

    return format_duration(ns)


def _install_sigint(handler: Any) -> Any:
    """Set the SIGINT handler (in the main thread only); the one it replaces."""
    import signal
    import threading

    if handler is None or threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, handler)
