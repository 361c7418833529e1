"""Idle guests cost little: a CPU that only polls an empty status (a UART with nothing
received, an address nothing answers) is parked while input can come, and fast-forwarded
in virtual time when none can; the guest runs the same either way."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from qconf.cli import main
from tests.external import require_file
from tests.helpers import MACHINES, without_timing, write

ECHO = str(MACHINES / "riscv-echo" / "board.yaml")
UBOOT = MACHINES / "uboot-riscv" / "board.yaml"
# lui t0, 0x10000 (0x10001 below); 1: lbu t1, 0x105(t0) (lw t1, 0(t0)); beqz t1, 1b; wfi
POLL_UNASSIGNED = "b702001003c35210e30e03fe73005010"
POLL_UNIMPLEMENTED = "b712001003a30200e30e03fe73005010"


def run(*args: str, stdin: bytes = b""):
    return CliRunner().invoke(main, ["run", *args], input=stdin)


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_guest_polling_for_input_is_parked_while_input_can_come(processes):
    proc = subprocess.Popen([sys.executable, "-m", "qconf.cli", "run", "-c", ECHO],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)  # fmt: skip
    processes.append(proc)
    assert proc.stdout is not None and proc.stdin is not None
    seen = b""
    while b"q quits\n" not in seen:
        chunk = proc.stdout.read1(100)
        assert chunk, f"qconf ended before the prompt: {seen!r}"
        seen += chunk
    time.sleep(0.3)  # it reaches its polling loop
    before, start = cpu_seconds(proc.pid), time.monotonic()
    time.sleep(2)
    used = (cpu_seconds(proc.pid) - before) / (time.monotonic() - start)
    assert used < 0.1, f"the idle guest used {used:.0%} of a core"
    proc.stdin.write(b"hi\nq")
    proc.stdin.flush()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert seen + out == b"echo: type, q quits\nhi\nbye\n"  # woken by the input at once


def test_with_no_input_to_come_an_idle_guest_runs_ahead_in_virtual_time():
    first = run("-c", ECHO, "--max-time", "2s", "--stats")
    assert first.exit_code == 124
    lines = first.stderr.splitlines()
    assert lines[0] == "qconf: stopped at 2s of virtual time (--max-time)"
    instructions = int(lines[2].split()[1])
    assert instructions < 200_000  # 2 s of polling at 1 GHz would be 2,000 million
    again = run("-c", ECHO, "--max-time", "2s", "--stats")
    assert [without_timing(x) for x in again.stderr.splitlines()[:3]] == [
        without_timing(x) for x in lines[:3]
    ]
    assert again.stderr.splitlines()[2].split(",")[0] == lines[2].split(",")[0]


def test_skip_busy_waits_false_runs_every_poll():
    r = run("-c", ECHO, "--set", "skip_busy_waits=false", "--max-insns", "3000000", "--stats")
    assert r.exit_code == 124
    assert r.stderr.splitlines()[1].startswith("  virtual time 3.0")  # 1 ns an instruction


@pytest.mark.parametrize(
    ("code", "extra", "note"),
    [(POLL_UNASSIGNED, "", "read of 1 bytes at unassigned 0x10000105 returns 0"),
     (POLL_UNIMPLEMENTED,
      "soc:\n  missing:\n    type: unimplemented\n    base: 0x1000_1000\n    size: 0x1000\n",
      "soc.missing (unimplemented) is not modelled: read at +0x0 returns 0")],
    ids=["unassigned", "unimplemented"],
)  # fmt: skip
def test_polling_a_missing_device_costs_little(tmp_path, code, extra, note):
    (tmp_path / "poll.bin").write_bytes(bytes.fromhex(code))
    board = write(tmp_path, "board.yaml",
                  f"extends: riscv-virt\ncpu0:\n  firmware: poll.bin\n{extra}")  # fmt: skip
    r = run("-c", str(board), "--max-time", "1s", "--stats")
    assert r.exit_code == 124
    lines = r.stderr.splitlines()
    assert lines[0] == f"qconf: note: {note}"  # once
    assert lines[1] == "qconf: stopped at 1s of virtual time (--max-time)"
    assert int(lines[3].split()[1]) < 100_000


def test_an_idle_uboot_prompt_is_deterministic():
    require_file("/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin", "opensbi")
    require_file("/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin", "u-boot-qemu")
    args = ["-c", str(UBOOT), "--expect", "Hit any key", "--send", "\\n", "--expect", "=> ",
            "--send", "version\\n", "--max-time", "1500ms", "--stats"]  # fmt: skip
    first, again = run(*args), run(*args)
    assert first.exit_code == again.exit_code == 124
    assert first.stdout == again.stdout
    assert "=> version\nU-Boot 2023.01" in first.stdout
    assert first.stdout.endswith("GNU ld (GNU Binutils for Debian) 2.40\n=> ")
    assert [x.split(",")[0] for x in first.stderr.splitlines()[1:3]] == [
        x.split(",")[0] for x in again.stderr.splitlines()[1:3]
    ]
