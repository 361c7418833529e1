"""Tracing (-d, -D): QEMU's categories and qconf's mmio, each line stamped with virtual
time and the CPU's path, the same on every run; nothing installed for what is not asked."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

import qconf
from qconf.cli import main
from qconf.emu.emulator import Emulator
from qconf.emu.trace import CATEGORIES, help_lines, parse_categories
from tests.helpers import MACHINES, write

STAMP = r"\d+\.\d{9} /machine/cpu0 "


def trace(tmp_path, board: str, categories: str, *args: str) -> list[str]:
    out = tmp_path / "trace.log"
    r = CliRunner().invoke(main, ["run", "-c", str(MACHINES / board / "board.yaml"),
                                  "-d", categories, "-D", str(out), *args])  # fmt: skip
    assert r.exit_code == 0, r.output
    return out.read_text().splitlines()


def test_help_lists_every_category_one_line_each():
    r = CliRunner().invoke(main, ["run", "-d", "help"])
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert lines == help_lines()
    assert [line.split()[0] for line in lines[1:]] == [*CATEGORIES, "all"]
    assert list(CATEGORIES) == ["int", "in_asm", "exec", "cpu", "guest_errors", "unimp",
                                "mmu", "mmio"]  # fmt: skip


def test_an_unknown_category_is_a_usage_error_listing_the_valid_ones():
    r = CliRunner().invoke(main, ["run", "-c", "riscv-virt", "-d", "int,irq"])
    assert r.exit_code == 2
    assert "unknown trace category irq; valid: int, in_asm, exec, cpu" in r.stderr
    assert parse_categories("all") == set(CATEGORIES)
    assert CliRunner().invoke(main, ["run", "-c", "riscv-virt", "-D", "x.log"]).exit_code == 2


def test_interrupts_and_exceptions_on_riscv(tmp_path):
    lines = trace(tmp_path, "riscv-timer", "int")
    assert len(lines) == 3
    for n, line in enumerate(lines, 1):
        assert re.fullmatch(rf"0\.0{n}0000\d\d\d /machine/cpu0 int: interrupt 7 \(machine timer\) "
                            r"at 0x[0-9a-f]+ -> 0x[0-9a-f]+ \(M-mode\)", line), line  # fmt: skip
    traps = trace(tmp_path, "riscv-traps", "int")
    assert re.fullmatch(STAMP + r"int: exception 11 \(ecall from M-mode\) at 0x8000002e -> "
                        r"0x800001f0 \(M-mode\)", traps[0])  # fmt: skip
    assert "exception 2 (illegal instruction) at 0x80000044" in traps[1]


@pytest.mark.parametrize(
    ("board", "expected"),
    [("mps2-systick", r"int: exception 15 \(SysTick\) at 0x[0-9a-f]+ -> 0x[0-9a-f]+"),
     ("arm64-timer", r"int: IRQ line up \(virtual IRQ: taken at VBAR_EL1 \+ 0x280 once "
                     r"unmasked\)"),
     ("arm64-abort", r"int: data abort \(translation fault, level 1\) at 0x40080064, address "
                     r"0x200000000 -> 0x40080a00")],
    ids=str,
)  # fmt: skip
def test_interrupts_and_exceptions_on_arm(tmp_path, board, expected):
    lines = trace(tmp_path, board, "int")
    assert re.fullmatch(STAMP + expected, lines[0]), lines[0]


def test_translated_blocks_executed_blocks_and_registers(tmp_path):
    lines = trace(tmp_path, "riscv-hello", "in_asm,exec,cpu")
    assert lines[:5] == [
        "0.000000003 /machine/cpu0 in_asm: block at 0x80000000, 12 bytes, 3 instructions:",
        "0.000000003 /machine/cpu0 in_asm:   0x80000000: 17110000  auipc sp, 1",
        "0.000000003 /machine/cpu0 in_asm:   0x80000004: 1301010e  addi sp, sp, 0xe0",
        "0.000000003 /machine/cpu0 in_asm:   0x80000008: 732540f1  csrr a0, mhartid",
        "0.000000003 /machine/cpu0 exec: 0x80000000 (12 bytes)",
    ]
    assert lines[5].startswith("0.000000003 /machine/cpu0 cpu: pc=0x80000000 ra=0x0 sp=0x0 ")
    executed = [line for line in lines if " exec: " in line]
    translated = [line for line in lines if " in_asm: block at " in line]
    assert len(executed) > len(translated)  # loops run blocks translated once


def test_device_accesses_with_path_offset_size_and_value(tmp_path):
    lines = trace(tmp_path, "riscv-hello", "mmio")
    assert lines[:2] == [
        "0.000000018 /machine/cpu0 mmio: read /machine/soc/uart0 +0x5 (1 byte) -> 0x60",
        "0.000000020 /machine/cpu0 mmio: write /machine/soc/uart0 +0x0 (1 byte) <- 0x48",
    ]
    assert lines[-1].endswith("mmio: write /machine/soc/test +0x0 (4 bytes) <- 0x5555")


def test_guest_errors_and_unimplemented_devices(tmp_path):
    # lui t0, 0x10000; lbu t1, 0x105(t0): nothing there; lui t0, 0x10001; lw t1, 0(t0):
    # an unimplemented window; then power off through sifive-test (0x5555 at 0x100000)
    code = "b702001003c35210b712001003a30200b7021000375300001303535523a062006f000000"
    (tmp_path / "guest.bin").write_bytes(bytes.fromhex(code))
    board = write(tmp_path, "board.yaml", "extends: riscv-virt\ncpu0:\n  firmware: guest.bin\n"
                  "soc:\n  missing:\n    type: unimplemented\n    base: 0x1000_1000\n"
                  "    size: 0x1000\n")  # fmt: skip
    out = tmp_path / "trace.log"
    r = CliRunner().invoke(main, ["run", "-c", str(board), "-d", "guest_errors,unimp",
                                  "-D", str(out)])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert out.read_text().splitlines() == [
        "0.000000009 /machine/cpu0 guest_errors: read of 1 bytes at 0x10000105, where no "
        "device is -> 0x0",
        "0.000000009 /machine/cpu0 unimp: read /machine/soc/missing +0x0 (4 bytes) -> 0x0",
    ]


def test_aarch64_page_table_fills(tmp_path):
    lines = trace(tmp_path, "arm64-mmu", "mmu")
    assert lines[0] == "0.000000000 /machine/cpu0 mmu: fill 0x40080000 fetch -> 0x40080000 " \
                       "rwx (MMU off)"  # fmt: skip
    fills = [line.split(" mmu: ")[1] for line in lines]
    # the guest maps a second alias of RAM, then remaps it and runs tlbi
    before = fills.index("fill 0x100090000 write -> 0x40090000 rwx (walk)")
    assert fills.index("fill 0x100090000 read -> 0x40290000 rwx (walk)") > before


def test_two_runs_write_the_same_trace(tmp_path):
    first = trace(tmp_path, "riscv-timer", "all")
    assert trace(tmp_path, "riscv-timer", "all") == first
    assert len(first) > 100


def test_tracing_off_installs_nothing():
    machine = qconf.build(qconf.resolve([str(MACHINES / "riscv-hello" / "board.yaml")]))
    emulator = Emulator(machine)
    try:
        emulator.prepare()
        assert emulator.tracer is None
        assert all(core.trace is None and not core.trace_hooks for core in emulator.cpus)
    finally:
        emulator.close()
        machine.destroy()
