"""``human-monitor-command``: a small human monitor in QEMU's words, for clients that pass
text commands through QMP (``qmp-shell -H``, management tools' monitor passthrough).

Commands: ``info status|version|cpus|registers|mtree|qtree|irqs|clocks``, ``x`` and
``xp /FMT ADDR`` (memory as a CPU sees it; ``/Ni``: N instructions), ``savevm``, ``loadvm``,
``delvm`` (checkpoints, :mod:`qconf.qmp.snapshots`), ``stop``, ``cont`` (``c``),
``system_reset``, ``gdbserver``, ``quit`` (``q``), ``help``. Output lines end with CRLF,
as QEMU's do.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from qconf.qmp.guest import Unmapped, read_memory
from qconf.qmp.protocol import QmpError
from qconf.qmp.qom import machine_for_qom

__all__ = ("human_monitor_command",)

QmpRunner = Callable[[str], Any]
"""Runs a QMP command without arguments as the client that sent the line (its run state
checked as for the command itself)."""

HELP = [
    ("info status", "the machine's run state"),
    ("info version", "the QEMU dialect and qconf's version"),
    ("info cpus", "every CPU: index, path, architecture, pc (* the selected one)"),
    ("info registers [-a]", "the selected CPU's registers (-a: every CPU's)"),
    ("info mtree", "address spaces and their regions"),
    ("info qtree", "the object tree with key properties"),
    ("info irqs", "interrupt wires"),
    ("info clocks", "the clock tree"),
    ("x /fmt addr", "memory as the selected CPU sees it (fmt: count, x|d|u|i, b|h|w|g)"),
    ("xp /fmt addr", "the same (qconf's CPUs see physical addresses here)"),
    ("savevm tag", "save the machine's state as snapshot tag (the file tag.qcp)"),
    ("loadvm tag", "load snapshot tag into the machine"),
    ("delvm tag", "delete snapshot tag"),
    ("stop", "pause"),
    ("cont|c", "resume"),
    ("system_reset", "power on again"),
    ("gdbserver [dev ...]", "serve gdb on dev (default tcp::1234; CPU=dev; none: stop)"),
    ("quit|q", "end qconf"),
    ("help|?", "this list"),
]


@dataclass(frozen=True)
class _Line:
    """One command line being run: the control, the selected CPU, the words after the
    command's name, and how to run a QMP command as the client that sent it."""

    control: Any
    index: int
    rest: list[str]
    qmp: QmpRunner


def human_monitor_command(control: Any, args: dict[str, Any], qmp: QmpRunner) -> str:
    """Run one human monitor command line (``command-line``, for the CPU ``cpu-index``);
    its output. ``qmp`` runs the QMP commands some lines stand for (``stop``...)."""
    # checked against the command's declaration (qconf.qmp.commands) before
    words = args["command-line"].split()
    if not words:
        return ""
    name, rest = words[0], words[1:]
    index: int = args.get("cpu-index", 0)
    if name == "info":
        what = rest[0] if rest else ""
        show = INFO.get(what)
        if show is None:
            return _text([f"info: unknown subcommand: '{what}'"] if what else _help("info "))
        return _text(show(control, index, rest[1:]))
    command = COMMANDS.get(name)
    if command is None:
        return _text([f"unknown command: '{name}'"])
    return _text(command(_Line(control, index, rest, qmp)))


def _text(lines: list[str]) -> str:
    return "".join(f"{line}\r\n" for line in lines)


def _help(prefix: str = "") -> list[str]:
    return [f"{usage:<22} -- {what}" for usage, what in HELP if usage.startswith(prefix)]


# --- info ---------------------------------------------------------------------------------


def _status(control: Any, index: int, rest: list[str]) -> list[str]:
    state = control.status.value  # QEMU's words: paused, with the state when it is another
    if state in ("running", "paused"):
        return [f"VM status: {state}"]
    return [f"VM status: paused ({state})"]


