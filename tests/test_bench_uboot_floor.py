"""bench/uboot_floor.py keeps working: one run of each, every figure present, and the
bare boots and qconf's run the same guest instructions (no timing asserted)."""

from __future__ import annotations

from tests.external import require_file
from tests.helpers import run_bench


def test_the_floor_bench_boots_bare_unicorn_and_qconf_to_the_prompt():
    require_file("/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin", "opensbi")
    require_file("/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin", "u-boot-qemu")
    result = run_bench("uboot_floor.py", "--repeat", "1")
    for name in ("bare", "bare_block_hook", "qconf"):
        assert result[f"{name}_median_ms"] > 0
    insns = result["instructions"]
    assert abs(insns["qconf"] - insns["bare_block_hook"]) < insns["qconf"] // 1000
    assert result["qconf_over_bare"] > 0
