"""bench/boot.py keeps working: one timed run of each, every column present (no timing
asserted: the figures are the bench's to report)."""

from __future__ import annotations

from tests.external import require_file, require_program
from tests.helpers import run_bench


def test_the_boot_bench_runs_qconf_cached_and_not_and_qemu():
    require_program("qemu-system-riscv64", "qemu-system-misc")
    require_file("/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin", "opensbi")
    require_file("/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin", "u-boot-qemu")
    result = run_bench("boot.py", "--runs", "1")
    for name in ("qconf", "qconf_no_cache", "qemu"):
        assert len(result[f"{name}_runs_s"]) == 1
        assert result[f"{name}_median_s"] > 0
    assert result["ratio"] > 0 and result["ratio_no_cache"] > 0
