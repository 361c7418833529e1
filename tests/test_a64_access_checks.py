"""AArch64 cores without Unicorn's check after every memory access
(qconf/arch/aarch64/engine.py), and the stores their TLB fill refuses instead
(qconf/arch/aarch64/stores.py): the same faults, at the same instruction, with the
native hooks and the Python ones, with the check and without."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

import qconf
from qconf.arch.aarch64 import engine
from qconf.cli import main
from qconf.emu.chardev import MemoryChardev
from qconf.emu.emulator import Emulator
from tests.external import require_native
from tests.helpers import MACHINES, write

GUESTS = MACHINES / "guests" / "aarch64"


def known_build() -> bool:
    from unicorn.unicorn_py3 import unicorn as binding

    return bool(binding.uclib.uc_version(None, None) == engine.VERSION)


@pytest.fixture
def mode(monkeypatch, request):
    """``mode(native, checks)``: the native hooks or the Python ones; Unicorn's check after
    every access kept (``checks``) or left out, for the next runs."""
    from qconf.emu import native

    def use(on: bool, checks: bool) -> None:
        monkeypatch.setenv("QCONF_NO_NATIVE", "0" if on else "1")
        native._load.cache_clear()
        if on and native.hooks() is None:
            require_native()
        if checks:
            monkeypatch.setattr(engine, "skip_access_checks", lambda uc: False)
        elif not known_build():
            pytest.skip("not the Unicorn build whose engine layout qconf knows")

    request.addfinalizer(native._load.cache_clear)
    return use


MODES = [(n, c) for n in (True, False) for c in (True, False)]
IDS = [f"{'native' if n else 'python'}-{'checks' if c else 'no-checks'}" for n, c in MODES]


STORES = [("romstore", "write to read-only memory"), ("holestore", "write to unmapped memory")]


@pytest.mark.parametrize(("program", "cause"), STORES)
@pytest.mark.parametrize(("native", "checks"), MODES, ids=IDS)
def test_a_refused_store_ends_the_run_at_the_store(tmp_path, mode, program, cause, native, checks):
    mode(native, checks)
    board = write(tmp_path, "board.yaml",
                  f"extends: arm64-virt\ncpu0:\n  firmware: {GUESTS / program}.elf\n")  # fmt: skip
    r = CliRunner().invoke(main, ["run", "--no-cache", "-c", str(board), "--stats"])
    assert r.exit_code == 3, r.output
    assert f"/machine/cpu0 (aarch64) at pc 0x4008000c: {cause}\n" in r.stderr
    assert re.search(r"x2=0x0+1\b", r.stderr)  # the add before the store ran, none after
    assert "/machine/cpu0: 4 instructions" in r.stderr


def boot(text: str, tmp_path) -> tuple[Emulator, object]:
    board = write(tmp_path, "board.yaml", text)
    machine = qconf.build(qconf.resolve([str(board)]))
    emulator = Emulator(machine, {"/machine/backends/chardev/uart0": MemoryChardev()})
    emulator.prepare()
    return emulator, machine


def test_checks_are_left_out_in_fast_timing_only_until_a_debugger_attaches(tmp_path):
    from qconf.emu import native

    if not known_build():
        pytest.skip("not the Unicorn build whose engine layout qconf knows")
    hello = f"extends: arm64-virt\ncpu0:\n  firmware: {GUESTS / 'hello.elf'}\n"
    emulator, machine = boot(hello, tmp_path)
    try:
        core = emulator.cpus[0]
        assert not core.access_checks
        flag = engine._field(core.uc)
        # the store-fix engine has a switch of its own (uc_qconf_lean_memory): no field
        lean = native.engine_symbol("uc_qconf_lean_memory") is not None
        assert flag is not None and flag.value == (0 if lean else 1)
        core.debugged()
        assert core.access_checks and flag.value == 0
    finally:
        emulator.close()
        machine.destroy()
    emulator, machine = boot(hello + "timing: exact\n", tmp_path)
    try:
        core = emulator.cpus[0]
        assert core.access_checks
        flag = engine._field(core.uc)
        assert flag is not None and flag.value == 0
    finally:
        emulator.close()
        machine.destroy()


def test_the_store_map_is_unicorns(tmp_path):
    """ROM without stores, RAM and device windows with them, nothing elsewhere."""
    from qconf.arch.aarch64.stores import store_target

    hello = f"extends: arm64-virt\ncpu0:\n  firmware: {GUESTS / 'hello.elf'}\n"
    emulator, machine = boot(hello, tmp_path)
    try:
        spans = emulator.cpus[0].mmu.spans
        assert (0, 64 << 20, False) in spans
        assert [store_target(spans, a) for a in (0x1000, 0x4000_0000, 0x0900_0000, 0x1000_0000)] \
            == [1, 0, 0, 2]  # fmt: skip
        assert store_target([], 0x1000_0000) == 0  # no map: every store taken
    finally:
        emulator.close()
        machine.destroy()
