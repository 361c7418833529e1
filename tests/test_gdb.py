"""Debugging with gdb: exact stops and steps on the cores (no gdb needed), then real
gdb-multiarch sessions against ``qconf run -s``/``--gdb`` on riscv64, aarch64 and Cortex-M
guests, two debuggers on the heterogeneous demo, ``-S`` with QMP, the ``gdbserver``
command, and the same sessions against QEMU's own stub."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import qconf
from qconf.cli import main
from tests.external import require_program
from tests.helpers import MACHINES

GUESTS = MACHINES / "guests"
DEBUG = GUESTS / "debug"
BOARDS = {"riscv64": "riscv-virt", "aarch64": "arm64-virt", "cortex-m": "mps2-an385"}
ARCHS = list(BOARDS)


def _symbols(elf: Path) -> dict[str, int]:
    from elftools.elf.elffile import ELFFile

    with elf.open("rb") as f:
        table = ELFFile(f).get_section_by_name(".symtab")
        return {s.name: s["st_value"] & ~1 for s in table.iter_symbols() if s.name}


def _emulator(arch: str, timing: str) -> Any:
    from qconf.emu.emulator import Emulator

    sets = [f"cpu0.firmware={DEBUG / arch}.elf", f"timing={timing}"]
    machine = qconf.build(qconf.resolve([BOARDS[arch]], sets))
    emulator = Emulator(machine)
    emulator.prepare()
    return emulator


# --- on the cores: exact in both timings ------------------------------------------------------


@pytest.mark.parametrize("timing", ["fast", "exact"])
@pytest.mark.parametrize("arch", ARCHS)
def test_a_step_is_one_instruction(arch, timing):
    from qconf.debug.cpu import CoreDebug

    emulator = _emulator(arch, timing)
    try:
        core = emulator.cpus[0]
        core.debug = debug = CoreDebug(core)
        core.run(200)  # blocks translated whole, as a debugger finds them
        start, trail = core.instructions, []
        for _ in range(60):
            before = core.instructions
            debug.step(lambda budget: emulator.scheduler.run_alone(core, budget))
            assert core.instructions == before + 1, (hex(core.pc), trail[-3:])
            trail.append(core.pc)
        # the path the exact timing's own one-instruction slices take
        reference = _emulator(arch, "exact")
        try:
            ref = reference.cpus[0]
            ref.run(start)
            assert ref.instructions == start
            ref_trail = []
            for _ in range(60):
                ref.run(1)
                ref_trail.append(ref.pc)
            assert ref_trail == trail
        finally:
            reference.close()
    finally:
        emulator.close()


@pytest.mark.parametrize("timing", ["fast", "exact"])
@pytest.mark.parametrize("arch", ARCHS)
def test_breakpoints_and_watchpoints_stop_at_exact_counts(arch, timing):
    """A breakpoint stops before its instruction, a watchpoint before the access (its
    store undone); the counts are the same in both timings and in every run."""
    from qconf.debug.cpu import CoreDebug

    syms = _symbols(DEBUG / f"{arch}.elf")
    stops = []
    for _ in range(2):
        emulator = _emulator(arch, timing)
        try:
            core = emulator.cpus[0]
            core.debug = debug = CoreDebug(core)
            core.run(300)
            debug.apply({syms["square"]: 0}, {})
            seen = []
            for _ in range(3):
                core.run(10**6)
                assert debug.event == ("swbreak", syms["square"]) and core.pc == syms["square"]
                debug.event = None
                seen.append(core.instructions)
                debug.apply({}, {})
                debug.step(lambda budget, c=core, e=emulator: e.scheduler.run_alone(c, budget))
                debug.event = None
                debug.apply({syms["square"]: 0}, {})
            debug.apply({}, {(2, syms["counter"], 4): None})
            old = bytes(core.uc.mem_read(syms["counter"], 4))
            core.run(10**6)
            assert debug.event == ("watch", syms["counter"])
            assert bytes(core.uc.mem_read(syms["counter"], 4)) == old  # not stored yet
            seen.append(core.instructions)
            debug.event = None
            debug.apply({}, {})
            debug.step(lambda budget, c=core, e=emulator: e.scheduler.run_alone(c, budget))
            assert int.from_bytes(core.uc.mem_read(syms["counter"], 4), "little") == (
                int.from_bytes(old, "little") + 1
            )
            stops.append(seen)
        finally:
            emulator.close()
    assert stops[0] == stops[1]
    first, second, third, watch = stops[0]
    assert second - first == third - second  # one round of the loop each
    assert third < watch


def test_fast_and_exact_timing_stop_alike():
    counts = {}
    for timing in ("fast", "exact"):
        from qconf.debug.cpu import CoreDebug

        emulator = _emulator("riscv64", timing)
        try:
            core = emulator.cpus[0]
            core.debug = debug = CoreDebug(core)
            debug.apply({_symbols(DEBUG / "riscv64.elf")["square"]: 1}, {})
            core.run(10**6)
            assert debug.event is not None and debug.event[0] == "hwbreak"
            counts[timing] = core.instructions
        finally:
            emulator.close()
    assert counts["fast"] == counts["exact"]


# --- with gdb ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _qconf(processes: list[Any], *args: str, stubs: int = 1) -> tuple[Any, list[str]]:
    """``qconf run ARGS`` started, once its gdb stubs listen; the lines they said."""
    proc = subprocess.Popen([sys.executable, "-m", "qconf.cli", "run", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    processes.append(proc)
    said = b""
    deadline = time.monotonic() + 30
    assert proc.stderr is not None
    fd = proc.stderr.fileno()  # unbuffered: select() sees what is still to read
    while said.count(b" serves ") < stubs or not said.endswith(b"\n"):
        ready, _, _ = select.select([fd], [], [], 1.0)
        assert time.monotonic() < deadline and proc.poll() is None, said
        if ready:
            said += os.read(fd, 4096)
    return proc, said.decode().splitlines(keepends=True)


def _gdb(elf: Path, port: int, *commands: str, timeout: float = 90) -> str:
    gdb = require_program("gdb-multiarch", "gdb-multiarch")
    args = [gdb, "-nx", "-batch", "-ex", f"target remote :{port}"]
    for command in commands:
        args += ["-ex", command]
    done = subprocess.run([*args, str(elf)], capture_output=True, text=True, timeout=timeout,
                          check=False)  # fmt: skip
    return done.stdout + done.stderr


def _finish(proc: Any) -> tuple[int, str]:
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out.decode() + err.decode()


def _stats(text: str) -> list[str]:
    """The --stats lines a debugger must not change: virtual time, instructions per CPU."""
    lines = text.splitlines()
    return [line.split(", wall")[0].split(", ")[0]
            for line in lines if "virtual time" in line or " instructions" in line]  # fmt: skip


SESSION = ("break square", "continue", "bt", "finish", "p counter", "p total", "watch counter",
           "continue", "continue", "delete", "break square if n == 9", "continue", "p $pc",
           "stepi", "p $pc", "x/2xw &counter", "set var counter = 1000", "p counter",
           "info registers")  # fmt: skip


@pytest.mark.engine  # watchpoints on the store-fix engine too (its lean memory accesses)
@pytest.mark.parametrize("timing", ["fast", "exact"])
@pytest.mark.parametrize("arch", ARCHS)
def test_a_gdb_session(arch, timing, processes):
    port = _free_port()
    run = ["-c", BOARDS[arch], "--set", f"cpu0.firmware={DEBUG / arch}.elf", "--set",
           f"timing={timing}", "--stats", "--no-cache"]  # fmt: skip
    proc, _ = _qconf(processes, *run, "--gdb", f"tcp::{port}", "-S")
    out = _gdb(DEBUG / f"{arch}.elf", port, *SESSION)
    status, text = _finish(proc)
    assert "Breakpoint 1, square (n=n@entry=1) at debug/count.c:12" in out, out
    assert "#1  0x" in out and "in main () at debug/count.c:20" in out
    assert "Value returned is $1 = 1" in out
    assert "Old value = 1\nNew value = 2\n" in out
    assert "Breakpoint 3, square (n=n@entry=9)" in out
    assert "$6 = 1000" in out
    pcs = [int(line.split("0x")[-1].split()[0], 16) for line in out.splitlines()
           if line.startswith(("$4 =", "$5 ="))]  # fmt: skip
    assert pcs[1] - pcs[0] in (2, 4)  # one instruction
    assert "[Inferior 1 (Remote target) detached]" in out
    assert status == 0, text
    # gdb detached: the guest ran to its end, exactly as it does without a debugger
    plain = subprocess.run([sys.executable, "-m", "qconf.cli", "run", *run],
                           capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert _stats(text) == _stats(plain.stderr) != []


def test_stops_are_deterministic(processes):
    outputs = []
    for _ in range(2):
        port = _free_port()
        firmware = f"cpu0.firmware={DEBUG}/cortex-m.elf"
        proc, _ = _qconf(processes, "-c", "mps2-an385", "--set", firmware, "--gdb", f"tcp::{port}",
                         "-S")  # fmt: skip
        outputs.append(_gdb(DEBUG / "cortex-m.elf", port, "break square if n == 42", "continue",
                            "stepi 5", "info registers", "p counter", "kill"))  # fmt: skip
        assert _finish(proc)[0] == 0
    assert outputs[0] == outputs[1]
    assert "r5             0x2a" in outputs[0] and "r0             0x6e4" in outputs[0]


def test_ctrl_c_monitor_and_kill(processes):
    port = _free_port()
    firmware = f"cpu0.firmware={GUESTS}/riscv/forever.elf"
    proc, _ = _qconf(processes, "-c", "riscv-virt", "--set", firmware, "--gdb", f"tcp::{port}")
    gdb = require_program("gdb-multiarch", "gdb-multiarch")
    session = subprocess.Popen(
        [gdb, "-nx", "-batch", "-ex", f"target remote :{port}", "-ex", "continue", "-ex",
         "p $pc", "-ex", "monitor info mtree", "-ex", "monitor info registers", "-ex",
         "monitor x /1xw 0x80000000", "-ex", "kill", str(GUESTS / "riscv/forever.elf")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    processes.append(session)
    time.sleep(3)  # attached and continued: the guest runs
    session.send_signal(signal.SIGINT)  # Ctrl-C in gdb
    out = session.communicate(timeout=60)[0]
    assert "Program received signal SIGINT, Interrupt." in out, out
    assert "0000000080000000-0000000087ffffff (prio 0, ram): ram" in out
    assert "CPU /machine/cpu0 (riscv64)" in out and "\r" not in out
    assert "0000000080000000: 0xf3374281" in out
    assert "[Inferior 1 (Remote target) killed]" in out
    assert _finish(proc)[0] == 0


def test_a_guest_fault_stops_in_gdb_first(processes):
    port = _free_port()
    firmware = f"cpu0.firmware={DEBUG}/riscv64.elf"
    proc, _ = _qconf(processes, "-c", "riscv-virt", "--set", firmware, "--gdb", f"tcp::{port}",
                     "-S")  # fmt: skip
    out = _gdb(DEBUG / "riscv64.elf", port, "break main", "continue", "set var $pc = 0x10",
               "continue", "p $pc", "continue")  # fmt: skip
    assert "Program received signal SIGSEGV, Segmentation fault." in out
    assert "$1 = (void (*)()) 0x10" in out
    assert "[Inferior 1 (Remote target) exited with code 03]" in out
    status, text = _finish(proc)
    assert status == 3 and "instruction fetch from unmapped memory" in text


def test_cpus_of_one_architecture_are_threads_of_one_stub(processes):
    """Two harts: one stub, a thread each, each with its own registers; a step moves only
    the selected hart (scheduler-locking), and a breakpoint names the thread that hit it.
    The stops are where the round-robin slices put them, the same in every run."""
    port, forever = _free_port(), GUESTS / "riscv/forever.elf"
    proc, lines = _qconf(processes, "-c", "riscv-virt", "--no-cache", "--set", "+cpu1.type=riscv64",
                         "--set", "cpu1.hartid=1", "--set", f"cpu0.firmware={forever}", "--set",
                         f"cpu1.firmware={forever}", "--gdb", f"tcp::{port}", "-S")  # fmt: skip
    assert lines == [f"qconf: gdb: tcp::{port} serves /machine/cpu0 (riscv64), "
                     "/machine/cpu1 (riscv64)\n"]  # fmt: skip
    out = _gdb(forever, port, "break *0x8000001c", "continue", "info threads", "p $a0", "thread 2",
               "p $a0", "set scheduler-locking step", "stepi", "p $pc", "thread 1", "p $t0",
               "p $pc", "set scheduler-locking off", "delete", "break *0x80000006", "continue",
               "p $pc", "thread 1", "p $t0", "kill")  # fmt: skip
    assert "Thread 1 hit Breakpoint 1, 0x000000008000001c in _start ()" in out, out
    assert "* 1    Thread 1 (/machine/cpu0 (riscv64)) 0x000000008000001c in _start ()" in out
    assert "  2    Thread 2 (/machine/cpu1 (riscv64)) 0x0000000080000000 in _start ()" in out
    values = [line.split(" = ", 1)[1] for line in out.splitlines() if line.startswith("$")]
    assert values[:6] == [
        "0",  # a0 is the hart id at reset: thread 1's
        "1",  # thread 2's
        "(void (*)()) 0x80000002 <_start+2>",  # thread 2 stepped one (compressed) instruction
        "1",  # thread 1 did not move meanwhile: one round of its loop
        "(void (*)()) 0x8000001c <_start+28>",
        "(void (*)()) 0x80000006 <_start+6>",  # continued: thread 2 reached its breakpoint
    ], out
    assert "Thread 2 hit Breakpoint 2, 0x0000000080000006 in _start ()" in out
    # the stop was a pause in thread 2's slice, which went on: thread 1 has not run since
    assert values[6] == "1"
    assert _finish(proc)[0] == 0


def test_two_debuggers_on_the_heterogeneous_demo(processes):
    port = _free_port()
    board = str(MACHINES / "hetero-demo" / "board.toml")
    proc, lines = _qconf(processes, "-c", board, "--gdb", f"tcp::{port}", "-S", "--stats",
                         stubs=2)  # fmt: skip
    assert lines[:2] == [
        f"qconf: gdb: tcp::{port} serves /machine/app/cpu0 (riscv64)\n",
        f"qconf: gdb: tcp::{port + 1} serves /machine/mcu/cpu0 (cortex-m4)\n",
    ]
    gdb = require_program("gdb-multiarch", "gdb-multiarch")

    def session(elf: str, stub: int, *commands: str) -> Any:
        args = [gdb, "-nx", "-batch", "-ex", f"target remote :{stub}"]
        for command in commands:
            args += ["-ex", command]
        started = subprocess.Popen([*args, str(GUESTS / "hetero" / elf)], text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
        processes.append(started)
        return started

    app = session("app.elf", port, "break loop", *["continue", "p $s0"] * 3, "info threads")
    mcu = session("mcu.elf", port + 1, "break mailbox",
                  *["continue", "stepi 3", "p $r4"] * 3, "monitor info cpus")  # fmt: skip
    app_out, mcu_out = app.communicate(timeout=90)[0], mcu.communicate(timeout=90)[0]
    assert [line for line in app_out.splitlines() if line.startswith("$")] == [
        "$1 = (void *) 0x1", "$2 = (void *) 0x2", "$3 = (void *) 0x3"]  # fmt: skip
    assert "Thread 1 (/machine/app/cpu0 (riscv64))" in app_out
    assert [line for line in mcu_out.splitlines() if line.startswith("$")] == [
        "$1 = 1", "$2 = 2", "$3 = 3"]  # fmt: skip
    assert "* CPU #1: /machine/mcu/cpu0 (cortex-m) pc=0xb6" in mcu_out
    status, text = _finish(proc)
    assert status == 0 and "app: done" in text
    assert "-S: the machine starts once a debugger has continued on each address" in (
        "".join(lines) + text
    )
    plain = subprocess.run([sys.executable, "-m", "qconf.cli", "run", "-c", board, "--stats"],
                           capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert _stats(text) == _stats(plain.stderr) != []


def test_S_waits_for_qmp_or_gdb_and_qmp_answers_while_gdb_holds(tmp_path, processes):
    from qemu.qmp.legacy import QEMUMonitorProtocol

    port, sock = _free_port(), str(tmp_path / "qmp.sock")
    proc, _ = _qconf(processes, "-c", "riscv-virt", "--set",
                     f"cpu0.firmware={GUESTS}/riscv/forever.elf", "--qmp", f"unix:{sock}",
                     "--gdb", f"tcp::{port}", "-S")  # fmt: skip
    qmp = QEMUMonitorProtocol(sock)
    qmp.connect(negotiate=True)
    try:
        assert qmp.cmd_raw("query-status")["return"]["status"] == "paused"
        gdb = require_program("gdb-multiarch", "gdb-multiarch")
        session = subprocess.Popen(
            [gdb, "-nx", "-batch", "-ex", f"target remote :{port}", "-ex", "p $t0",
             "-ex", "break *0x8000001c", "-ex", "continue", "-ex", "p $t0",
             "-ex", "shell sleep 6", "-ex", "p $t0", "-ex", "detach"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        processes.append(session)
        # gdb continued (QMP's -S pause ends with it), stopped at its breakpoint, and
        # sleeps: the machine stands still, and QMP answers meanwhile
        deadline = time.monotonic() + 5
        while qmp.cmd_raw("query-status")["return"]["status"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        line = {"command-line": "info registers"}
        while "t0 0000000000000001" not in qmp.cmd_raw("human-monitor-command", line)["return"]:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.5)
        assert "t0 0000000000000001" in qmp.cmd_raw("human-monitor-command", line)["return"]
        out = session.communicate(timeout=60)[0]
        assert "$1 = 0\n" in out and "$2 = 1\n" in out and "$3 = 1\n" in out, out
        assert qmp.pull_event(wait=5.0)["event"] == "RESUME"
        qmp.cmd_raw("quit")
    finally:
        qmp.close()
    assert _finish(proc)[0] == 0


def test_gdbserver_from_the_human_monitor(tmp_path, processes):
    from qemu.qmp.legacy import QEMUMonitorProtocol

    port, sock = _free_port(), str(tmp_path / "qmp.sock")
    proc = subprocess.Popen([sys.executable, "-m", "qconf.cli", "run", "-c", "riscv-virt",
                             "--set", f"cpu0.firmware={GUESTS}/riscv/forever.elf", "--qmp",
                             f"unix:{sock}", "-S"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)  # fmt: skip
    processes.append(proc)
    deadline = time.monotonic() + 30
    while not os.path.exists(sock):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    qmp = QEMUMonitorProtocol(sock)
    qmp.connect(negotiate=True)
    try:
        line = {"command-line": f"gdbserver tcp::{port}"}
        answer = qmp.cmd_raw("human-monitor-command", line)["return"]
        assert answer == f"Waiting for gdb connection on device 'tcp::{port}'\r\n"
        bad = qmp.cmd_raw("human-monitor-command", {"command-line": "gdbserver tcp:8.8.8.8:1"})
        assert "E951" in bad["error"]["desc"]
        out = _gdb(GUESTS / "riscv/forever.elf", port, "break *0x8000001c", "continue", "p $t0",
                   "detach")  # fmt: skip
        assert "$1 = 1" in out  # gdb's continue ended QMP's -S pause too
        assert qmp.cmd_raw("query-status")["return"]["status"] == "running"
        assert qmp.cmd_raw("human-monitor-command", {"command-line": "gdbserver none"})[
            "return"] == "Disabled gdbserver\r\n"  # fmt: skip
        qmp.cmd_raw("quit")
    finally:
        qmp.close()
    assert _finish(proc)[0] == 0


@pytest.mark.parametrize("arch", ARCHS)
def test_the_same_session_as_with_qemus_gdbstub(arch, processes):
    """The same gdb commands on the same ELF give the same output against QEMU 7.2's stub
    (after the first stop: QEMU's riscv64 starts in its boot ROM, qconf at the entry)."""
    qemu = {"riscv64": ("qemu-system-riscv64", "-M", "virt", "-bios", "none"),
            "aarch64": ("qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a57"),
            "cortex-m": ("qemu-system-arm", "-M", "mps2-an385")}[arch]  # fmt: skip
    program = require_program(qemu[0], "qemu-system-misc" if "riscv" in arch else "qemu-system-arm")
    session = (*SESSION[:-1], "kill")
    outputs = []
    port = _free_port()
    proc = subprocess.Popen([program, *qemu[1:], "-display", "none", "-serial", "null",
                             "-monitor", "none", "-semihosting", "-S", "-gdb",
                             f"tcp:127.0.0.1:{port}", "-kernel", str(DEBUG / f"{arch}.elf")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    processes.append(proc)
    time.sleep(1.0)
    outputs.append(_gdb(DEBUG / f"{arch}.elf", port, *session))
    port = _free_port()
    firmware = f"cpu0.firmware={DEBUG / arch}.elf"
    _qconf(processes, "-c", BOARDS[arch], "--set", firmware, "--gdb", f"tcp::{port}", "-S")
    outputs.append(_gdb(DEBUG / f"{arch}.elf", port, *session))
    qemu_out, qconf_out = (
        [
            line
            for line in out.split("Breakpoint 1 at", 1)[1].splitlines()
            # gdb's stderr, after its stdout: the source files it could not open (their
            # build folder, the ELF's DW_AT_comp_dir, is not on this host), one per stop
            # where it shows a line; qconf's first stop is at _start, QEMU's in its ROM
            if "Inferior 1" not in line and not line.endswith(": No such file or directory.")
        ]
        for out in outputs
    )
    assert qemu_out == qconf_out
    assert "Old value = 1" in qconf_out


def test_a_unix_socket(tmp_path, processes):
    """``--gdb unix:PATH``: owner-only, gdb connects by its path, removed at the end."""
    path = tmp_path / "gdb.sock"
    elf = DEBUG / "riscv64.elf"
    proc, lines = _qconf(processes, "-c", "riscv-virt", "--set", f"cpu0.firmware={elf}",
                         "--gdb", f"unix:{path}", "-S")  # fmt: skip
    assert lines == [f"qconf: gdb: unix:{path} serves /machine/cpu0 (riscv64)\n"]
    assert path.stat().st_mode & 0o777 == 0o600
    gdb = require_program("gdb-multiarch", "gdb-multiarch")
    args = [gdb, "-nx", "-batch", "-ex", f"target remote {path}", "-ex", "break square", "-ex",
            "continue", "-ex", "p n", str(elf)]  # fmt: skip
    out = subprocess.run(args, capture_output=True, text=True, timeout=90, check=False).stdout
    assert "Breakpoint 1, square (n=n@entry=1) at debug/count.c:12" in out and "$1 = 1" in out
    assert _finish(proc)[0] == 0  # gdb -batch detached: the guest ran to its end
    assert not path.exists()


def test_command_line_errors():
    r = CliRunner().invoke(main, ["run", "-c", "riscv-virt", "-S"])
    assert r.exit_code == 2 and "-S needs --qmp, -s or --gdb" in r.output
    r = CliRunner().invoke(main, ["run", "-c", "riscv-virt", "--gdb", "tcp:0.0.0.0:1"])
    assert r.exit_code == 1 and "E951" in r.stderr and "--gdb-allow-remote" in r.stderr
    r = CliRunner().invoke(main, ["run", "-c", "riscv-virt", "--gdb", "gpu.cpu0=tcp::1"])
    assert r.exit_code == 1 and "'gpu.cpu0' is not a CPU gdb can debug" in r.stderr
    assert "the machine's CPUs: cpu0" in r.stderr
