"""bench/stores.py keeps working: one small run, with a second engine (this environment's
again), every column present and the same output on every engine and QEMU (no timing
asserted: the figures are the bench's to report)."""

from __future__ import annotations

import sys

from tests.external import require_program
from tests.helpers import run_bench


def test_the_stores_bench_runs_two_engines_and_qemu():
    require_program("qemu-system-riscv64", "qemu-system-misc")
    result = run_bench("stores.py", "--loops", "100000", "--rounds", "1", "--repeat", "1",
                       "--compare", sys.executable)  # fmt: skip
    assert result["engine1"] == result["engine2"]
    for tag in ("engine1", "engine2"):
        for figure in ("raw_load_mips", "raw_store_mips", "raw_codestore_mips",
                       "qconf_storeloop_s", "qconf_stores_s"):  # fmt: skip
            assert result[f"{tag}_{figure}"] > 0
        assert isinstance(result[f"{tag}_native_hooks"], bool)
    assert result["stores_output"].startswith("stores: 1 rounds, checksum ")
    assert result["identical"] is True
