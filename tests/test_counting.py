"""Instruction counting (qconf/emu/counting.py): exact guest instruction counts in both
timings, with the native hooks and with their Python equivalents, the same on every
example machine; engines closed and their translation buffers unmapped."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from qconf.cli import main
from tests.external import require_file, require_native
from tests.helpers import MACHINES, write

GUESTS = MACHINES / "guests"
RISCV_COUNT = 7 * 100_000 + 10 * 1000 + 6 + 3 + 5  # see machines/guests/riscv/count.S
THUMB_COUNT = 9 * 50_000 + 2 + 3  # see machines/guests/cortex-m/count.S
MODES = [("fast", True), ("exact", True), ("fast", False), ("exact", False)]
MODE_IDS = ["fast-native", "exact-native", "fast-python", "exact-python"]


@pytest.fixture
def hooks(monkeypatch, request):
    """``hooks(native)``: use the native hooks or the Python ones for the next runs."""
    from qconf.emu import native

    def use(on: bool) -> None:
        monkeypatch.setenv("QCONF_NO_NATIVE", "0" if on else "1")
        native._load.cache_clear()
        if on and native.hooks() is None:
            require_native()

    request.addfinalizer(native._load.cache_clear)
    return use


def run(*args: str, input: bytes | None = None):
    return CliRunner().invoke(main, ["run", "--no-cache", *args], input=input)


def counts(stderr: str) -> dict[str, int]:
    return {m[1]: int(m[2]) for m in re.finditer(r"  (/\S+): (\d+) instructions", stderr)}


def virtual_ms(stderr: str) -> str:
    found = re.search(r"virtual time (\S+) ms", stderr)
    assert found is not None, stderr
    return found[1]


def board(tmp_path, profile: str, elf: str) -> str:
    text = f"extends: {profile}\ncpu0:\n  firmware: {GUESTS / elf}\n"
    return str(write(tmp_path, "board.yaml", text))


@pytest.mark.parametrize("quantum", ["10000", "7"])
@pytest.mark.parametrize(("timing", "native"), MODES, ids=MODE_IDS)
@pytest.mark.parametrize(
    ("profile", "elf", "expected"),
    [("riscv-virt", "riscv/count.elf", RISCV_COUNT),
     ("mps2-an385", "cortex-m/count.elf", THUMB_COUNT)],
    ids=["riscv-rvc", "thumb2-it"],
)  # fmt: skip
def test_a_guest_reports_its_exact_instruction_count(
    tmp_path, hooks, profile, elf, expected, timing, native, quantum
):
    """Compressed RISC-V and 16-bit Thumb instructions count one each; a skipped
    conditional instruction in an IT block counts (it was issued); an AMO that traps in
    the middle of its block counts once, the rest of the block only when it runs. With a
    7-instruction quantum slices end everywhere, inside IT blocks too: no double count at
    slice ends."""
    hooks(native)
    r = run("-c", board(tmp_path, profile, elf), "--stats", "--set", f"timing={timing}",
            "--set", f"quantum={quantum}")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert counts(r.stderr) == {"/machine/cpu0": expected}
    assert f"native hooks: {'on' if native else 'off'}" in r.stderr


def test_the_known_counts_match_an_independent_count():
    """Cross-check of the two counts above, independent of qconf's counting: a bare
    Unicorn engine with a per-instruction ``UC_HOOK_CODE`` counter runs each guest (the
    RISC-V trap entry done by the hook: mepc, pc = mtvec). Unicorn calls no code hook for
    an IT-block instruction whose condition fails: the Thumb guest skips one per loop
    iteration (50,000), which QEMU's icount, and qconf, count."""
    from elftools.elf.elffile import ELFFile
    from unicorn import (
        UC_ARCH_ARM,
        UC_ARCH_RISCV,
        UC_HOOK_CODE,
        UC_HOOK_INTR,
        UC_MODE_MCLASS,  # fmt: skip
        UC_MODE_RISCV64,
        UC_MODE_THUMB,
        Uc,
    )
    from unicorn import riscv_const as rv

    def load(uc: Uc, elf: str) -> int:
        with (GUESTS / elf).open("rb") as f:
            e = ELFFile(f)
            for seg in e.iter_segments():
                if seg["p_type"] == "PT_LOAD":
                    uc.mem_write(seg["p_paddr"], seg.data())
            return int(e["e_entry"])

    seen = [0]

    def count(uc: Uc, address: int, size: int, user: object) -> None:
        seen[0] += 1

    uc = Uc(UC_ARCH_RISCV, UC_MODE_RISCV64)
    uc.mem_map(0x8000_0000, 1 << 20)
    uc.mmio_map(0x10_0000, 0x1000, lambda *a: 0, None, lambda uc, *a: uc.emu_stop(), None)
    entry = load(uc, "riscv/count.elf")

    def trap(uc: Uc, intno: int, user: object) -> None:
        uc.reg_write(rv.UC_RISCV_REG_MEPC, uc.reg_read(rv.UC_RISCV_REG_PC) - 4)
        status = uc.reg_read(rv.UC_RISCV_REG_MSTATUS)
        uc.reg_write(rv.UC_RISCV_REG_MSTATUS, status | 3 << 11)  # MPP = M: mret stays in M
        uc.reg_write(rv.UC_RISCV_REG_PC, uc.reg_read(rv.UC_RISCV_REG_MTVEC))

    uc.hook_add(UC_HOOK_CODE, count)
    uc.hook_add(UC_HOOK_INTR, trap)
    uc.emu_start(entry, 1 << 63)
    # qconf ends the run at the next block after the poweroff store: + the `j 1b` after it
    assert seen[0] + 1 == RISCV_COUNT

    seen[0] = 0
    uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS)
    uc.mem_map(0, 1 << 20)
    load(uc, "cortex-m/count.elf")
    uc.hook_add(UC_HOOK_CODE, count)
    uc.hook_add(UC_HOOK_INTR, lambda uc, intno, user: uc.emu_stop())  # bkpt: exit
    uc.emu_start(0x8 | 1, 0xFFFF_FFFF)
    assert seen[0] + 50_000 == THUMB_COUNT


