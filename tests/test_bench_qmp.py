"""bench/qmp.py keeps working: a small load, every reply accounted for (no timing
asserted: the figures are the bench's to report)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.helpers import REPO


def test_the_qmp_load_bench_runs_and_loses_nothing():
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "qmp.py"), "--clients", "4", "--commands", "30",
         "--json"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["qconf"]["lost"] == 0
    assert result["qconf"]["guest_rounds_during"] > 0  # the guest ran while it served
    assert result["transport"] == "tcp"
