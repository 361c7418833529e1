"""bench/linux.py keeps working: one run of each to "Run /init", both consoles there, the
same instruction count (no timing asserted: the figures are the bench's to report)."""

from __future__ import annotations

import pytest

from tests.external import require_file, require_program
from tests.helpers import run_bench


@pytest.mark.slow
def test_the_linux_bench_boots_qconf_and_qemu_to_init():
    require_program("qemu-system-aarch64", "qemu-system-arm")
    require_file("/usr/lib/debian-installer/images/12/arm64/text/debian-installer/arm64/linux",
                 "debian-installer-12-netboot-arm64")  # fmt: skip
    result = run_bench("linux.py", "--init-only", timeout=900)
    assert result["qconf_init_s"] > 0 and result["qemu_init_s"] > 0
    assert result["instructions_init"][0] > 2_000_000_000
    assert result["walks"] > 0
    assert result["svc"] > 0 and result["tlbi"] > 0
