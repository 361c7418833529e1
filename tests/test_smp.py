"""The machine's ``smp``: CPUs copied from a template with their own ids, controllers
sized by ``${smp}``, and several harts running firmware as QEMU's ``-smp`` does."""

from __future__ import annotations

import os
import re
import select
import subprocess
import time

import pytest
from click.testing import CliRunner

import qconf
from qconf.cli import main
from qconf.model.explain import explain
from tests.external import require_file, require_program
from tests.helpers import MACHINES, write


def resolve(*sets: str, files: tuple[str, ...] = ("riscv-virt",)):
    return qconf.resolve(list(files), list(sets))


def cpus(doc) -> list[str]:
    return [k for k, v in doc.tree.value.items() if isinstance(v.value, dict)
            and doc.type_of(v) is not None and doc.type_of(v).category == "cpu"]  # fmt: skip


def plain(doc, path: str):
    from qconf.config.node import to_plain

    node = doc.lookup(tuple(path.split(".")))
    assert node is not None, path
    return to_plain(node)


def test_smp_copies_cpu0_with_its_own_hart_ids_and_sizes_the_controllers():
    doc = resolve("smp=4")
    assert cpus(doc) == ["cpu0", "cpu1", "cpu2", "cpu3"]
    assert list(doc.tree.value)[list(doc.tree.value).index("cpu0") + 1] == "cpu1"  # in place
    assert [plain(doc, f"cpu{i}.hartid") for i in range(4)] == [0, 1, 2, 3]
    for i in range(1, 4):
        for prop in ("type", "freq", "isa", "mmu", "reset_vector"):
            assert plain(doc, f"cpu{i}.{prop}") == plain(doc, f"cpu0.{prop}"), prop
    assert plain(doc, "soc.harts") == 4  # ${smp} in the profile
    assert plain(doc, "soc.clint.num_harts") == plain(doc, "soc.plic.num_harts") == 4


def test_one_cpu_by_default():
    doc = resolve()
    assert cpus(doc) == ["cpu0"] and plain(doc, "smp") == 1 and plain(doc, "soc.harts") == 1


def test_what_is_set_on_cpu0_every_copy_gets_and_a_copy_may_differ():
    doc = resolve("smp=3", "cpu0.freq=2GHz", "cpu2.freq=500MHz")
    assert [plain(doc, f"cpu{i}.freq") for i in range(3)] == [2_000_000_000, 2_000_000_000,
                                                              500_000_000]  # fmt: skip
    lines = explain(doc, ("cpu1", "freq")).lines()
    assert "--set #2 'cpu0.freq=2GHz'  [--set #2, copied by smp from cpu0.freq]  <- wins" in (
        "\n".join(lines)
    ), lines
    lines = explain(doc, ("cpu2", "hartid")).lines()
    assert "--set #1 'smp=3'  [smp: this copy's id]  <- wins" in "\n".join(lines), lines
    assert "[--set #3]  <- wins" in "\n".join(explain(doc, ("cpu2", "freq")).lines())


def test_a_copy_of_a_cpu_in_a_container_and_a_template_named_by_smp_cpu():
    doc = resolve("smp=2", "smp_cpu=app.cpu0", files=("hetero-soc",))
    assert plain(doc, "app.cpu1.hartid") == 1
    assert plain(doc, "app.cpu1.freq") == plain(doc, "app.cpu0.freq")


