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
from dataclasses import asdict, dataclass, fields
from typing import Any, NoReturn

from qconf import cache
from qconf.cache import MachineCache, cached_machine
from qconf.emu.emulator import EXIT_INTERRUPTED, Emulator
from qconf.emu.script import from_options
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


def execute(options: RunOptions) -> int:
    """Run the machine the options describe; returns the exit status (the guest's, 3 for a
    fault, 124 for a limit, 130 for Ctrl-C), after printing the summary ``--stats`` asks
    for.

    :raises QconfError: the machine cannot be resolved, built or prepared.
    """
    files, sets, include_dirs = options.files, options.sets, options.include_dirs
    max_insns, timeout, stats = options.max_insns, options.timeout, options.stats
    qmps, qmp_allow_remote = options.qmps, options.qmp_allow_remote
    preconfig, start_paused = options.preconfig, options.start_paused
    script = from_options(options.script)
    trace = parse_categories(options.trace) if options.trace else None

    def emulator_of(machine: Any) -> Emulator:
        """The run's emulator: the console's script, the trace (its file opened now)."""
        out = None
        if options.trace_file:
            out = open(options.trace_file, "w", encoding="utf-8")  # noqa: SIM115 - the emulator closes it
        return Emulator(machine, None, script, trace=trace, trace_to=out)

    server = None
    cached = "not used (QMP builds the machine)"
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
        snapshots = MachineCache() if options.use_cache else None
        machine, cached = cached_machine(files, sets, include_dirs, snapshots)
    front = Frontend(server, (files, sets, include_dirs), options.status or "auto",
                     options.no_shutdown)  # fmt: skip

    outcome = None
    unmatched: list[str] = []  # what the script still waited for, and the console's tail
    try:
        while True:
            prepared = server.control.prepared if server is not None else None
            if server is not None:
                server.control.prepared = None  # this run closes it
            emulator = prepared or emulator_of(machine)
            try:
                if prepared is None:
                    emulator.prepare()
                front.attach(emulator)
                controlled = server is not None or front.mux is not None
                outcome = emulator.run(max_insns, timeout, front.status(),
                                       front.tick if controlled else None,
                                       options.max_time)  # fmt: skip
                front.clear_status()
                scripted = emulator.consoles.scripted
                unmatched = scripted.report() if scripted is not None else []
                again = front.ended(outcome)  # --no-shutdown stays here until quit
            finally:
                emulator.close()
            if not again:
                break
    finally:
        machine.destroy()
        front.close()
    assert outcome is not None
    lines: list[str] = []
    if outcome.fault is not None:
        lines += outcome.fault.lines()
    elif stats or outcome.exit_code != 0:
        lines.append(f"qconf: {outcome.reason}")
    if unmatched and outcome.exit_code != 0:
        lines += unmatched
    if stats or outcome.exit_code == EXIT_INTERRUPTED:
        lines += outcome.stats_lines()[1:]
    if stats:
        lines.append(f"  machine cache: {cached}")
    front.say(lines)
    if front.stayed:  # --no-shutdown: the guest's end was inspected, then quit (as QEMU)
        return 0
    return outcome.exit_code


# --- remembered parses ------------------------------------------------------------------


WIDENING = {"qmp_allow_remote": "--qmp-allow-remote"}
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
        for name in ("files", "sets", "include_dirs", "qmps"):
            data[name] = tuple(data[name])
        data["script"] = tuple((e, t) for e, t in data["script"])
    except (TypeError, ValueError):
        return None
    return RunOptions(**data)


def command(options: RunOptions) -> NoReturn:
    """Run as ``qconf run`` does, however its words were parsed, and exit: the guest's
    status, or an error's (reported as every command reports it), or 130 for Ctrl-C."""
    sys.exit(exit_status(lambda: execute(options)))
