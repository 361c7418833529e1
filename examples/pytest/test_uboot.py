"""U-Boot on the riscv64 and arm64 example boards: the RAM size a variant gives reaches
U-Boot through the generated device tree, a command is answered, poweroff ends the run
with status 0.

The tests marked ``AT_THE_PROMPT`` start at U-Boot's prompt: the session boots each board
once, saves a checkpoint there, and every such test starts from it (in a tenth of the
time of a boot)."""

from __future__ import annotations

import pytest

from qconf.config.units import parse_size

AT_THE_PROMPT = pytest.mark.qconf(checkpoint=[("Hit any key to stop autoboot", "\n"), "=> "])


@pytest.mark.qconf(sweep=["ram.size=128MiB,256MiB"])
def test_dram_shows_the_ram_size(qconf_dut, qconf_variant):
    (tweak,) = qconf_variant.tweaks  # "ram.size=128MiB"
    size = parse_size(tweak.split("=", 1)[1])
    dram = qconf_dut.expect(r"DRAM:\s+(\d+) MiB", timeout="1s")
    assert int(dram.group(1)) * 1024 * 1024 == size
    assert qconf_dut.qom_get("/machine/ram", "size") == size


@AT_THE_PROMPT
def test_version_is_answered(qconf_dut):
    qconf_dut.write("version\n")
    assert qconf_dut.expect(r"U-Boot (\d{4}\.\d{2})").group(1) == "2023.01"
    qconf_dut.expect_exact("=> ")


@AT_THE_PROMPT
def test_poweroff_ends_the_run_with_status_0(qconf_dut):
    qconf_dut.write("poweroff\n")
    assert qconf_dut.wait_exit(timeout="1s") == 0
    stats = qconf_dut.stats
    assert stats.total > 10_000_000  # the boot before the checkpoint counts (about 11 M)
    assert qconf_dut.console.lines(2) == ["poweroff", "poweroff ..."]


@AT_THE_PROMPT
def test_time_passes_in_the_guest_only(qconf_dut):
    """U-Boot's sleep takes a second of guest time, not of the host's."""
    before = qconf_dut.now_ns
    qconf_dut.write("sleep 1\n")
    qconf_dut.expect_exact("=> ", timeout="2s")
    assert 1_000_000_000 <= qconf_dut.now_ns - before < 1_100_000_000


def test_a_cold_boot_reaches_the_prompt(qconf_dut):
    qconf_dut.expect("Hit any key to stop autoboot")
    qconf_dut.write("\n")
    qconf_dut.expect_exact("=> ")
    assert qconf_dut.now_ns < 100_000_000  # the boot takes under 0.1 s of guest time