@pytest.mark.parametrize(
    ("files", "sets", "message"),
    [
        (("mps2-an385",), ["smp=2"], "smp=2 copies cpu0, but cortex-m CPUs are not made in "
         "numbers (no per-CPU ids) [E235]"),
        (("riscv-virt",), ["smp=2", "smp_cpu=soc"], "smp=2 copies soc, but soc is not a CPU"),
        (("riscv-virt",), ["smp=0"], "smp: must be at least 1, got 0"),
        (("riscv-virt",), ["smp=2", "soc.harts=${smp * cores}"],
         "soc.harts: in '${smp * cores}' at column 9: unknown name 'cores' [E420]"),
        (("arm64-virt",), ["smp=9"], "--set #1 'smp=9': cpu8: gic is a GICv2, which serves 8 "
         "CPUs, but 9 AArch64 CPUs share its address space (cpu8 and later would get no "
         "interrupts) [E614]"),
    ],
    ids=["cortex-m", "not-a-cpu", "zero", "expression", "gicv2"],
)  # fmt: skip
def test_what_smp_refuses(files, sets, message):
    r = CliRunner().invoke(main, ["validate", *[a for f in files for a in ("-c", f)],
                                  *[f"--set={s}" for s in sets]])  # fmt: skip
    assert r.exit_code == 1 and message in r.stderr, r.stderr
    assert r.stderr.count("[E") == 1, r.stderr  # one error, not a cascade


def test_dollar_dollar_is_a_literal_in_a_machine_document(tmp_path):
    board = write(tmp_path, "board.yaml", "extends: riscv-virt\nbootargs: 'x=$${y}'\n")
    assert plain(resolve(files=(board,)), "bootargs") == "x=${y}"


def test_the_device_tree_describes_every_hart():
    from qconf.dtb import device_tree_source

    tree = device_tree_source(qconf.build(resolve("smp=2")))
    assert tree.count('device_type = "cpu";') == 2 and "cpu@1 {" in tree
    assert tree.count('riscv,isa = "rv64imafdc_zicsr_zifencei_zihintpause";') == 2
    clint = re.search(r"clint@2000000 \{\n\t+interrupts-extended = <([^>]*)>", tree)
    assert clint is not None and len(clint[1].split()) == 8  # 2 harts x (MSI, MTI)
    assert "core1 {" in tree  # cpu-map, as QEMU writes it


SMP_OUT = {n: "harts: {n}\n{lines}all harts done\n".format(
    n=n, lines="".join(f"hart {i}: a0 = {i}\n" for i in range(n))) for n in (1, 2, 4)}  # fmt: skip


@pytest.mark.parametrize("harts", [1, 2, 4])
def test_harts_start_together_and_wake_each_other_with_ipis(harts):
    """Every hart starts at the reset vector with its hart id in a0 and mhartid; wfi with
    mstatus.MIE off wakes on an IPI (msip); the same output as QEMU -smp N."""
    board = str(MACHINES / "riscv-smp" / "board.yaml")
    first = CliRunner().invoke(main, ["run", "-c", board, f"--set=smp={harts}", "--stats"])
    assert (first.exit_code, first.stdout) == (0, SMP_OUT[harts]), first.output
    again = CliRunner().invoke(main, ["run", "-c", board, f"--set=smp={harts}", "--stats"])
    assert again.stdout == first.stdout and _counts(again.stderr) == _counts(first.stderr)
    assert len(_counts(first.stderr)) == harts
    qemu = require_program("qemu-system-riscv64", "qemu-system-misc")
    done = subprocess.run(
        [qemu, "-M", "virt", "-smp", str(harts), "-bios", "none", "-display", "none",
         "-monitor", "none", "-serial", "stdio",
         "-kernel", str(MACHINES / "guests" / "riscv" / "smp.elf")],
        capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout.decode()) == (0, SMP_OUT[harts])


def _counts(stderr: str) -> dict[str, int]:
    return {m[1]: int(m[2]) for m in re.finditer(r"(/machine/\S+): (\d+) instructions", stderr)}


OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin"
UBOOT = "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin"
PROMPT = "Hit any key to stop autoboot"
QEMU_HART = "rv64,h=off,zba=off,zbb=off,zbc=off,zbs=off,sstc=off,priv_spec=v1.10.0,pmu-num=0"
"""QEMU's hart as Unicorn's: without the extensions it does not execute, its privileged
spec and no performance counters (docs/profiles.md)."""
ELSEWHERE = (
    "Boot HART ID", "Domain0 Boot HART",  # QEMU's harts race for it; qconf's hart 0 wins
    "Core:", "Flash:", "Working FDT",  # devices qconf does not model, a smaller tree
)  # fmt: skip
"""Lines that differ from QEMU's for reasons other than the harts."""


