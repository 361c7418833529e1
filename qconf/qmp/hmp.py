"""``human-monitor-command``: a small human monitor in QEMU's words, for clients that pass
text commands through QMP (``qmp-shell -H``, management tools' monitor passthrough).

Commands: ``info status|version|cpus|registers|mtree|qtree|irqs|clocks``, ``x`` and
``xp /FMT ADDR`` (memory as a CPU sees it; ``x /Ni`` disassembles), ``stop``, ``cont`` (``c``),
``system_reset``, ``quit`` (``q``), ``help``. Output lines end with CRLF, as QEMU's do.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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
    ("stop", "pause"),
    ("cont|c", "resume"),
    ("system_reset", "power on again"),
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
    state = control.status.value
    return [f"VM status: {'paused (prelaunch)' if state == 'prelaunch' else state}"]


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
_LONGEST_INSTRUCTION = 4
"""Bytes read per instruction asked for (RISC-V, Thumb-2 and A64 take at most 4)."""


def _memory(line: _Line) -> list[str]:
    """``x /4xw 0x80000000``: values as QEMU prints them, a line per 16 bytes;
    ``x /4i 0x80000000``: four instructions, a line each."""
    rest = line.rest
    fmt = _FMT.match(rest[0]) if len(rest) == 2 else None
    if fmt is None:
        raise QmpError("usage: x /fmt addr (fmt: count, x|d|u|i, b|h|w|g; e.g. x /4xw 0x1000)")
    try:
        address = int(rest[1], 0)
    except ValueError:
        raise QmpError(f"bad address {rest[1]!r}: a number (0x... or decimal)") from None
    count = int(fmt["count"] or 1)
    if fmt["fmt"] == "i":
        return _instructions(line, address, count)
    size = _SIZES[fmt["size"] or "w"]
    if not 0 < count * size <= 1 << 16:
        raise QmpError("x shows up to 64 KiB at a time")
    cpu = _selected(line.control, line.index)
    try:
        data = bytes(cpu.uc.mem_read(address, count * size))
    except Exception as exc:
        raise QmpError(f"cannot access memory at {address:#x}: {exc}") from None
    per_line = max(1, 16 // size)
    out = []
    for first in range(0, count, per_line):
        items = []
        for i in range(first, min(count, first + per_line)):
            value = int.from_bytes(data[i * size : (i + 1) * size], "little")
            if fmt["fmt"] == "d" and value >= 1 << (size * 8 - 1):
                value -= 1 << (size * 8)
            items.append(f"{value:#0{size * 2 + 2}x}" if fmt["fmt"] in ("", "x") else str(value))
        out.append(f"{address + first * size:016x}: " + " ".join(items))
    return out


def _instructions(line: _Line, address: int, count: int) -> list[str]:
    """``count`` instructions from ``address`` as the selected CPU decodes them, as QEMU
    prints them: address, the instruction's bytes (a little-endian word), its text."""
    if not 0 < count <= 4096:
        raise QmpError("x /Ni shows up to 4096 instructions at a time")
    cpu = _selected(line.control, line.index)
    code = b""
    for size in (count * _LONGEST_INSTRUCTION, 2):  # near the end of a region: what fits
        try:
            code = bytes(cpu.uc.mem_read(address, size))
            break
        except Exception:
            continue
    if not code:
        raise QmpError(f"cannot access memory at {address:#x}: nothing is mapped there")
    try:
        found = cpu.arch.instructions(code, address, count)
    except ImportError:
        raise QmpError("x /i needs capstone (pip install capstone)") from None
    out = []
    for at, size, text in found:
        word = int.from_bytes(code[at - address : at - address + size], "little")
        out.append(f"0x{at:016x}:  {word:0{size * 2}x}  {text}")
    if len(found) < count:
        at = found[-1][0] + found[-1][1] if found else address
        out.append(f"0x{at:016x}:  (not an instruction)")
    return out


def _qmp(name: str) -> Callable[[_Line], list[str]]:
    """An HMP command that is a QMP command without arguments."""

    def run(line: _Line) -> list[str]:
        line.qmp(name)
        return []

    return run


def _usage(line: _Line) -> list[str]:
    return _help()


COMMANDS: dict[str, Callable[[_Line], list[str]]] = {
    "x": _memory,
    "xp": _memory,
    "stop": _qmp("stop"),
    "cont": _qmp("cont"),
    "c": _qmp("cont"),
    "system_reset": _qmp("system_reset"),
    "quit": _qmp("quit"),
    "q": _qmp("quit"),
    "help": _usage,
    "?": _usage,
}
