"""bench/emulate.py keeps working: one small run of each configuration, every figure
present (no timing asserted: the figures are the bench's to report)."""

from __future__ import annotations

from tests.external import require_program
from tests.helpers import run_bench


def test_the_emulation_bench_measures_qconf_raw_unicorn_and_qemu():
    require_program("qemu-system-riscv64", "qemu-system-misc")
    require_program("qemu-system-aarch64", "qemu-system-arm")
    result = run_bench("emulate.py", "--instructions", "600000", "--repeat", "1",
                       "--uart-writes", "2000", timeout=300)  # fmt: skip
    for loop in ("loop6", "loop30"):
        assert result[f"{loop}_instructions"] == 600_000
        for name in ("raw", "counter", "qconf", "qconf_exact"):
            assert result[f"{loop}_{name}_mips"] > 0
        for name in ("raw", "qconf", "qconf_exact"):
            assert result[f"{loop}_3cpu_{name}_mips"] > 0
        # QEMU's figures subtract its start-up, which can exceed so short a run
        assert result[f"{loop}_qemu_icount_mips"] is not None
        assert result[f"{loop}_3cpu_qemu_icount_mips"] is not None
    # the store-heavy loop: riscv64 alone (7 instructions an iteration, 600,000 // 7 of them)
    assert result["storeloop_instructions"] == 600_000 // 7 * 7
    for name in ("raw", "counter", "qconf", "qconf_exact"):
        assert result[f"storeloop_{name}_mips"] > 0
    assert result["storeloop_qemu_icount_mips"] is not None
    assert "storeloop_3cpu_qconf_mips" not in result
    assert result["qconf_uart_writes_per_s"] > 0
