"""Benchmark: guest instructions per second under qconf, against raw Unicorn and QEMU.

In one run, on the same guest ELF (``machines/guests/riscv/loop.S``: a 6-instruction
xorshift loop, patched to N iterations):

* raw Unicorn: one ``Uc``, RAM mapped, the ELF loaded, one ``emu_start`` with no hooks
  until the guest writes the test finisher: the ceiling;
* qconf: ``qconf.emu.emulator.run`` on ``riscv-virt`` (quanta, virtual time, devices);
* QEMU: ``qemu-system-riscv64 -M virt -bios none`` on the same ELF, when installed (its
  start-up time is measured with N = 1 and subtracted);

and an MMIO-heavy guest (``uartflood.S``: stores to the UART's THR) under qconf, in UART
writes per second. Each figure is the best of ``--repeat`` runs; ratios are to raw
Unicorn.

Run::

    python bench/emulate.py                        # 50M iterations (300M instructions)
    python bench/emulate.py --iterations 5000000 --json
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

REPO = Path(__file__).resolve().parent.parent
GUESTS = REPO / "machines" / "guests" / "riscv"
INSNS_PER_ITERATION = 6


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


def raw_unicorn(elf: Path) -> float:
    """Seconds for one hook-free run of ``elf`` on a bare Unicorn."""
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

    def finisher(uc: Any, offset: int, size: int, value: int, user: Any) -> None:
        uc.emu_stop()

    uc.mmio_map(0x10_0000, 0x1000, lambda *a: 0, None, finisher, None)
    uc.mmio_map(0x1000_0000, 0x1000, lambda *a: 0x60, None, lambda *a: None, None)
    t0 = time.perf_counter()
    uc.emu_start(entry, 0xFFFF_FFFF_FFFF_FFFF)
    return time.perf_counter() - t0


def qconf_run(elf: Path, sets: tuple[str, ...] = ()) -> float:
    """Seconds for ``qconf run`` of ``elf`` on riscv-virt (the build not counted)."""
    import qconf
    from qconf.emu.chardev import NullChardev
    from qconf.emu.emulator import run

    machine = qconf.build(qconf.resolve(["riscv-virt"], [f"cpu0.firmware={elf}", *sets]))
    t0 = time.perf_counter()
    outcome = run(machine, chardevs={"/machine/backends/chardev/soc-uart0": NullChardev()})
    took = time.perf_counter() - t0
    machine.destroy()
    assert outcome.exit_code == 0, outcome.reason
    return took


def qemu(elf: Path) -> float | None:
    exe = shutil.which("qemu-system-riscv64")
    if exe is None:
        return None
    t0 = time.perf_counter()
    subprocess.run([exe, "-M", "virt", "-bios", "none", "-display", "none", "-monitor", "none",
                    "-serial", "null", "-kernel", str(elf)], check=True)  # fmt: skip
    return time.perf_counter() - t0


def best(fn: Any, repeat: int, *args: Any) -> Any:
    results = [fn(*args) for _ in range(repeat)]
    return None if None in results else min(results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=50_000_000)
    parser.add_argument("--uart-writes", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        help="a --set for the qconf runs (e.g. quantum=100000, timing=exact)",
    )
    args = parser.parse_args(argv)
    insns = args.iterations * INSNS_PER_ITERATION
    with tempfile.TemporaryDirectory() as tmp:
        loop = patched(GUESTS / "loop.elf", args.iterations, Path(tmp))
        t_raw = best(raw_unicorn, args.repeat, loop)
        t_qconf = best(qconf_run, args.repeat, loop, tuple(args.sets))
        t_qemu = best(qemu, args.repeat, loop)
        if t_qemu is not None:
            t_qemu -= best(qemu, args.repeat, patched(GUESTS / "loop.elf", 1, Path(tmp)))
        flood = patched(GUESTS / "uartflood.elf", args.uart_writes, Path(tmp))
        t_flood = best(qconf_run, args.repeat, flood, tuple(args.sets))
    rows: dict[str, Any] = {
        "instructions": insns,
        "raw_unicorn_mips": round(insns / t_raw / 1e6, 1),
        "qconf_mips": round(insns / t_qconf / 1e6, 1),
        "qconf_over_raw": round(t_raw / t_qconf, 3),
        "qemu_mips": round(insns / t_qemu / 1e6, 1) if t_qemu else None,
        "qemu_over_raw": round(t_raw / t_qemu, 3) if t_qemu else None,
        "qconf_uart_writes_per_s": round(args.uart_writes / t_flood),
    }
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        print()
    else:
        for key, value in rows.items():
            print(f"{key:<26} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