@pytest.mark.parametrize(("timing", "native"), MODES, ids=MODE_IDS)
def test_max_insns_stops_at_the_limit(tmp_path, hooks, timing, native):
    hooks(native)
    r = run("-c", board(tmp_path, "riscv-virt", "riscv/count.elf"), "--stats",
            "--max-insns", "123457", "--set", f"timing={timing}")  # fmt: skip
    assert r.exit_code == 124, r.output
    found = re.match(r"qconf: stopped after (\d+) instructions \(--max-insns\)", r.stderr)
    assert found is not None, r.stderr
    ran = int(found[1])
    assert counts(r.stderr) == {"/machine/cpu0": ran}
    if timing == "exact":
        assert ran == 123457  # to the instruction
    else:
        assert 123457 <= ran < 123457 + 7  # to the end of the loop's block
    # the last slice is in the virtual time: 1 ns an instruction at 1 GHz
    assert virtual_ms(r.stderr) == f"{ran / 1e6:.6f}"


def test_exception_entry_and_return_count_alike_native_and_in_python(tmp_path, hooks):
    """switch.S, the bench of Cortex-M exceptions (svc, PendSV tail-chained after it,
    SysTick every 10 us: 41,836 exceptions): native entry and return
    (native_exceptions.c) and Python's give the same output, instruction count and
    virtual time, in both timings."""
    path = board(tmp_path, "mps2-an385", "cortex-m/switch.elf")
    results = []
    for timing, native in MODES:
        hooks(native)
        r = run("-c", path, "--stats", "--set", f"timing={timing}")
        assert r.exit_code == 0, r.output
        results.append((r.stdout, counts(r.stderr), virtual_ms(r.stderr)))
    assert results[0][0] == "switch: 20000 yields\n"
    assert all(result == results[0] for result in results), results


OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin"
UBOOT = {"uboot-riscv": "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin",
         "uboot-arm64": "/usr/lib/u-boot/qemu_arm64/u-boot.bin"}  # fmt: skip
UBOOT_SESSION = ["--expect", "Hit any key", "--send", "\\n", "--expect", "=> ",
                 "--send", "version\\n", "--expect", "=> ", "--send", "poweroff\\n"]  # fmt: skip
