"""Debian 12's arm64 installer kernel and initrd on machines/linux-arm64 (they come with
Debian's debian-installer-12-netboot-arm64 package): to "Run /init" twice with the same
instruction count, two CPUs brought up, and (slow) the installer's first screen, where
Enter moves on."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import qconf
from qconf.emu.chardev import MemoryChardev
from qconf.emu.emulator import Emulator
from qconf.emu.scheduler import Outcome
from tests.external import require_file
from tests.helpers import MACHINES

BOARD = str(MACHINES / "linux-arm64" / "board.yaml")
IMAGES = "/usr/lib/debian-installer/images/12/arm64/text/debian-installer/arm64"
KERNEL, INITRD = f"{IMAGES}/linux", f"{IMAGES}/initrd.gz"
PACKAGE = "debian-installer-12-netboot-arm64"
CONSOLE = "/machine/backends/chardev/uart0"
RUN_INIT = b"Run /init as init process"


class Watched(MemoryChardev):
    """A console that stops the run once its output satisfies ``until``: from the UART's
    write, so the run ends at the next block whatever the host's speed (a controller
    polled between slices would end it at a slice that depends on host time)."""

    def __init__(self, until: Callable[[bytes], bool]) -> None:
        super().__init__()
        self.until = until
        self.stop: Callable[[int, str], None] = lambda code, reason: None

    def write(self, data: bytes) -> None:
        super().write(data)
        if self.until(bytes(self.output[-4096:])):
            self.stop(0, "seen on the console")


def boot(
    until: Callable[[bytes], bool], board: str = BOARD,
    keys: list[tuple[bytes, bytes]] | None = None, max_insns: int = 12_000_000_000,
) -> tuple[Outcome, bytes]:  # fmt: skip
    """Boot ``board`` until the console's output satisfies ``until``."""
    require_file(KERNEL, PACKAGE)
    machine = qconf.build(qconf.resolve([board]))
    console = Watched(until)
    emulator = Emulator(machine, {CONSOLE: console}, keys)
    console.stop = emulator.request_stop
    try:
        emulator.prepare()
        outcome = emulator.run(max_insns)
    finally:
        emulator.close()
        machine.destroy()
    return outcome, bytes(console.output)


def test_debian_kernel_reaches_init_with_the_same_count_every_run():
    counts = []
    for _ in range(2):
        outcome, out = boot(lambda out: RUN_INIT in out)
        assert outcome.exit_code == 0, (outcome.reason, out[-3000:])
        assert b"Machine model: linux,dummy-virt" in out
        assert b"Trying to unpack rootfs image as initramfs" in out
        assert b"rtc-pl031 9010000.pl031: setting system clock to 2025-01-01T00:00" in out
        counts.append(outcome.instructions)
    assert counts[0] == counts[1]


def test_two_cpus_are_brought_up(tmp_path):
    """``smp: 2`` copies cpu0 (MPIDR 1, its own GIC CPU interface); the copy starts
    powered off and the kernel turns it on with PSCI CPU_ON."""
    board = tmp_path / "smp2.yaml"
    board.write_text(f"extends: {BOARD}\nsmp: 2\n")
    outcome, out = boot(lambda out: b"smp: Brought up" in out and out.endswith(b"\n"), str(board),
                        max_insns=2_000_000_000)  # fmt: skip
    assert outcome.exit_code == 0, (outcome.reason, out[-3000:])
    assert b"smp: Brought up 1 node, 2 CPUs" in out
    assert b"CPU1: Booted secondary processor 0x0000000001" in out


@pytest.mark.slow
def test_installer_shows_its_first_screen_and_enter_moves_on():
    outcome, out = boot(
        lambda out: b"Select your location" in out,
        keys=[(b"Select a language", b"\r")],
    )
    assert outcome.exit_code == 0, (outcome.reason, out[-3000:])
    screen = out[out.index(b"Select a language") :]
    assert b"Choose the language to be used for the installation process" in screen
    assert b"[!!] Select your location" in screen
