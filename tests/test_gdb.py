"""Debugging: exact stops and steps on the cores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import qconf
from tests.helpers import MACHINES

GUESTS = MACHINES / "guests"
DEBUG = GUESTS / "debug"
BOARDS = {"riscv64": "riscv-virt", "aarch64": "arm64-virt", "cortex-m": "mps2-an385"}
ARCHS = list(BOARDS)


def _symbols(elf: Path) -> dict[str, int]:
    from elftools.elf.elffile import ELFFile

    with elf.open("rb") as f:
        table = ELFFile(f).get_section_by_name(".symtab")
        return {s.name: s["st_value"] & ~1 for s in table.iter_symbols() if s.name}


def _emulator(arch: str, timing: str) -> Any:
    from qconf.emu.emulator import Emulator

    sets = [f"cpu0.firmware={DEBUG / arch}.elf", f"timing={timing}"]
    machine = qconf.build(qconf.resolve([BOARDS[arch]], sets))
    emulator = Emulator(machine)
    emulator.prepare()
    return emulator


# --- on the cores: exact in both timings ------------------------------------------------------


@pytest.mark.parametrize("timing", ["fast", "exact"])
@pytest.mark.parametrize("arch", ARCHS)
def test_a_step_is_one_instruction(arch, timing):
    from qconf.debug.cpu import CoreDebug

    emulator = _emulator(arch, timing)
    try:
        core = emulator.cpus[0]
        core.debug = debug = CoreDebug(core)
        core.run(200)  # blocks translated whole, as a debugger finds them
        start, trail = core.instructions, []
        for _ in range(60):
            before = core.instructions
            debug.step(lambda budget: emulator.scheduler.run_alone(core, budget))
            assert core.instructions == before + 1, (hex(core.pc), trail[-3:])
            trail.append(core.pc)
        # the path the exact timing's own one-instruction slices take
        reference = _emulator(arch, "exact")
        try:
            ref = reference.cpus[0]
            ref.run(start)
            assert ref.instructions == start
            ref_trail = []
            for _ in range(60):
                ref.run(1)
                ref_trail.append(ref.pc)
            assert ref_trail == trail
        finally:
            reference.close()
    finally:
        emulator.close()


@pytest.mark.parametrize("timing", ["fast", "exact"])
@pytest.mark.parametrize("arch", ARCHS)
def test_breakpoints_and_watchpoints_stop_at_exact_counts(arch, timing):
    """A breakpoint stops before its instruction, a watchpoint before the access (its
    store undone); the counts are the same in both timings and in every run."""
    from qconf.debug.cpu import CoreDebug

    syms = _symbols(DEBUG / f"{arch}.elf")
    stops = []
    for _ in range(2):
        emulator = _emulator(arch, timing)
        try:
            core = emulator.cpus[0]
            core.debug = debug = CoreDebug(core)
            core.run(300)
            debug.apply({syms["square"]: 0}, {})
            seen = []
            for _ in range(3):
                core.run(10**6)
                assert debug.event == ("swbreak", syms["square"]) and core.pc == syms["square"]
                debug.event = None
                seen.append(core.instructions)
                debug.apply({}, {})
                debug.step(lambda budget, c=core, e=emulator: e.scheduler.run_alone(c, budget))
                debug.event = None
                debug.apply({syms["square"]: 0}, {})
            debug.apply({}, {(2, syms["counter"], 4): None})
            old = bytes(core.uc.mem_read(syms["counter"], 4))
            core.run(10**6)
            assert debug.event == ("watch", syms["counter"])
            assert bytes(core.uc.mem_read(syms["counter"], 4)) == old  # not stored yet
            seen.append(core.instructions)
            debug.event = None
            debug.apply({}, {})
            debug.step(lambda budget, c=core, e=emulator: e.scheduler.run_alone(c, budget))
            assert int.from_bytes(core.uc.mem_read(syms["counter"], 4), "little") == (
                int.from_bytes(old, "little") + 1
            )
            stops.append(seen)
        finally:
            emulator.close()
    assert stops[0] == stops[1]
    first, second, third, watch = stops[0]
    assert second - first == third - second  # one round of the loop each
    assert third < watch


def test_fast_and_exact_timing_stop_alike():
    counts = {}
    for timing in ("fast", "exact"):
        from qconf.debug.cpu import CoreDebug

        emulator = _emulator("riscv64", timing)
        try:
            core = emulator.cpus[0]
            core.debug = debug = CoreDebug(core)
            debug.apply({_symbols(DEBUG / "riscv64.elf")["square"]: 1}, {})
            core.run(10**6)
            assert debug.event is not None and debug.event[0] == "hwbreak"
            counts[timing] = core.instructions
        finally:
            emulator.close()
    assert counts["fast"] == counts["exact"]