def _version(control: Any, index: int, rest: list[str]) -> list[str]:
    from qconf import __version__
    from qconf.qmp.protocol import QEMU_VERSION

    v = QEMU_VERSION
    return [f"{v['major']}.{v['minor']}.{v['micro']} (qconf {__version__})"]


def _cpus_of(control: Any) -> list[Any]:
    emulator = control.emulator()
    if emulator is None:
        raise QmpError("no CPU runs yet: the machine is built at x-exit-preconfig")
    return list(emulator.cpus)


def _selected(control: Any, index: int) -> Any:
    cpus = _cpus_of(control)
    if not 0 <= index < len(cpus):
        raise QmpError(f"CPU index {index} out of range: the machine has {len(cpus)} CPUs")
    return cpus[index]


def _cpus(control: Any, index: int, rest: list[str]) -> list[str]:
    return [f"{'*' if i == index else ' '} CPU #{i}: {cpu.obj.path} ({cpu.arch.name}) "
            f"pc={cpu.pc:#x}" for i, cpu in enumerate(_cpus_of(control))]  # fmt: skip


def _registers(control: Any, index: int, rest: list[str]) -> list[str]:
    cpus = _cpus_of(control) if "-a" in rest else [_selected(control, index)]
    out: list[str] = []
    for cpu in cpus:
        regs = list(cpu.registers(cpu.pc).items())
        out.append(f"CPU {cpu.obj.path} ({cpu.arch.name})")
        for i in range(0, len(regs), 4):
            out.append(" " + " ".join(f"{n:>5} {v:016x}" for n, v in regs[i : i + 4]))
    return out


def _view(name: str) -> Callable[[Any, int, list[str]], list[str]]:
    """An ``info`` command showing one of ``qconf.views.text``'s views of the machine
    (before the build, of the machine as configured so far)."""

    def show(control: Any, index: int, rest: list[str]) -> list[str]:
        from qconf.views import text

        lines: list[str] = getattr(text, name)(machine_for_qom(control))
        return lines

    return show


INFO: dict[str, Callable[[Any, int, list[str]], list[str]]] = {
    "status": _status,
    "version": _version,
    "cpus": _cpus,
    "registers": _registers,
    "mtree": _view("mtree_lines"),
    "qtree": _view("tree_lines"),
    "irqs": _view("irq_lines"),
    "clocks": _view("clock_lines"),
}


# --- commands -----------------------------------------------------------------------------

_FMT = re.compile(r"/(?P<count>\d*)(?P<fmt>[xdui]?)(?P<size>[bhwg]?)$")
_SIZES = {"b": 1, "h": 2, "w": 4, "g": 8}


