"""What the machine cache depends on: after each kind of change to what a run reads, a run
from the cache runs what a run without it runs (the new firmware, not the old)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from qconf.cache import MachineCache, cached_machine
from qconf.emu.chardev import MemoryChardev
from qconf.emu.emulator import run as emulate
from tests.helpers import MACHINES, write

HELLO = b"Hello from riscv-virt (rv64, ns16550a)\n"


def board(firmware: str, extends: str = "riscv-virt") -> str:
    return f"extends: {extends}\ncpu0:\n  firmware: {firmware}\n"


def link(at: Path, target: str) -> None:
    """Point the symbolic link ``at`` to ``target``, replacing what was there."""
    at.parent.mkdir(parents=True, exist_ok=True)
    at.unlink(missing_ok=True)
    at.symlink_to(target)


def files(*pairs: tuple[str, str]) -> Callable[[Path], None]:
    def make(work: Path) -> None:
        for name, text in pairs:
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            write(work, name, text)

    return make


def links(*pairs: tuple[str, str]) -> Callable[[Path], None]:
    def make(work: Path) -> None:
        for name, target in pairs:
            link(work / name, target)

    return make


def both(*steps: Callable[[Path], None]) -> Callable[[Path], None]:
    def make(work: Path) -> None:
        for step in steps:
            step(work)

    return make


@dataclass(frozen=True)
class Scenario:
    """A configuration that runs guests/a.elf, and a change after which it runs b.elf."""

    name: str
    setup: Callable[[Path], None]
    change: Callable[[Path], None]
    files: tuple[str, ...] = ("board.yaml",)
    include: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    env_after: tuple[tuple[str, str], ...] = ()


SCENARIOS = [
    Scenario("edit-the-board", files(("board.yaml", board("guests/a.elf"))),
             files(("board.yaml", board("guests/b.elf")))),
    Scenario("edit-an-included-file",
             files(("board.yaml", "extends: riscv-virt\ninclude: fw.yaml\n"),
                   ("fw.yaml", "cpu0:\n  firmware: guests/a.elf\n")),
             files(("fw.yaml", "cpu0:\n  firmware: guests/b.elf\n"))),
    Scenario("retarget-an-include-symlink",
             both(files(("board.yaml", "extends: riscv-virt\ninclude: links/fw.yaml\n"),
                        ("fws/a.yaml", "cpu0:\n  firmware: ../guests/a.elf\n"),
                        ("fws/b.yaml", "cpu0:\n  firmware: ../guests/b.elf\n")),
                  links(("links/fw.yaml", "../fws/a.yaml"))),
             links(("links/fw.yaml", "../fws/b.yaml"))),
    Scenario("retarget-a-folder-symlink-on-an-include-path",
             both(files(("board.yaml", "extends: riscv-virt\ninclude: sel/parts/fw.yaml\n"),
                        ("parts-a/fw.yaml", "cpu0:\n  firmware: ../guests/a.elf\n"),
                        ("parts-b/fw.yaml", "cpu0:\n  firmware: ../guests/b.elf\n")),
                  links(("sel/parts", "../parts-a"))),
             links(("sel/parts", "../parts-b"))),
    Scenario("switch-an-I-directory-symlink",
             both(files(("board.yaml", "extends: myboard\n"),
                        ("prof-a/myboard.yaml", board("../guests/a.elf")),
                        ("prof-b/myboard.yaml", board("../guests/b.elf"))),
                  links(("sel/current", "../prof-a"))),
             links(("sel/current", "../prof-b")), include=("sel/current",)),
    Scenario("retarget-the-directory-of-a-c-file",
             both(files(("v1/board.yaml", board("../guests/a.elf")),
                        ("v2/board.yaml", board("../guests/b.elf"))),
                  links(("sel/current", "../v1"))),
             links(("sel/current", "../v2")), files=("sel/current/board.yaml",)),
    Scenario("retarget-a-c-file-symlink",
             both(files(("boards/a.yaml", board("../guests/a.elf")),
                        ("boards/b.yaml", board("../guests/b.elf"))),
                  links(("sel/board.yaml", "../boards/a.yaml"))),
             links(("sel/board.yaml", "../boards/b.yaml")), files=("sel/board.yaml",)),
    Scenario("retarget-a-profile-symlink",
             both(files(("board.yaml", "extends: myboard\n"),
                        ("boards/a.yaml", board("../guests/a.elf")),
                        ("boards/b.yaml", board("../guests/b.elf"))),
                  links(("profs/myboard.yaml", "../boards/a.yaml"))),
             links(("profs/myboard.yaml", "../boards/b.yaml")), include=("profs",)),
    Scenario("add-a-profile-earlier-on-the-search-path",
             files(("board.yaml", "extends: myboard\n"),
                   ("later/myboard.yaml", board("../guests/a.elf")), ("first/.keep", "")),
             files(("first/myboard.yaml", board("../guests/b.elf"))),
             include=("first",), env=(("QCONF_PATH", "later"),)),
    Scenario("change-QCONF_PATH",
             files(("board.yaml", "extends: myboard\n"),
                   ("pa/myboard.yaml", board("../guests/a.elf")),
                   ("pb/myboard.yaml", board("../guests/b.elf"))),
             lambda work: None, env=(("QCONF_PATH", "pa"),), env_after=(("QCONF_PATH", "pb"),)),
    Scenario("replace-the-firmware-file",
             files(("board.yaml", board("guests/fw.elf"))),
             lambda work: shutil.copy(work / "guests" / "b.elf", work / "guests" / "fw.elf")),
    Scenario("retarget-a-firmware-symlink",
             both(files(("board.yaml", board("guests/fw.elf"))), links(("guests/fw.elf", "a.elf"))),
             links(("guests/fw.elf", "b.elf"))),
]  # fmt: skip


def run(scenario: Scenario, cache: MachineCache | None) -> tuple[str, bytes]:
    machine, how = cached_machine(scenario.files, (), scenario.include, cache)
    uart = MemoryChardev()
    try:
        outcome = emulate(machine, chardevs={"/machine/backends/chardev/soc-uart0": uart})
    finally:
        machine.destroy()
    assert outcome.exit_code == 0, outcome.reason
    return how, bytes(uart.output)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_after_a_change_the_cache_runs_what_a_run_without_it_runs(
    scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    (work / "guests").mkdir(parents=True)
    shutil.copy(MACHINES / "guests" / "riscv" / "hello.elf", work / "guests" / "a.elf")
    shutil.copy(MACHINES / "guests" / "riscv" / "timer.elf", work / "guests" / "b.elf")
    shutil.copy(work / "guests" / "a.elf", work / "guests" / "fw.elf")
    monkeypatch.chdir(work)
    monkeypatch.setenv("QCONF_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("QCONF_PATH", raising=False)
    for name, value in scenario.env:
        monkeypatch.setenv(name, value)
    scenario.setup(work)
    cache = MachineCache()
    assert run(scenario, cache) == ("stored", HELLO)
    assert run(scenario, cache) == ("hit", HELLO)
    scenario.change(work)
    for name, value in scenario.env_after:
        monkeypatch.setenv(name, value)
    fresh = run(scenario, None)
    assert fresh[1] != HELLO and fresh[1].endswith(b"done\n")  # the change took
    how, output = run(scenario, cache)
    assert output == fresh[1]
    if scenario.name.endswith("firmware-file") or scenario.name.endswith("firmware-symlink"):
        assert how == "hit"  # images are read on every run: the snapshot names them
    else:
        assert how == "stored"
