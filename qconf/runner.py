"""``qconf run`` behind its command line: from a run's options to the guest's exit status.

There are two ways in and one way out. :mod:`qconf.cli` parses the words with click,
checks how they combine, and calls :func:`command` with :class:`RunOptions`; a run also
remembers how its words were parsed (:func:`remember`, in the start-up cache), so that the
next ``qconf run`` with the same words and the same qconf takes them from there
(:func:`remembered`, asked by :mod:`qconf.__main__`) and calls :func:`command` without
loading click at all: the parse is click's, made once, like the machine's snapshot is the
resolver's. :func:`command` runs (:func:`execute`), reports errors and Ctrl-C as every
command does (:func:`~qconf.errors.exit_status`) and exits.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Any, NoReturn

from qconf import cache
from qconf.cache import MachineCache, cached_machine
from qconf.emu.emulator import EXIT_INTERRUPTED, EXIT_OUTPUT_CLOSED, Emulator
from qconf.emu.script import from_options, unescape
from qconf.emu.trace import parse_categories
from qconf.errors import exit_status
from qconf.frontend import Frontend

__all__ = ("RunOptions", "command", "execute", "remember", "remembered")


@dataclass(frozen=True)
class RunOptions:
    """What ``qconf run`` was asked to do (see ``qconf run --help``)."""

    files: tuple[str, ...]
    sets: tuple[str, ...] = ()
    include_dirs: tuple[str, ...] = ()
    max_insns: int | None = None
    timeout: float | None = None
    """Host seconds."""
    max_time: int | None = None
    """Virtual nanoseconds."""
    stats: bool = False
    script: tuple[tuple[str, str], ...] = ()
    """``--expect``, ``--send`` and ``--within`` as typed, in order: ``("--expect", "=> ")``
    (see :func:`qconf.emu.script.from_options`)."""
    trace: str | None = None
    """``-d`` categories as typed (``int,mmio``)."""
    trace_file: str | None = None
    status: str | None = None
    """Where the live status goes: ``line``, ``title``, ``off``, or None for ``auto``
    (every text here is one of the words typed: see :func:`remembered`)."""
    no_shutdown: bool = False
    qmps: tuple[str, ...] = ()
    qmp_allow_remote: bool = False
    preconfig: bool = False
    start_paused: bool = False
    use_cache: bool = True
    save_at: tuple[tuple[str, str], ...] = ()
    """``--save-at TEXT FILE`` pairs as typed: save a checkpoint when the text shows."""
    restore: str | None = None
    """``--restore FILE``: start from a checkpoint."""
    gdbs: tuple[str, ...] = ()
    """``--gdb`` addresses (``-s`` adds ``tcp:127.0.0.1:1234``), ``CPU=ADDRESS`` or not."""
    gdb_allow_remote: bool = False


def execute(options: RunOptions) -> int:
    """Run the machine the options describe; returns the exit status (the guest's, 3 for a
    fault, 124 for a limit, 130 for Ctrl-C), after printing the summary ``--stats`` asks
    for.

    :raises QconfError: the machine cannot be resolved, built or prepared.
    """
    files, sets, include_dirs = options.files, options.sets, options.include_dirs
    stats = options.stats
    qmps, qmp_allow_remote = options.qmps, options.qmp_allow_remote
    preconfig, start_paused = options.preconfig, options.start_paused
    script = from_options(options.script)
    trace = parse_categories(options.trace) if options.trace else None

    def emulator_of(machine: Any, steps: Any = None) -> Emulator:
        """The run's emulator: the console's script (or ``steps``), the trace (its file
        opened now)."""
        out = None
        if options.trace_file:
            out = open(options.trace_file, "w", encoding="utf-8")  # noqa: SIM115 - the emulator closes it
        return Emulator(machine, None, script or steps, trace=trace, trace_to=out)

    server = None
    front: Frontend | None = None
    saved = None
    cached = "not used (QMP builds the machine)"
    debug: Any = None  # the gdb stubs (qconf.debug), from the command line or gdbserver
    if options.gdbs:
        from qconf.debug.server import GdbServer

        debug = GdbServer(options.gdbs, options.gdb_allow_remote, wait=start_paused and not qmps)
    if qmps:
        from qconf.qmp.control import Control
        from qconf.qmp.server import QmpServer

        control = Control(list(files), [(t, None) for t in sets], list(include_dirs),
                          start_paused=start_paused)  # fmt: skip
        server = QmpServer(control, list(qmps), qmp_allow_remote)

        def prepare(machine: Any) -> Any:  # at x-exit-preconfig: a bad image is its error
            emulator = emulator_of(machine)
            try:
                emulator.prepare()
            except BaseException:
                emulator.close()
                raise
            return emulator

        control.prepare = prepare
        controller = _QmpController(server)
        if debug is not None:
            debug.controller = controller

        def gdbserver(specs: list[str]) -> str:  # HMP gdbserver: (re)start the stubs
            from qconf.debug.server import GdbServer

            nonlocal debug
            new = None
            if specs != ["none"]:  # its addresses are checked before the old one goes
                new = GdbServer(specs, options.gdb_allow_remote, controller=controller)
            if debug is not None:
                debug.close()
            debug = new
            if front is not None:  # served while QMP pauses
                front.debug = new
            if new is None:
                return "Disabled gdbserver"
            if control.emulator() is not None:
                try:
                    new.attach(control.emulator())
                except BaseException:
                    debug = None
                    raise
            return "".join(f"Waiting for gdb connection on device '{s}'\n" for s in specs)

        control.gdbserver = gdbserver
        try:
            if not preconfig:
                control.machine = cached_machine(files, sets, include_dirs, None)[0]
                control.status = "paused" if start_paused else "running"
            while control.status == "prelaunch" and not control.quit_requested:
                server.poll(0.2)
        except BaseException:
            server.close()
            raise
        if control.quit_requested:
            server.poll(0.1)
            server.close()
            if control.prepared is not None:
                control.prepared.close()
            if control.machine is not None:
                control.machine.destroy()
            control.drop_preview()
            return 0
        machine = control.machine
    else:
        if options.restore is not None:
            from qconf.emu.checkpoint import read

            saved = read(options.restore)
        if saved is not None and not files:
            machine, cached = saved.machine(), "not used (the checkpoint holds the machine)"
        else:
            snapshots = MachineCache() if options.use_cache else None
            machine, cached = cached_machine(files, sets, include_dirs, snapshots)
    checkpoints = None
    if server is None and (options.save_at or options.restore):
        try:
            checkpoints = _Checkpoints(machine, options, emulator_of, saved)
        except BaseException:
            machine.destroy()
            raise
    front = Frontend(server, (files, sets, include_dirs), options.status or "auto",
                     options.no_shutdown)  # fmt: skip
    front.debug = debug

    outcome = None
    unmatched: list[str] = []  # what the script still waited for, and the console's tail
    try:
        while True:
            prepared = server.control.prepared if server is not None else None
            if server is not None:
                server.control.prepared = None  # this run closes it
            if checkpoints is not None:
                prepared = checkpoints.emulator
            emulator = prepared or emulator_of(machine)
            try:
                if prepared is None:
                    emulator.prepare()
                if debug is not None:  # the stubs serve the CPUs before the first instruction
                    debug.attach(emulator)
                front.attach(emulator)
                controlled = server is not None or front.mux is not None
                outcome = _run(emulator, options, front.status(),
                               front.tick if controlled else None, checkpoints)  # fmt: skip
                front.clear_status()
                scripted = emulator.consoles.scripted
                unmatched = scripted.report() if scripted is not None else []
                again = front.ended(outcome)  # --no-shutdown stays here until quit
            finally:
                emulator.close()
            if not again:
                break
    finally:
        if debug is not None:
            debug.finish(outcome.exit_code if outcome is not None else 1)
            debug.close()
        machine.destroy()
        front.close()
    assert outcome is not None
    lines: list[str] = []
    if outcome.fault is not None:
        lines += outcome.fault.lines()
    elif stats or outcome.exit_code not in (0, EXIT_OUTPUT_CLOSED):  # a closed pipe: quiet
        lines.append(f"qconf: {outcome.reason}")
    if unmatched and outcome.exit_code != 0:
        lines += unmatched
    if stats or outcome.exit_code == EXIT_INTERRUPTED:
        lines += outcome.stats_lines()[1:]
    if stats:
        from qconf.engine import installed

        lines.append(f"  engine: {installed()}")
        lines.append(f"  machine cache: {cached}")
    if checkpoints is not None:
        for text, path in checkpoints.pending:
            lines.append(f"qconf: --save-at {text!r} {path}: the text never showed, nothing saved")
    front.say(lines)
    if front.stayed:  # --no-shutdown: the guest's end was inspected, then quit (as QEMU)
        return 0
    return int(outcome.exit_code)


def _run(emulator: Emulator, options: RunOptions, status: Any, tick: Any,
         checkpoints: _Checkpoints | None) -> Any:  # fmt: skip
    """Run the prepared ``emulator`` to its end; with ``--save-at``, pause between the
    slices where a text has shown, save, and go on (:meth:`Emulator.run_pausing`)."""
    if checkpoints is None:
        return emulator.run(options.max_insns, options.timeout, status, tick,
                            max_time=options.max_time)  # fmt: skip
    return emulator.run_pausing(options.max_insns, options.timeout, status, tick,
                                checkpoints.due, checkpoints.save, options.max_time)  # fmt: skip


class _Checkpoints:
    """A run that starts from a checkpoint (``--restore``) or saves some (``--save-at``):
    its prepared emulator, and a checkpoint saved between the slices where each text has
    shown on a UART (the run then goes on as if it had not stopped)."""

    def __init__(
        self, machine: Any, options: RunOptions, emulator_of: Callable[..., Emulator], saved: Any
    ) -> None:
        from qconf.assembly.identity import identify

        self.options = options
        self.identity = identify(machine)
        if saved is not None:
            saved.check(self.identity)
        # without a script of its own, the saving run's script goes on
        self.emulator = emulator_of(machine, saved.script() if saved is not None else None)
        try:
            self.emulator.prepare()
            if saved is not None:
                saved.load(self.emulator)
        except BaseException:
            self.emulator.close()
            raise
        self.pending = list(options.save_at)
        self.seen = bytearray()
        self.shown = False
        self.emulator.listeners.append(self._output)

    def _output(self, obj: Any, data: bytes) -> None:
        if not self.pending or self.shown:
            return
        self.seen += data
        text = unescape(self.pending[0][0])
        if text in self.seen:
            self.shown = True
            del self.seen[: self.seen.index(text) + len(text)]  # the next text comes after
        elif len(self.seen) > 65536:
            del self.seen[: -len(text)]

    def due(self) -> bool:
        return self.shown

    def save(self, emulator: Emulator) -> None:
        from qconf.emu.checkpoint import save

        text, path = self.pending.pop(0)
        self.shown = False
        options = self.options
        save(emulator, path, self.identity, label=text, files=options.files, sets=options.sets,
             include_dirs=options.include_dirs)  # fmt: skip
        emulator.scheduler.say(f"qconf: saved a checkpoint at {text!r} to {path} (virtual "
                               f"time {emulator.scheduler.time.now / 1e6:.6f} ms)")  # fmt: skip
        if self.pending:  # the next text may have shown already
            self._output(emulator.machine.root, b"")


class _QmpController:
    """QMP as the gdb stubs see it (:class:`qconf.debug.server.Controller`): served while
    a debugger has the machine stopped, resumed by a debugger's ``continue``."""

    def __init__(self, server: Any) -> None:
        self.server = server

    def serve(self) -> None:
        server = self.server
        control = server.control
        server.poll(0)
        for chunk in control.take_console():
            server.broadcast("QCONF_CONSOLE", chunk, only=control.console_clients)
        emulator = control.emulator()
        if emulator is not None and control.quit_requested:
            emulator.request_stop(0, "quit (QMP)")
        elif emulator is not None and control.reset_requested:
            emulator.request_stop(0, "reset (QMP)")

    def resume(self) -> None:
        from qconf.qmp.state import Runstate

        control = self.server.control
        if control.status is Runstate.PAUSED:
            control.transition(Runstate.RUNNING)
            self.server.broadcast("RESUME")

    def monitor(self, line: str, cpu_index: int) -> str:
        from qconf.qmp.commands import human_monitor_command

        args = {"command-line": line, "cpu-index": cpu_index}
        return str(human_monitor_command(self.server.control, args, "gdb"))


