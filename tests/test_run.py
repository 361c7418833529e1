"""Running machines: guest output over the UART, exit statuses, determinism, faults."""

from __future__ import annotations

import subprocess

import pytest
from click.testing import CliRunner

import qconf
from qconf.cli import main
from qconf.emu.chardev import MemoryChardev
from qconf.emu.emulator import run as emulate
from tests.external import require_program
from tests.helpers import MACHINES, write

HELLO = str(MACHINES / "riscv-hello" / "board.yaml")
TIMER = str(MACHINES / "riscv-timer" / "board.yaml")
HELLO_OUT = "Hello from riscv-virt (rv64, ns16550a)\n"
TIMER_OUT = "timer demo: 3 ticks, 10 ms apart\ntick 1\ntick 2\ntick 3\ndone\n"


def run(*args: str):
    return CliRunner().invoke(main, ["run", *args])


def test_hello_prints_and_powers_off():
    r = run("-c", HELLO)
    assert (r.exit_code, r.stdout, r.stderr) == (0, HELLO_OUT, "")


def test_timer_interrupts_in_virtual_time():
    r = run("-c", TIMER, "--stats")
    assert (r.exit_code, r.stdout) == (0, TIMER_OUT)
    lines = r.stderr.splitlines()
    assert lines[0] == "qconf: soc.test: guest powered off (pass)"
    assert lines[1].startswith("  virtual time 30.000000 ms, wall ")
    assert lines[2].startswith("  /machine/cpu0: ")


def test_two_runs_are_identical():
    first = run("-c", TIMER, "--stats")
    second = run("-c", TIMER, "--stats")
    assert first.stdout == second.stdout
    strip = [
        line.split(", wall")[0].split(" instructions")[0] for line in first.stderr.splitlines()
    ]
    again = [
        line.split(", wall")[0].split(" instructions")[0] for line in second.stderr.splitlines()
    ]
    assert strip == again


def test_a_guest_without_a_program_gets_a_fault_report():
    r = run("-c", "riscv-virt")
    assert r.exit_code == 3
    lines = r.stderr.splitlines()
    assert lines[0] == (
        "qconf: guest fault on /machine/cpu0 (riscv64) at pc 0x1000: illegal instruction "
        "with no trap handler (mtvec is 0)"
    )
    assert lines[1] == "  0x1000: c.unimp"
    assert "Traceback" not in r.output


def test_unmapped_access_is_reported_with_the_instruction(tmp_path, monkeypatch):
    # lui a0, 0x40000 ; ld a1, 0(a0)  -> a read at 0x4000_0000, where nothing is mapped
    (tmp_path / "bad.bin").write_bytes(bytes.fromhex("3705004083350500"))
    write(tmp_path, "board.yaml", "extends: riscv-virt\ncpu0:\n  firmware: bad.bin\n")
    monkeypatch.chdir(tmp_path)
    r = run("-c", "board.yaml")
    assert r.exit_code == 3
    lines = r.stderr.splitlines()
    assert lines[0] == (
        "qconf: guest fault on /machine/cpu0 (riscv64) at pc 0x1004: read from unmapped memory"
    )
    assert lines[1] == "  0x1004: ld a1, 0(a0)"
    assert "a0=0x0000000040000000" in r.stderr


def test_instruction_limit_stops_with_124():
    r = run("-c", TIMER, "--max-insns", "20000")
    assert r.exit_code == 124
    assert r.stdout == "timer demo: 3 ticks, 10 ms apart\ntick 1\n"
    assert r.stderr == "qconf: stopped after 20000 instructions (--max-insns)\n"


def test_missing_firmware_is_a_located_error(tmp_path, monkeypatch):
    write(tmp_path, "board.yaml", "extends: riscv-virt\ncpu0:\n  firmware: nothere.elf\n")
    monkeypatch.chdir(tmp_path)
    r = run("-c", "board.yaml")
    assert r.exit_code == 1
    assert r.stderr.startswith(f"qconf: error: cannot read image {tmp_path}/nothere.elf: ")


def test_python_api_with_a_memory_backend():
    machine = qconf.build(qconf.resolve([HELLO]))
    uart = MemoryChardev()
    outcome = emulate(machine, chardevs={"/machine/backends/chardev/soc-uart0": uart})
    assert (outcome.exit_code, bytes(uart.output)) == (0, HELLO_OUT.encode())
    machine.destroy()


@pytest.mark.parametrize("board", ["riscv-hello", "riscv-timer"])
def test_same_output_as_qemu(board):
    qemu = require_program("qemu-system-riscv64", "qemu-system-misc")
    elf = MACHINES / "guests" / "riscv" / f"{board.split('-')[1]}.elf"
    done = subprocess.run(
        [qemu, "-M", "virt", "-bios", "none", "-display", "none", "-monitor", "none",
         "-serial", "stdio", "-kernel", str(elf)],
        capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    ours = run("-c", str(MACHINES / board / "board.yaml"))
    assert done.returncode == ours.exit_code == 0
    assert done.stdout.decode() == ours.stdout
