"""Benchmark: guest instructions per second under qconf, against raw Unicorn and QEMU.

In one run, on the same guest ELF (``machines/guests/riscv/loop.S``: a 6-instruction
xorshift loop, patched to N iterations):

* raw Unicorn: one ``Uc``, RAM mapped, the ELF loaded, one ``emu_start`` with no hooks
  until the guest writes the test finisher: the ceiling;
* the same with qconf's native block hook and an endless budget: the ceiling of any
  deterministic slicing by blocks (what Unicorn charges for calling a block hook);
* qconf: ``qconf.emu.emulator.run`` on ``riscv-virt`` (quanta, virtual time, devices);
* QEMU: ``qemu-system-riscv64 -M virt -bios none`` on the same ELF, when installed (its
  start-up time is measured with N = 1 and subtracted);

an MMIO-heavy guest (``uartflood.S``: stores to the UART's THR) under qconf, in UART
writes per second; and a heterogeneous machine of three CPUs (riscv64, aarch64,
Cortex-M4, each with its own memory and its own xorshift loop) under qconf, as aggregate
guest MIPS against the same three loops run one after the other on raw Unicorn. Each
figure is the best of ``--repeat`` runs; ratios are to raw Unicorn.

Run::

    python bench/emulate.py                        # 50M iterations (300M instructions)
    python bench/emulate.py --iterations 5000000 --json
"""

from __future__ import annotations

import argparse
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
    out = directory / f"{elf.parent.name}-{elf.stem}-{iterations}.elf"
    out.write_bytes(bytes(data))
    return out


def raw_unicorn(elf: Path, block_hook: bool = False) -> float:
    """Seconds for one hook-free run of ``elf`` on a bare Unicorn; with ``block_hook``,
    with qconf's native budget hook on every block and a budget that never runs out (the
    ceiling of any per-block budget: Unicorn's cost of calling a block hook)."""
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
    if block_hook:
        from qconf.emu.counting import make_counter

        make_counter(uc, "riscv", exact=False).arm(1 << 60)
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


HETERO3 = """\
type: machine
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


def hetero3(rv: Path, a64: Path, cm: Path, directory: Path) -> float:
    """Seconds for the three-CPU machine to run until the riscv64 loop powers off (the
    aarch64 and Cortex-M loops are shorter: they finish first and wait)."""
    import qconf
    from qconf.emu.emulator import run

    board = directory / "hetero3.yaml"
    board.write_text(HETERO3.format(rv=rv, a64=a64, cm=cm))
    machine = qconf.build(qconf.resolve([board]))
    t0 = time.perf_counter()
    outcome = run(machine)
    took = time.perf_counter() - t0
    machine.destroy()
    assert outcome.exit_code == 0, outcome.reason
    return took


def raw_loop(arch: str, elf: Path) -> float:
    """Seconds for one hook-free run of a loop ELF on a bare Unicorn of ``arch``, until
    it reaches its wfi."""
    from elftools.elf.elffile import ELFFile
    from unicorn import UC_ARCH_ARM, UC_ARCH_ARM64, UC_MODE_ARM, UC_MODE_MCLASS, UC_MODE_THUMB, Uc

    with elf.open("rb") as f:
        e = ELFFile(f)
        chunks = [(s["p_paddr"], s.data()) for s in e.iter_segments() if s["p_type"] == "PT_LOAD"]
        entry = e["e_entry"]
    if arch == "aarch64":
        uc, base, wfi = Uc(UC_ARCH_ARM64, UC_MODE_ARM), 0x4000_0000, b"\x7f\x20\x03\xd5"
    else:
        uc, base, wfi = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS), 0, b"\x30\xbf"
        entry = int.from_bytes(chunks[0][1][4:8], "little")
    uc.mem_map(base, 16 << 20)
    uc.mem_map(0x2000_0000, 1 << 20)
    for address, data in chunks:
        uc.mem_write(address, data)
    image = b"".join(d for _, d in chunks)
    stop = chunks[0][0] + image.index(wfi)
    t0 = time.perf_counter()
    uc.emu_start(entry, stop)
    return time.perf_counter() - t0


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
        t_hooked = best(raw_unicorn, args.repeat, loop, True)
        t_qconf = best(qconf_run, args.repeat, loop, tuple(args.sets))
        t_qemu = best(qemu, args.repeat, loop)
        if t_qemu is not None:
            t_qemu -= best(qemu, args.repeat, patched(GUESTS / "loop.elf", 1, Path(tmp)))
        flood = patched(GUESTS / "uartflood.elf", args.uart_writes, Path(tmp))
        t_flood = best(qconf_run, args.repeat, flood, tuple(args.sets))
        n_other = args.iterations * 4 // 5
        guests = GUESTS.parent
        a64 = patched(guests / "aarch64" / "loop.elf", n_other, Path(tmp))
        cm = patched(guests / "cortex-m" / "loop.elf", n_other, Path(tmp))
        t_het = best(hetero3, args.repeat, loop, a64, cm, Path(tmp))
        t_het_raw = (
            t_raw
            + best(raw_loop, args.repeat, "aarch64", a64)
            + best(raw_loop, args.repeat, "cortex-m", cm)
        )
        het_insns = (args.iterations + 2 * n_other) * INSNS_PER_ITERATION
    rows: dict[str, Any] = {
        "instructions": insns,
        "raw_unicorn_mips": round(insns / t_raw / 1e6, 1),
        "qconf_mips": round(insns / t_qconf / 1e6, 1),
        "qconf_over_raw": round(t_raw / t_qconf, 3),
        "raw_with_block_hook_mips": round(insns / t_hooked / 1e6, 1),
        "qconf_over_raw_with_block_hook": round(t_hooked / t_qconf, 3),
        "qemu_mips": round(insns / t_qemu / 1e6, 1) if t_qemu else None,
        "qemu_over_raw": round(t_raw / t_qemu, 3) if t_qemu else None,
        "qconf_uart_writes_per_s": round(args.uart_writes / t_flood),
        "hetero3_raw_unicorn_mips": round(het_insns / t_het_raw / 1e6, 1),
        "hetero3_qconf_mips": round(het_insns / t_het / 1e6, 1),
        "hetero3_qconf_over_raw": round(t_het_raw / t_het, 3),
    }
    print_results(rows, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
