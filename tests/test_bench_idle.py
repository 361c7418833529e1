"""bench/idle.py keeps working: qconf and QEMU idle at the U-Boot prompt, every figure
present, and qconf's idle prompt costs little (a loose bound: the machine may be busy)."""

from __future__ import annotations

from tests.external import require_file, require_program
from tests.helpers import run_bench


def test_the_idle_bench_leaves_both_prompts_idle_and_types_version():
    require_program("qemu-system-riscv64", "qemu-system-misc")
    require_file("/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin", "opensbi")
    require_file("/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin", "u-boot-qemu")
    result = run_bench("idle.py", "--seconds", "2")
    assert result["qconf_idle_cpu_percent"] < 10
    assert result["qemu_idle_cpu_percent"] >= 0
    assert result["qconf_version_answer_ms"] > 0 and result["qemu_version_answer_ms"] > 0
