"""Benchmark: the emulation phase of Debian's OpenSBI + U-Boot boot (first instruction to
the ``=>`` prompt) under qconf, against the same boot on a bare Unicorn: Unicorn's floor.

In one process, with start-up excluded:

* bare Unicorn: RAM mapped as qconf maps it (a host buffer on huge pages), the two images
  and qconf's device tree loaded, a ns16550a that only answers LSR, a CLINT that only
  answers mtime, ``rdtime`` and traps entered from ``UC_HOOK_INTR`` as qconf does; one
  ``emu_start`` until the prompt. Nothing here could be cheaper in Python: the floor;
* the same with qconf's fast-timing counter (its block hook and its table of block
  counts, an endless budget): what deterministic slicing by blocks costs in Unicorn;
* qconf: ``Emulator.run`` on ``machines/uboot-riscv/board.yaml`` until the prompt.

The key at "Hit any key" is typed at once in all three, so all three run the same ~10.7 M
guest instructions. Each figure is the median of ``--repeat`` runs, each run in a fresh
process (a second boot in one process finds the host memory already faulted in).
Needs ``apt-get install opensbi u-boot-qemu``.

Run::

    python bench/uboot_floor.py              # 5 runs each
    python bench/uboot_floor.py --repeat 9 --json
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from results import print_results

REPO = Path(__file__).resolve().parent.parent
BOARD = REPO / "machines" / "uboot-riscv" / "board.yaml"
OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin"
UBOOT = "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin"
RAM, RAM_SIZE = 0x8000_0000, 128 << 20
KINDS = ("bare", "bare_block_hook", "qconf")


def _machine() -> Any:
    sys.path.insert(0, str(REPO))
    from qconf.assembly.builder import build
    from qconf.cli import _resolve

    return build(_resolve([str(BOARD)], [], []))


def bare(block_hook: bool) -> tuple[float, int]:
    """Seconds to the prompt on a bare Unicorn, and instructions (0 without the hook)."""
    from unicorn import UC_ARCH_RISCV, UC_HOOK_INTR, UC_MODE_RISCV64, UC_PROT_ALL, Uc
    from unicorn import riscv_const as rv

    from qconf.dtb import device_tree_blob
    from qconf.emu.counting import make_counter
    from qconf.emu.memory import HostBuffer

    dtb = device_tree_blob(_machine())
    uc = Uc(UC_ARCH_RISCV, UC_MODE_RISCV64)
    uc.ctl_set_tcg_buffer_size(64 << 20)  # as qconf places its engines
    ram = HostBuffer(RAM_SIZE)
    uc.mem_map_ptr(RAM, RAM_SIZE, UC_PROT_ALL, ram.address)
    ram.write(0, Path(OPENSBI).read_bytes())
    ram.write(0x20_0000, Path(UBOOT).read_bytes())
    dtb_at = (RAM + RAM_SIZE - len(dtb)) & ~((2 << 20) - 1)
    ram.write(dtb_at - RAM, dtb)
    out, typed, ticks = bytearray(), bytearray(), [0]

    def now() -> int:
        ticks[0] += 100  # 10 us of a 10 MHz timebase per read
        return ticks[0]

    def uart_read(uc: Any, offset: int, size: int, user: Any) -> int:
        if offset == 5:
            return 0x60 | (1 if typed else 0)
        return typed.pop(0) if offset == 0 and typed else 0

    def uart_write(uc: Any, offset: int, size: int, value: int, user: Any) -> None:
        if offset == 0:
            out.append(value & 0xFF)
            if out.endswith(b"Hit any key"):
                typed.extend(b"\n")
            elif out.endswith(b"=> "):
                uc.emu_stop()

    def ignore(uc: Any, offset: int, size: int, value: int, user: Any) -> None:
        pass

    uc.mmio_map(0x1000_0000, 0x1000, uart_read, None, uart_write, None)
    uc.mmio_map(0x200_0000, 0x1_0000, lambda uc, o, s, u: now() if o == 0xBFF8 else 0, None,
                ignore, None)  # fmt: skip
    uc.mmio_map(0xC00_0000, 0x60_0000, lambda *a: 0, None, ignore, None)

    def csr(reg: int, value: int | None = None) -> int:
        priv = uc.reg_read(rv.UC_RISCV_REG_PRIV)
        uc.reg_write(rv.UC_RISCV_REG_PRIV, 3)
        old = int(uc.reg_read(reg))
        if value is not None:
            uc.reg_write(reg, value)
        uc.reg_write(rv.UC_RISCV_REG_PRIV, priv)
        return old

    def trap(uc: Any, intno: int, user: Any) -> None:
        pc = uc.reg_read(rv.UC_RISCV_REG_PC) - 4
        insn = int.from_bytes(uc.mem_read(pc, 4), "little")
        if intno == 2 and insn & 0xFFFFF07F == 0xC0102073:  # rdtime
            if insn >> 7 & 31:
                uc.reg_write(rv.UC_RISCV_REG_X0 + (insn >> 7 & 31), now())
            uc.reg_write(rv.UC_RISCV_REG_PC, pc + 4)
            return
        priv = uc.reg_read(rv.UC_RISCV_REG_PRIV)
        cause = {0: 8, 1: 9, 3: 11}[priv] if intno == 8 else intno
        if priv <= 1 and csr(rv.UC_RISCV_REG_MEDELEG) >> cause & 1:
            status = csr(rv.UC_RISCV_REG_SSTATUS)
            status = status & ~0x122 | (status >> 1 & 1) << 5 | priv << 8
            regs = (rv.UC_RISCV_REG_SEPC, rv.UC_RISCV_REG_SCAUSE, rv.UC_RISCV_REG_SSTATUS)
            tvec, mode = csr(rv.UC_RISCV_REG_STVEC), 1
        else:
            status = csr(rv.UC_RISCV_REG_MSTATUS)
            status = status & ~0x1888 | (status >> 3 & 1) << 7 | priv << 11
            regs = (rv.UC_RISCV_REG_MEPC, rv.UC_RISCV_REG_MCAUSE, rv.UC_RISCV_REG_MSTATUS)
            tvec, mode = csr(rv.UC_RISCV_REG_MTVEC), 3
        for reg, value in zip(regs, (pc, cause, status), strict=True):
            csr(reg, value)
        uc.reg_write(rv.UC_RISCV_REG_PRIV, mode)
        uc.reg_write(rv.UC_RISCV_REG_PC, tvec & ~3)

    uc.hook_add(UC_HOOK_INTR, trap)
    counter = make_counter(uc, "riscv", exact=False) if block_hook else None
    if counter is not None:
        counter.arm(1 << 60)
    uc.reg_write(rv.UC_RISCV_REG_A0, 0)
    uc.reg_write(rv.UC_RISCV_REG_A1, dtb_at)
    t0 = time.perf_counter()
    uc.emu_start(RAM, (1 << 64) - 1)
    took = time.perf_counter() - t0
    assert out.endswith(b"=> "), bytes(out[-200:])
    return took, counter.count if counter is not None else 0


def qconf() -> tuple[float, int]:
    """Seconds from ``Emulator.run`` to the prompt, and instructions."""
    from qconf.emu.emulator import Emulator

    emulator = Emulator(_machine(), None, [(b"Hit any key", b"\n")])
    emulator.prepare()
    seen = bytearray()

    def listen(device: Any, data: bytes) -> None:
        seen.extend(data)
        if seen.endswith(b"=> "):
            emulator.scheduler.request_stop(0, "prompt")
            emulator.scheduler.cut_slice()

    emulator.listeners.append(listen)
    t0 = time.perf_counter()
    outcome = emulator.run()
    took = time.perf_counter() - t0
    emulator.close()
    assert outcome.reason == "prompt", outcome.reason
    return took, sum(outcome.instructions.values())


def one(kind: str) -> tuple[float, int]:
    """One run, in a new process."""
    done = subprocess.run([sys.executable, __file__, "--one", kind], capture_output=True,
                          text=True, check=True, cwd=REPO)  # fmt: skip
    took, insns = done.stdout.splitlines()[-1].split()  # after qconf's console output
    return float(took), int(insns)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--one", choices=KINDS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not Path(OPENSBI).exists() or not Path(UBOOT).exists():
        print("needs: apt-get install opensbi u-boot-qemu", file=sys.stderr)
        return 2
    if args.one:
        took, insns = qconf() if args.one == "qconf" else bare(args.one == "bare_block_hook")
        print(f"\n{took} {insns}")
        return 0
    runs: dict[str, list[float]] = {kind: [] for kind in KINDS}
    insns: dict[str, int] = {}
    for _ in range(args.repeat):
        for kind in KINDS:  # interleaved, so that a noisy moment hits all three
            took, count = one(kind)
            runs[kind].append(took)
            if count:
                insns[kind] = count
    result: dict[str, Any] = {f"{k}_median_ms": round(1e3 * statistics.median(v), 1)
                              for k, v in runs.items()}  # fmt: skip
    result["instructions"] = insns
    result["qconf_over_bare"] = round(result["qconf_median_ms"] / result["bare_median_ms"], 2)
    print_results(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