INSTALLER = "/usr/lib/debian-installer/images/12/arm64/text/debian-installer/arm64"
LINUX = {"linux-arm64": f"{INSTALLER}/linux"}
FW_JUMP = {"riscv-kernel"}  # a kernel booted through OpenSBI's fw_jump
SEVERAL_CPUS = {"hetero-demo", "riscv-smp"}
"""Machines whose virtual time may differ between the timings (not their output nor
their counts): with several CPUs a slice lasts its span whichever CPU ran past its
budget, and the run's last slice is as long as the stopping CPU ran, which ends at a
block in fast timing and at the instruction in exact timing."""


SILENT = {"riscv-debug"}  # a program for gdb: nothing on its console


@pytest.mark.parametrize("name", sorted(p.parent.name for p in MACHINES.glob("*/board.*")), ids=str)
def test_every_example_machine_runs_alike_in_both_timings_with_and_without_native(name, hooks):
    """The same stdout bytes and instruction counts in fast and exact timing, with the
    native hooks and with the Python ones; the same virtual time too (but see
    SEVERAL_CPUS). U-Boot boards boot, print ``version`` and power off."""
    path = str(next((MACHINES / name).glob("board.*")))
    args = ["-c", path, "--stats", "--max-insns", "50000000"]
    status = 0
    if name in LINUX:  # the kernel's first 30 million instructions, printed by earlycon
        require_file(LINUX[name], "debian-installer-12-netboot-arm64")
        args = ["-c", path, "--stats", "--max-insns", "30000000",
                "--set", "cpu0.append=console=ttyAMA0 earlycon=pl011,0x9000000"]  # fmt: skip
        status = 124
    if name in FW_JUMP:
        require_file(OPENSBI, "opensbi")
    if name in UBOOT:
        require_file(UBOOT[name], "u-boot-qemu")
        if name == "uboot-riscv":
            require_file(OPENSBI, "opensbi")
        args += UBOOT_SESSION
    results = []
    for timing, native in MODES:
        hooks(native)
        r = run(*args, "--set", f"timing={timing}", input=b"typed\nq")
        assert r.exit_code == status, (timing, native, r.output[-2000:])
        results.append((r.stdout, counts(r.stderr), virtual_ms(r.stderr)))
    (out, insns, ms), *others = results
    assert (out or name in SILENT) and insns  # a silent guest's status checks its own sums
    if name in LINUX:  # stopped by --max-insns: exact timing to the instruction, fast at
        # the end of that block; native and Python alike in each
        assert results[2] == results[0] and results[3] == results[1]
        assert sum(results[1][1].values()) == 30_000_000
        return
    for other in others:
        assert other[:2] == (out, insns)
    assert results[2][2] == ms and results[3][2] == results[1][2]  # native == Python
    if name not in SEVERAL_CPUS:
        assert results[1][2] == ms


def test_engines_are_closed_and_nothing_else_is_writable_and_executable():
    """After a run every engine is closed and its translation buffer (64 MiB, mapped
    read-write-execute by Unicorn's TCG: QEMU 5 has no split W^X) is unmapped. While it
    runs, the only writable+executable mappings are those buffers, one per engine, and
    libffi's closure pages (one page each, made by ctypes for the binding's Python
    callbacks): qconf places no code of its own."""
    script = f"""
import json
import qconf
from qconf.emu.emulator import Emulator

def wx():
    found = []
    for line in open("/proc/self/maps"):
        span, perms = line.split()[:2]
        lo, hi = (int(x, 16) for x in span.split("-"))
        if "w" in perms and "x" in perms:
            found.append(hi - lo)
    return found

emulator = Emulator(qconf.build(qconf.resolve(["{MACHINES / "hetero-demo" / "board.toml"}"])),
                    None, [])
emulator.prepare()
during = wx()
emulator.run()
emulator.close()
print(json.dumps([during, wx()]))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True, timeout=120)  # fmt: skip
    during, after = json.loads(done.stdout.splitlines()[-1])
    buffers = [size for size in during if size > 32 << 20]
    assert len(buffers) == 2 and all(size <= 64 << 20 for size in buffers)  # two CPUs
    assert all(size == 4096 for size in during if size not in buffers)  # libffi
    assert all(size == 4096 for size in after)  # the buffers are gone