def _memory(line: _Line) -> list[str]:
    """``x /4xw 0x80000000``: values as QEMU prints them, a line per 16 bytes;
    ``x /4i ADDR``: instructions. Memory that is not mapped ends the output with QEMU's
    ``Cannot access memory``."""
    rest = line.rest
    fmt = _FMT.match(rest[0]) if len(rest) == 2 else None
    if fmt is None:
        raise QmpError("usage: x /fmt addr (fmt: count, x|d|u|i, b|h|w|g; e.g. x /4xw 0x1000, "
                       "x /3i 0x80000000)")  # fmt: skip
    try:
        address = int(rest[1], 0)
    except ValueError:
        raise QmpError(f"bad address {rest[1]!r}: a number (0x... or decimal)") from None
    count = int(fmt["count"] or 1)
    cpu = _selected(line.control, line.index)
    if fmt["fmt"] == "i":
        if not 0 < count <= 4096:
            raise QmpError("x shows up to 4096 instructions at a time")
        return _instructions(cpu, address, count)
    size = _SIZES[fmt["size"] or "w"]
    if not 0 < count * size <= 1 << 16:
        raise QmpError("x shows up to 64 KiB at a time")
    try:
        data = read_memory(cpu, address, count * size)
        broken = None
    except Unmapped as exc:  # the lines before the first unmapped byte, then QEMU's words
        broken = exc.address
        data = read_memory(cpu, address, broken - address)
    per_line = max(1, 16 // size)
    out = []
    for first in range(0, count, per_line):
        at = address + first * size
        if broken is not None and at + per_line * size > broken:
            out.append(f"{at:016x}: Cannot access memory")
            break
        items = []
        for i in range(first, min(count, first + per_line)):
            value = int.from_bytes(data[i * size : (i + 1) * size], "little")
            if fmt["fmt"] == "d" and value >= 1 << (size * 8 - 1):
                value -= 1 << (size * 8)
            items.append(f"{value:#0{size * 2 + 2}x}" if fmt["fmt"] in ("", "x") else str(value))
        out.append(f"{at:016x}: " + " ".join(items))
    return out


def _instructions(cpu: Any, address: int, count: int) -> list[str]:
    """``count`` instructions from ``address``, laid out as QEMU's ``x /i`` lays them out
    for the architecture (the operands are capstone's)."""
    out = []
    for _ in range(count):
        try:
            head = read_memory(cpu, address, 2)
            size = cpu.arch.instruction_length(head)
            code = head + read_memory(cpu, address + 2, size - 2)
        except Unmapped:
            out.append(f"0x{address:016x}:  Address {address:#x} is out of bounds.")
            break
        text = cpu.arch.disassemble(code, address)
        mnemonic, _, operands = text.partition(" ") if not text.startswith("(") else (text, "", "")
        word = int.from_bytes(code, "little")
        if cpu.arch.family == "riscv":
            out.append(f"0x{address:016x}:  {word:0{size * 2}x}{' ' * (18 - size * 2)}"
                       f"{mnemonic:<24}{operands}".rstrip())  # fmt: skip
        else:
            out.append(f"0x{address:08x}:  {word:0{size * 2}x}  {mnemonic:<8} {operands}".rstrip())
        address += size
    return out


def _qmp(name: str) -> Callable[[_Line], list[str]]:
    """An HMP command that is a QMP command without arguments."""

    def run(line: _Line) -> list[str]:
        line.qmp(name)
        return []

    return run


def _gdbserver(line: _Line) -> list[str]:
    """``gdbserver [DEVICE...]``: serve gdb, as QEMU's command (``tcp::1234`` by default,
    ``CPU=DEVICE`` for one architecture of a heterogeneous machine, ``none`` to stop)."""
    from qconf.errors import QconfError

    start = getattr(line.control, "gdbserver", None)
    if start is None:
        raise QmpError("gdbserver is not available in this run")
    try:
        text: str = start(line.rest or ["tcp::1234"])
    except QconfError as exc:
        raise QmpError("\n".join(exc.lines())) from None
    return text.splitlines()


def _usage(line: _Line) -> list[str]:
    return _help()


def _snapshot(name: str) -> Callable[[_Line], list[str]]:
    """``savevm TAG``, ``loadvm TAG``, ``delvm TAG`` (:mod:`qconf.qmp.snapshots`)."""

    def run(line: _Line) -> list[str]:
        from qconf.qmp import snapshots

        if len(line.rest) != 1:
            raise QmpError(f"usage: {name} tag")
        if name != "delvm":
            line.control.live()  # the machine must be built
        action: Callable[[Any, str], list[str]] = getattr(snapshots, name)
        return action(line.control, line.rest[0])

    return run


COMMANDS: dict[str, Callable[[_Line], list[str]]] = {
    "x": _memory,
    "xp": _memory,
    "stop": _qmp("stop"),
    "cont": _qmp("cont"),
    "c": _qmp("cont"),
    "system_reset": _qmp("system_reset"),
    "gdbserver": _gdbserver,
    "quit": _qmp("quit"),
    "q": _qmp("quit"),
    "help": _usage,
    "?": _usage,
    "savevm": _snapshot("savevm"),
    "loadvm": _snapshot("loadvm"),
    "delvm": _snapshot("delvm"),
}