def _qemu_boot(harts: int) -> str:
    """What QEMU prints up to the autoboot prompt with ``-smp harts``."""
    qemu = require_program("qemu-system-riscv64", "qemu-system-misc")
    out = b""
    deadline = time.monotonic() + 120
    with subprocess.Popen(
        [qemu, "-M", "virt", "-smp", str(harts), "-cpu", QEMU_HART, "-m", "128M",
         "-display", "none", "-monitor", "none", "-serial", "stdio", "-bios", OPENSBI,
         "-kernel", UBOOT],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    ) as proc:  # fmt: skip
        assert proc.stdout is not None
        while PROMPT.encode() not in out and time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], 1.0)
            if ready:
                chunk = os.read(proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                out += chunk
        proc.kill()
    text = out.decode(errors="replace")
    assert PROMPT in text, text[-2000:]
    return text[: text.index(PROMPT)]


def _comparable(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith(ELSEWHERE)]


@pytest.mark.parametrize("harts", [1, 2, 4])
def test_opensbi_and_uboot_on_n_harts_print_what_qemu_smp_n_prints(harts):
    """Debian's OpenSBI (fw_jump) and U-Boot on riscv-virt with ``--set smp=N``: the
    banner (hart count, firmware size, Domain0 HARTs) as QEMU -smp N prints it, then the
    U-Boot prompt; secondaries parked by OpenSBI's HSM; the same every run."""
    require_file(OPENSBI, "opensbi")
    require_file(UBOOT, "u-boot-qemu")
    args = ["run", "-c", str(MACHINES / "uboot-riscv" / "board.yaml"), f"--set=smp={harts}",
            "--stats", "--timeout", "300", "--expect", PROMPT, "--send", "\\n",
            "--expect", "=> ", "--send", "poweroff\\n"]  # fmt: skip
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output[-2000:]
    assert r.stdout.rstrip().endswith("=> poweroff\npoweroff ...")
    ours = r.stdout[: r.stdout.index(PROMPT)]
    hart_list = ",".join(f"{i}*" for i in range(harts))
    assert f"Platform HART Count       : {harts}\n" in ours
    assert f"Domain0 HARTs             : {hart_list}\n" in ours
    assert "Boot HART ID              : 0\n" in ours
    assert len(_counts(r.stderr)) == harts
    assert _comparable(ours) == _comparable(_qemu_boot(harts))
    again = CliRunner().invoke(main, args)
    assert again.stdout == r.stdout and _counts(again.stderr) == _counts(r.stderr)


def test_arm64_copies_are_numbered_as_qemu_virt_numbers_them():
    """MPIDR affinity as QEMU's virt board gives ``-smp`` CPUs: Aff0 within a cluster of
    8, Aff1 the cluster; counted on from the template's own."""
    from qconf.arch.aarch64 import smp_ids

    assert [smp_ids({}, i)["mpidr"] for i in (1, 7, 8, 9, 17)] == [1, 7, 0x100, 0x101, 0x201]
    assert smp_ids({"mpidr": "0x106"}, 3)["mpidr"] == 0x201
    assert smp_ids({"mpidr": 0x8000_0000}, 1)["mpidr"] == 0x8000_0001  # other bits kept
    doc = resolve("smp=4", files=("arm64-virt",))
    assert [plain(doc, f"cpu{i}.mpidr") for i in range(4)] == [0, 1, 2, 3]
    assert plain(doc, "cpu3.model") == "cortex-a57"


def test_the_arm64_device_tree_describes_every_core():
    from qconf.dtb import device_tree_source

    tree = device_tree_source(qconf.build(resolve("smp=2", files=("arm64-virt",))))
    assert tree.count('device_type = "cpu";') == 2 and "cpu@1 {" in tree
    assert tree.count('enable-method = "psci";') == 2
