"""U-Boot on the riscv64 and arm64 example boards: the RAM size a variant gives reaches
U-Boot through the generated device tree, a command is answered, poweroff ends the run
with status 0."""

from __future__ import annotations

import pytest

from qconf.config.units import parse_size


@pytest.mark.qconf(sweep=["ram.size=128MiB,256MiB"])
def test_dram_shows_the_ram_size(qconf_dut, qconf_variant):
    (tweak,) = qconf_variant.tweaks  # "ram.size=128MiB"
    size = parse_size(tweak.split("=", 1)[1])
    dram = qconf_dut.expect(r"DRAM:\s+(\d+) MiB", timeout="1s")
    assert int(dram.group(1)) * 1024 * 1024 == size
    assert qconf_dut.qom_get("/machine/ram", "size") == size


def test_version_is_answered(prompt):
    prompt.write("version\n")
    assert prompt.expect(r"U-Boot (\d{4}\.\d{2})").group(1) == "2023.01"
    prompt.expect_exact("=> ")


def test_poweroff_ends_the_run_with_status_0(prompt):
    prompt.write("poweroff\n")
    assert prompt.wait_exit(timeout="1s") == 0
    stats = prompt.stats
    assert stats.total > 10_000_000  # the boot ran (about 11 million instructions)
    assert prompt.console.lines(2) == ["=> poweroff", "poweroff ..."]


def test_time_passes_in_the_guest_only(prompt):
    """U-Boot's sleep takes a second of guest time, not of the host's."""
    before = prompt.now_ns
    prompt.write("sleep 1\n")
    prompt.expect_exact("=> ", timeout="2s")
    assert 1_000_000_000 <= prompt.now_ns - before < 1_100_000_000
