"""bench/sweep.py keeps working: two variants each way, every figure present (no timing
asserted: the figures are the bench's to report)."""

from __future__ import annotations

from tests.external import require_file, require_program
from tests.helpers import run_bench


def test_the_sweep_bench_runs_the_sweep_the_runs_and_qemu():
    require_program("qemu-system-riscv64", "qemu-system-misc")
    require_file("/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin", "opensbi")
    require_file("/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin", "u-boot-qemu")
    result = run_bench("sweep.py", "--variants", "2")
    assert (result["variants"], result["jobs"]) == (2, 2)
    for name in ("sweep_s", "qconf_runs_s", "qemu_runs_s"):
        assert result[name] > 0
