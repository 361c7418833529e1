"""bench/uboot_floor.py keeps working: one run of each, every figure present, and the
bare boots and qconf's run the same guest instructions (no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.external import require_file
from tests.helpers import REPO


def test_the_floor_bench_boots_bare_unicorn_and_qconf_to_the_prompt():
    require_file("/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin", "opensbi")
    require_file("/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin", "u-boot-qemu")
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "uboot_floor.py"), "--repeat", "1", "--json"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    for name in ("bare", "bare_block_hook", "qconf"):
        assert result[f"{name}_median_ms"] > 0
    insns = result["instructions"]
    assert abs(insns["qconf"] - insns["bare_block_hook"]) < insns["qconf"] // 1000
    assert result["qconf_over_bare"] > 0
