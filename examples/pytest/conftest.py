"""Tests of the U-Boot example boards with qconf's pytest plugin (it comes with qconf:
nothing to register). Run from the repository's root:

    python -m pytest examples/pytest

They need Debian's firmware: apt-get install opensbi u-boot-qemu. Without it they are
skipped, saying so; with QCONF_REQUIRE_EXTERNAL=1 (as in CI) they fail instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

MACHINES = Path(__file__).resolve().parents[2] / "machines"
FIRMWARE = {
    "uboot-riscv": ["/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin",
                    "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin"],
    "uboot-arm64": ["/usr/lib/u-boot/qemu_arm64/u-boot.bin"],
}  # fmt: skip


@pytest.fixture(params=sorted(FIRMWARE))
def qconf_config(request: pytest.FixtureRequest) -> list[str]:
    """Each test runs on both boards (the plugin's qconf_config, overridden here)."""
    missing = [f for f in FIRMWARE[request.param] if not os.path.exists(f)]
    if missing:
        reason = f"{missing[0]} not found: apt-get install opensbi u-boot-qemu"
        if os.environ.get("QCONF_REQUIRE_EXTERNAL") == "1":
            pytest.fail(reason + " (QCONF_REQUIRE_EXTERNAL=1)")
        pytest.skip(reason)
    return [str(MACHINES / request.param / "board.yaml")]
