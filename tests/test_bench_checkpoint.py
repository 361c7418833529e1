"""bench/checkpoint.py keeps working: one timed run each way, every figure present (no
timing asserted: the figures are the bench's to report)."""

from __future__ import annotations

from tests.external import require_file
from tests.helpers import run_bench


def test_the_checkpoint_bench_restores_and_boots():
    require_file("/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin", "opensbi")
    require_file("/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin", "u-boot-qemu")
    result = run_bench("checkpoint.py", "--runs", "1")
    assert result["checkpoint_bytes"] > 100_000
    for name in ("cold_boot_median_s", "restore_median_s", "in_process_boot_s",
                 "in_process_restore_s"):  # fmt: skip
        assert result[name] > 0
