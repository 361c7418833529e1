"""Benchmark: guest stores, on this environment's Unicorn (and another's), beside QEMU.

Unicorn 2.1.4 sends every store to executable RAM down its slow path; the store-fix
engine (``qconf engine build``, docs/engine.md) does not. In one run, on the guests of
``machines/guests/riscv``:

* raw Unicorn, no hooks, one ``emu_start``: ``loadloop.elf`` (a 7-instruction xorshift
  loop with a load), ``storeloop.elf`` (the same with a store to a data page) and
  ``codestoreloop.elf`` (a store into the loop's own code page), in MIPS;
* qconf (``riscv-virt``, the emulator as ``qconf run`` runs it, the build not counted):
  ``storeloop.elf`` and ``stores.elf`` (fill, memset, memcpy, merge sort and byte counts
  over 64 KiB arrays, in C), in seconds;
* QEMU 7.2 (``qemu-system-riscv64 -M virt -bios none``): the same two, its start-up (a
  run of the same ELF with no iterations) subtracted.

Each engine is measured in a process of its own environment: this one's, and with
``--compare PYTHON`` another's (the interpreter of a virtual environment with the other
engine installed); their runs alternate, and the best of ``--repeat`` is kept. Both
environments must run this checkout's qconf (an editable install): one with qconf
installed from an older copy would time that copy's code, so the bench stops. The
figures carry each engine's name and whether qconf's native hooks ran; ``identical``
says whether ``stores.elf`` printed the same on every engine and QEMU, after the same
instruction count on every engine (the exit status is 1 if not).

Run::

    python bench/stores.py
    python bench/stores.py --compare .venv-engine/bin/python --json
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from results import print_results

REPO = Path(__file__).resolve().parent.parent
GUESTS = REPO / "machines" / "guests" / "riscv"
LOOP_INSNS = 7  # per iteration of memloop.S


def patched(elf: Path, iterations: int, directory: Path) -> Path:
    """A copy of ``elf`` whose ``iterations`` word holds ``iterations``."""
    from elftools.elf.elffile import ELFFile

    data = bytearray(elf.read_bytes())
    with elf.open("rb") as f:
        e = ELFFile(f)
        sym = e.get_section_by_name(".symtab").get_symbol_by_name("iterations")[0]
        for seg in e.iter_segments():
            lo = seg["p_vaddr"]
            if seg["p_type"] == "PT_LOAD" and lo <= sym["st_value"] < lo + seg["p_filesz"]:
                offset = seg["p_offset"] + sym["st_value"] - lo
                data[offset : offset + 4] = iterations.to_bytes(4, "little")
    out = directory / f"{elf.stem}-{iterations}.elf"
    out.write_bytes(bytes(data))
    return out


# --- measured in the engine's own process (--engine-only) ------------------------------


def raw_unicorn(elf: Path) -> float:
    """Seconds for one hook-free ``emu_start`` of ``elf`` until it powers off."""
    from elftools.elf.elffile import ELFFile
    from unicorn import UC_ARCH_RISCV, UC_MODE_RISCV64, Uc

    uc = Uc(UC_ARCH_RISCV, UC_MODE_RISCV64)
    uc.mem_map(0x8000_0000, 16 << 20)
    with elf.open("rb") as f:
        e = ELFFile(f)
        for seg in e.iter_segments():
            if seg["p_type"] == "PT_LOAD":
                uc.mem_write(seg["p_paddr"], seg.data())
        entry = e["e_entry"]
    uc.mmio_map(0x10_0000, 0x1000, lambda *a: 0, None, lambda uc, *a: uc.emu_stop(), None)
    uc.mmio_map(0x1000_0000, 0x1000, lambda *a: 0x60, None, lambda *a: None, None)
    t0 = time.perf_counter()
    uc.emu_start(entry, 0xFFFF_FFFF_FFFF_FFFF)
    return time.perf_counter() - t0


def qconf_run(elf: Path) -> tuple[float, str, int]:
    """Seconds, console output and instruction count of ``elf`` on riscv-virt under
    qconf (the build not counted)."""
    import qconf
    from qconf.emu.chardev import MemoryChardev
    from qconf.emu.emulator import run

    machine = qconf.build(qconf.resolve(["riscv-virt"], [f"cpu0.firmware={elf}"]))
    console = MemoryChardev()
    t0 = time.perf_counter()
    outcome = run(machine, chardevs={"/machine/backends/chardev/soc-uart0": console})
    took = time.perf_counter() - t0
    machine.destroy()
    assert outcome.exit_code == 0, outcome.reason
    return took, console.output.decode(), sum(outcome.instructions.values())


def engine_figures(loops: int, rounds: int) -> dict[str, Any]:
    """One measurement of every engine-side figure, in this process."""
    import qconf
    from qconf.emu import native
    from qconf.engine import installed

    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        load = patched(GUESTS / "loadloop.elf", loops, where)
        store = patched(GUESTS / "storeloop.elf", loops, where)
        codestore = patched(GUESTS / "codestoreloop.elf", loops // 10, where)
        stores = patched(GUESTS / "stores.elf", rounds, where)
        out: dict[str, Any] = {"engine": str(installed()), "native": native.hooks() is not None,
                               "qconf": str(Path(qconf.__file__).resolve().parent)}  # fmt: skip
        out["raw_load_s"] = raw_unicorn(load)
        out["raw_store_s"] = raw_unicorn(store)
        out["raw_codestore_s"] = raw_unicorn(codestore)
        out["qconf_storeloop_s"] = qconf_run(store)[0]
        out["qconf_stores_s"], out["stores_output"], out["stores_instructions"] = qconf_run(stores)
    return out


# --- the driver ---------------------------------------------------------------------------


def qemu(elf: Path) -> tuple[float, str] | None:
    """Seconds for QEMU to run ``elf`` (start-up included), and its console output."""
    exe = shutil.which("qemu-system-riscv64")
    if exe is None:
        return None
    t0 = time.perf_counter()
    done = subprocess.run([exe, "-M", "virt", "-bios", "none", "-display", "none", "-monitor",
                           "none", "-serial", "stdio", "-kernel", str(elf)],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return time.perf_counter() - t0, done.stdout


def measure(python: str, loops: int, rounds: int) -> dict[str, Any]:
    done = subprocess.run([python, __file__, "--engine-only", "--loops", str(loops),
                           "--rounds", str(rounds)], capture_output=True, text=True,
                          check=False)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"{python}: {done.stderr.strip()}")
    result: dict[str, Any] = json.loads(done.stdout)
    # an environment with qconf installed (not editable) would time that copy's code
    if Path(result["qconf"]) != REPO / "qconf":
        raise SystemExit(f"{python} runs the qconf in {result['qconf']}, not this checkout's: "
                         f"pip install -e {REPO} in its environment")  # fmt: skip
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=20_000_000,
                        help="iterations of the load and store loops")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=16, help="rounds of stores.elf")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--compare", metavar="PYTHON",
                        help="another environment's Python: its engine measured too")  # fmt: skip
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--engine-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.engine_only:
        json.dump(engine_figures(args.loops, args.rounds), sys.stdout)
        return 0
    pythons = [sys.executable] + ([args.compare] if args.compare else [])
    runs: list[list[dict[str, Any]]] = [[] for _ in pythons]
    qemu_store: list[float] = []
    qemu_stores: list[float] = []
    qemu_output = None
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        store, store_none = (patched(GUESTS / "storeloop.elf", n, where) for n in (args.loops, 1))
        stores, stores_none = (patched(GUESTS / "stores.elf", n, where) for n in (args.rounds, 0))
        for _ in range(args.repeat):
            for i, python in enumerate(pythons):
                runs[i].append(measure(python, args.loops, args.rounds))
            q = [qemu(elf) for elf in (store, store_none, stores, stores_none)]
            if all(q):
                qemu_store.append(q[0][0] - q[1][0])  # type: ignore[index]
                qemu_stores.append(q[2][0] - q[3][0])  # type: ignore[index]
                qemu_output = q[2][1]  # type: ignore[index]
    # QEMU's start-up is subtracted: on runs too short to outlast its noise, no figure
    if qemu_store and min(qemu_store + qemu_stores) <= 0:
        qemu_store, qemu_stores = [], []
    loop_insns = args.loops * LOOP_INSNS
    result: dict[str, Any] = {"loop_instructions": loop_insns,
                              "stores_rounds": args.rounds}  # fmt: skip
    if qemu_store:
        result["qemu_storeloop_s"] = round(min(qemu_store), 3)
        result["qemu_storeloop_mips"] = round(loop_insns / min(qemu_store) / 1e6, 1)
        result["qemu_stores_s"] = round(min(qemu_stores), 3)
    for i, measured in enumerate(runs):
        tag = f"engine{i + 1}"
        best = {k: min(m[k] for m in measured) for k in measured[0] if k.endswith("_s")}
        result[tag] = measured[0]["engine"]
        result[f"{tag}_native_hooks"] = measured[0]["native"]
        result[f"{tag}_raw_load_mips"] = round(loop_insns / best["raw_load_s"] / 1e6, 1)
        result[f"{tag}_raw_store_mips"] = round(loop_insns / best["raw_store_s"] / 1e6, 1)
        result[f"{tag}_raw_codestore_mips"] = round(
            loop_insns / 10 / best["raw_codestore_s"] / 1e6, 1
        )
        result[f"{tag}_qconf_storeloop_s"] = round(best["qconf_storeloop_s"], 3)
        result[f"{tag}_qconf_storeloop_mips"] = round(
            loop_insns / best["qconf_storeloop_s"] / 1e6, 1
        )
        result[f"{tag}_qconf_stores_s"] = round(best["qconf_stores_s"], 3)
        result[f"{tag}_stores_instructions"] = measured[0]["stores_instructions"]
        if qemu_store:
            result[f"{tag}_storeloop_over_qemu"] = round(
                best["qconf_storeloop_s"] / min(qemu_store), 2
            )
            result[f"{tag}_stores_over_qemu"] = round(best["qconf_stores_s"] / min(qemu_stores), 2)
    outputs = {m["stores_output"] for measured in runs for m in measured}
    counts = {m["stores_instructions"] for measured in runs for m in measured}
    same = len(outputs) == 1 and len(counts) == 1 and qemu_output in (None, *outputs)
    result["stores_output"] = sorted(outputs) if len(outputs) > 1 else outputs.pop()
    result["identical"] = same
    print_results(result, args.json)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