# --- remembered parses ------------------------------------------------------------------


WIDENING = {"qmp_allow_remote": "--qmp-allow-remote", "gdb_allow_remote": "--gdb-allow-remote"}
"""Options that let others in, which a remembered parse may turn on only when the words
hold their flag."""


def remember(argv: list[str], options: RunOptions) -> None:
    """Keep how ``qconf run`` parsed ``argv`` (its words, ``run`` first) for the next run
    with the same words; best effort, as the cache it sits beside."""
    cache.remember(argv, asdict(options))


def remembered(argv: list[str]) -> RunOptions | None:
    """The options an earlier ``qconf run`` with exactly these words (and this qconf)
    parsed them into, if it remembered them; each text in them is one of the words, and
    each option of :data:`WIDENING` they turn on has its flag among them."""
    data = cache.remembered(argv)
    if data is None or set(data) != {f.name for f in fields(RunOptions)}:
        return None
    if any(data[name] and flag not in argv for name, flag in WIDENING.items()):
        return None
    try:
        for name in ("files", "sets", "include_dirs", "qmps", "gdbs"):
            data[name] = tuple(data[name])
        data["script"] = tuple((e, t) for e, t in data["script"])
        data["save_at"] = tuple((t, f) for t, f in data["save_at"])
    except (TypeError, ValueError):
        return None
    return RunOptions(**data)


def command(options: RunOptions) -> NoReturn:
    """Run as ``qconf run`` does, however its words were parsed, and exit: the guest's
    status, or an error's (reported as every command reports it), or 130 for Ctrl-C."""
    sys.exit(exit_status(lambda: execute(options)))
