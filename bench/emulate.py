"""Benchmark: guest instructions per second under qconf, against raw Unicorn, QEMU and
QEMU's deterministic mode.

In one run, on the same guest ELFs (``machines/guests/*/loop.S``: a 6-instruction
xorshift loop; ``loop30.S``: a 30-instruction one; on riscv64 also ``storeloop``, the
7-instruction loop of ``memloop.S`` with a store to a data page, where Unicorn 2.1.4's
slow store path shows (docs/engine.md); the iteration count patched into a copy), each
configuration in a fresh process (so that no engine's translation buffer,
nor memory faulted in by an earlier measurement, affects the next):

* ``raw``: a bare Unicorn engine (its translation buffer bounded as qconf bounds its
  own), the ELF loaded, one ``emu_start`` with no hooks until the guest stops: the
  ceiling;
* ``counter``: the same with qconf's fast-timing counter alone (its block hook and block
  table, a budget that never runs out): what Unicorn charges for a block hook;
* ``qconf`` and ``qconf_exact``: ``Emulator.run`` (quanta, virtual time, devices; its
  set-up, like raw Unicorn's, not timed) in fast and in exact timing;
* ``qemu`` and ``qemu_icount``: QEMU 7.2 (``qemu-system-*``), plain and with
  ``-icount shift=0,sleep=off`` (its deterministic mode), start-up time (measured with
  one iteration) subtracted;

on one CPU (riscv64) and on three (riscv64 + aarch64 + Cortex-M4 in one qconf machine,
against the three loops run one after the other elsewhere; not for ``storeloop``, which
is riscv64's alone); and an MMIO-heavy guest
(``uartflood.S``) under qconf, in UART writes per second. Each figure is the best of
``--repeat``; ratios are qconf's time against the other's (above 1: qconf is faster).

Run::

    python bench/emulate.py                        # 300M instructions per loop
    python bench/emulate.py --instructions 30000000 --repeat 1 --json
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
GUESTS = REPO / "machines" / "guests"
LOOPS = {"loop6": ("loop", 6), "loop30": ("loop30", 30), "storeloop": ("storeloop", 7)}
"""Each loop's ELF (riscv64's ``storeloop`` has no aarch64 or Cortex-M twin) and its
instructions per iteration."""
ARCHS = ("riscv64", "aarch64", "cortex-m4")
DIRS = {"riscv64": "riscv", "aarch64": "aarch64", "cortex-m4": "cortex-m"}
QEMU = {
    "riscv64": ["qemu-system-riscv64", "-M", "virt", "-bios", "none"],
    "aarch64": ["qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a57"],
    "cortex-m4": ["qemu-system-arm", "-M", "mps2-an386", "-semihosting"],
}
TCG_BUFFER = 64 << 20  # as qconf places its engines (qconf.emu.core.TCG_BUFFER)


def patched(arch: str, loop: str, iterations: int, directory: Path, halt: bool) -> Path:
    """A copy of ``arch``'s ``loop`` ELF running ``iterations`` rounds; with ``halt``, the
    aarch64 and Cortex-M loops power off at the end (else they wait, as in a machine
    where the riscv64 core ends the run)."""
    from elftools.elf.elffile import ELFFile

    elf = GUESTS / DIRS[arch] / f"{LOOPS[loop][0]}.elf"
    data = bytearray(elf.read_bytes())
    with elf.open("rb") as f:
        e = ELFFile(f)
        symbols = e.get_section_by_name(".symtab")
        words = {"iterations": iterations, "halt": int(halt)}
        for name, value in words.items():
            found = symbols.get_symbol_by_name(name)
            if not found:
                continue
            address = found[0]["st_value"]
            for seg in e.iter_segments():
                lo = seg["p_vaddr"]
                if seg["p_type"] == "PT_LOAD" and lo <= address < lo + seg["p_filesz"]:
                    offset = seg["p_offset"] + address - lo
                    data[offset : offset + 4] = value.to_bytes(4, "little")
    out = directory / f"{arch}-{loop}-{iterations}-{int(halt)}.elf"
    out.write_bytes(bytes(data))
    return out


# --- the measurements, each run in a process of its own (--one) ----------------------


def raw(arch: str, elf: str, counter: bool) -> float:
    """Seconds for one hook-free run of ``elf`` on a bare engine (with ``counter``: with
    qconf's fast-timing counter and an endless budget)."""
    import unicorn as u
    from elftools.elf.elffile import ELFFile

    with open(elf, "rb") as f:
        e = ELFFile(f)
        chunks = [(s["p_paddr"], s.data()) for s in e.iter_segments() if s["p_type"] == "PT_LOAD"]
        entry = e["e_entry"]
    kind, until = "fixed4", 0xFFFF_FFFF_FFFF_FFFF
    if arch == "riscv64":
        uc, base = u.Uc(u.UC_ARCH_RISCV, u.UC_MODE_RISCV64), 0x8000_0000
        kind = "riscv"
    elif arch == "aarch64":
        uc, base = u.Uc(u.UC_ARCH_ARM64, u.UC_MODE_ARM), 0x4000_0000
    else:
        uc, base, kind = u.Uc(u.UC_ARCH_ARM, u.UC_MODE_THUMB | u.UC_MODE_MCLASS), 0, "thumb"
        entry = int.from_bytes(chunks[0][1][4:8], "little")
        until = 0xFFFF_FFFF
    uc.ctl_set_tcg_buffer_size(TCG_BUFFER)
    uc.mem_map(base, 16 << 20)
    uc.mem_map(0x2000_0000, 1 << 20)
    for address, data in chunks:
        uc.mem_write(address, data)
    if arch == "riscv64":  # the test finisher ends the run; the UART is always ready
        uc.mmio_map(0x10_0000, 0x1000, lambda *a: 0, None, lambda uc, *a: uc.emu_stop(), None)
        uc.mmio_map(0x1000_0000, 0x1000, lambda *a: 0x60, None, lambda *a: None, None)
    else:  # the others stop at their wfi
        image = b"".join(d for _, d in chunks)
        wfi = b"\x7f\x20\x03\xd5" if arch == "aarch64" else b"\x30\xbf"
        until = chunks[0][0] + image.index(wfi)
    if counter:
        from qconf.emu.counting import make_counter

        make_counter(uc, kind, exact=False).arm(1 << 60)
    t0 = time.perf_counter()
    uc.emu_start(entry, until)
    return time.perf_counter() - t0


HETERO3 = """\
type: machine
timing: {timing}
rv:
  type: container
  address_space: true
  cpu0: {{type: riscv64, firmware: {rv}}}
  ram: {{type: ram, base: 0x8000_0000, size: 16MiB}}
  test: {{type: sifive-test, base: 0x10_0000}}
a64:
  type: container
  address_space: true
  cpu0: {{type: aarch64, firmware: {a64}}}
  ram: {{type: ram, base: 0x4000_0000, size: 16MiB}}
mcu:
  type: container
  address_space: true
  cpu0: {{type: cortex-m4, freq: 1GHz}}
  boot: {{type: image, file: {cm}, target: /mcu/cpu0}}
  flash: {{type: ram, base: 0x0, size: 256KiB}}
  sram: {{type: ram, base: 0x2000_0000, size: 128KiB}}
  nvic: {{type: nvic}}
"""


def qconf_run(elves: list[str], timing: str, sets: list[str]) -> float:
    """Seconds for ``Emulator.run`` (the build and the set-up not counted, as for raw
    Unicorn): one ELF on riscv-virt, or three on a three-CPU machine (until the riscv64
    loop powers off)."""
    import qconf
    from qconf.emu.chardev import NullChardev
    from qconf.emu.emulator import Emulator

    if len(elves) == 1:
        layers: list[Any] = ["riscv-virt"]
        sets = [f"cpu0.firmware={elves[0]}", f"timing={timing}", *sets]
    else:
        board = Path(elves[0]).parent / "hetero3.yaml"
        board.write_text(HETERO3.format(rv=elves[0], a64=elves[1], cm=elves[2], timing=timing))
        layers = [board]
    machine = qconf.build(qconf.resolve(layers, sets))
    chardevs = {"/machine/backends/chardev/soc-uart0": NullChardev()} if len(elves) == 1 else {}
    emulator = Emulator(machine, chardevs)
    emulator.prepare()  # engines made, memory mapped, images loaded: as raw() before its clock
    t0 = time.perf_counter()
    outcome = emulator.run()
    took = time.perf_counter() - t0
    emulator.close()
    machine.destroy()
    assert outcome.exit_code == 0, outcome.reason
    return took


def qemu(arch: str, elf: str, icount: bool) -> float | None:
    """Seconds for QEMU to run ``elf`` to its power-off (start-up included)."""
    command = QEMU[arch]
    if shutil.which(command[0]) is None:
        return None
    extra = ["-icount", "shift=0,sleep=off"] if icount else []
    t0 = time.perf_counter()
    subprocess.run([*command, *extra, "-display", "none", "-monitor", "none", "-serial", "null",
                    "-kernel", elf], check=True, timeout=600)  # fmt: skip
    return time.perf_counter() - t0


def one(kind: str, *args: Any) -> Any:
    """One measurement in a new process."""
    done = subprocess.run([sys.executable, __file__, "--one", json.dumps([kind, *args])],
                          capture_output=True, text=True, check=True, cwd=REPO)  # fmt: skip
    return json.loads(done.stdout.splitlines()[-1])


def measure(kind: str, *args: Any) -> Any:
    if kind == "raw":
        return raw(args[0], args[1], args[2])
    if kind == "qconf":
        return qconf_run(args[0], args[1], args[2])
    return qemu(args[0], args[1], args[2])


def best(repeat: int, kind: str, *args: Any) -> float | None:
    results = [one(kind, *args) for _ in range(repeat)]
    return None if None in results else min(results)


def ratio(mine: float | None, other: float | None) -> float | None:
    return round(other / mine, 3) if mine and other else None


def mips(insns: int, seconds: float | None) -> float | None:
    return round(insns / seconds / 1e6, 1) if seconds else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instructions", type=int, default=300_000_000,
                        help="guest instructions per loop and CPU (default 300M)")  # fmt: skip
    parser.add_argument("--uart-writes", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--set", dest="sets", action="append", default=[],
                        help="a --set for one-CPU qconf runs (quantum=100000)")  # fmt: skip
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print("\n" + json.dumps(measure(*json.loads(args.one))))
        return 0
    rows: dict[str, Any] = {}
    rep = args.repeat
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        for loop, (_, per) in LOOPS.items():
            n = args.instructions // per
            insns = n * per
            archs = ("riscv64",) if loop == "storeloop" else ARCHS
            elves = {a: str(patched(a, loop, n, d, halt=False)) for a in archs}
            starts = {a: str(patched(a, loop, 1, d, halt=True)) for a in archs}
            rv = elves["riscv64"]
            t: dict[str, float | None] = {
                "raw": best(rep, "raw", "riscv64", rv, False),
                "counter": best(rep, "raw", "riscv64", rv, True),
                "qconf": best(rep, "qconf", [rv], "fast", args.sets),
                "qconf_exact": best(rep, "qconf", [rv], "exact", args.sets),
            }
            for name, icount in (("qemu", False), ("qemu_icount", True)):
                full = best(rep, "qemu", "riscv64", rv, icount)
                start = best(rep, "qemu", "riscv64", starts["riscv64"], icount)
                t[name] = full - start if full is not None and start is not None else None
            rows[f"{loop}_instructions"] = insns
            for name, seconds in t.items():
                rows[f"{loop}_{name}_mips"] = mips(insns, seconds)
            for name in ("raw", "counter", "qemu", "qemu_icount"):
                rows[f"{loop}_qconf_over_{name}"] = ratio(t["qconf"], t[name])
            rows[f"{loop}_qconf_exact_over_raw"] = ratio(t["qconf_exact"], t["raw"])
            rows[f"{loop}_qconf_exact_over_qemu_icount"] = ratio(t["qconf_exact"],
                                                                 t["qemu_icount"])  # fmt: skip
            if loop == "storeloop":  # riscv64's alone
                continue
            # three CPUs: one qconf machine against the three loops one after the other
            het: dict[str, float | None] = {
                "qconf": best(rep, "qconf", [elves[a] for a in ARCHS], "fast", []),
                "qconf_exact": best(rep, "qconf", [elves[a] for a in ARCHS], "exact", []),
            }
            halting = {a: str(patched(a, loop, n, d, halt=True)) for a in ARCHS}
            parts: dict[str, list[float | None]] = {"raw": [], "qemu": [], "qemu_icount": []}
            for a in ARCHS:
                parts["raw"].append(best(rep, "raw", a, elves[a], False))
                for name, icount in (("qemu", False), ("qemu_icount", True)):
                    full = best(rep, "qemu", a, halting[a], icount)
                    start = best(rep, "qemu", a, starts[a], icount)
                    ok = full is not None and start is not None
                    parts[name].append(full - start if ok else None)  # type: ignore[operator]
            for name, values in parts.items():
                het[name] = None if None in values else sum(values)  # type: ignore[arg-type]
            for name, seconds in het.items():
                rows[f"{loop}_3cpu_{name}_mips"] = mips(3 * insns, seconds)
            for name in ("raw", "qemu", "qemu_icount"):
                rows[f"{loop}_3cpu_qconf_over_{name}"] = ratio(het["qconf"], het[name])
        uart = GUESTS / "riscv" / "uartflood.elf"
        from elftools.elf.elffile import ELFFile  # the flood guest's count word

        data = bytearray(uart.read_bytes())
        with uart.open("rb") as f:
            e = ELFFile(f)
            sym = e.get_section_by_name(".symtab").get_symbol_by_name("iterations")[0]
            for seg in e.iter_segments():
                lo = seg["p_vaddr"]
                if seg["p_type"] == "PT_LOAD" and lo <= sym["st_value"] < lo + seg["p_filesz"]:
                    at = seg["p_offset"] + sym["st_value"] - lo
                    data[at : at + 4] = args.uart_writes.to_bytes(4, "little")
        flood = d / "uartflood.elf"
        flood.write_bytes(bytes(data))
        t_flood = best(rep, "qconf", [str(flood)], "fast", args.sets)
        rows["qconf_uart_writes_per_s"] = round(args.uart_writes / t_flood) if t_flood else None
    print_results(rows, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
