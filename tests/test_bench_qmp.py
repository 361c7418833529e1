"""bench/qmp.py keeps working: a small load, every reply accounted for (no timing
asserted: the figures are the bench's to report)."""

from __future__ import annotations

from tests.helpers import run_bench


def test_the_qmp_load_bench_runs_and_loses_nothing():
    result = run_bench("qmp.py", "--clients", "4", "--commands", "30", timeout=120)
    assert result["qconf"]["lost"] == 0
    assert result["qconf"]["guest_rounds_during"] > 0  # the guest ran while it served
    assert result["transport"] == "tcp"
