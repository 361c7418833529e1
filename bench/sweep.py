"""Benchmark: many variants of one machine, booted to U-Boot's prompt.

Three ways to boot the same N variants of ``machines/uboot-riscv`` (RAM sizes 64 MiB,
128 MiB, ... in steps of 64 MiB) to the ``=>`` prompt, a key sent at "Hit any key":

* ``qconf sweep -j J`` (one command: it resolves every variant, then runs them on J
  worker processes), timed from start to exit;
* N ``qconf run`` processes one after another (the machine cache warm, as on a second
  run of the same loop), each driven to the prompt and powered off as bench/boot.py does;
* N ``qemu-system-riscv64 -m SIZE`` processes one after another, driven the same way.

The loops' times include each process's poweroff after the prompt (a few ms). Needs
``apt-get install opensbi u-boot-qemu qemu-system-misc``.

Run::

    python bench/sweep.py                  # 16 variants, -j 2
    python bench/sweep.py --variants 4 --json
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from boot import OPENSBI, UBOOT, to_prompt
from results import print_results

REPO = Path(__file__).resolve().parent.parent
BOARD = REPO / "machines" / "uboot-riscv" / "board.yaml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=16)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    qemu = shutil.which("qemu-system-riscv64")
    if qemu is None or not (Path(OPENSBI).exists() and Path(UBOOT).exists()):
        print("needs: apt-get install opensbi u-boot-qemu qemu-system-misc", file=sys.stderr)
        return 2
    sizes = [64 * (i + 1) for i in range(args.variants)]  # MiB
    script = Path(sys.executable).parent / "qconf"
    start = [str(script)] if script.exists() else [sys.executable, "-m", "qconf"]
    result: dict[str, Any] = {"variants": args.variants, "jobs": args.jobs}
    with tempfile.TemporaryDirectory(prefix="qconf-bench-sweep-") as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["QCONF_CACHE_DIR"] = cache
        sweep = [*start, "sweep", "-c", str(BOARD), "--set",
                 f"ram.size=range(64MiB,{64 * args.variants + 1}MiB,64MiB)",
                 "--expect", "Hit any key", "--send", "\\n", "--expect", "=> ",
                 "-j", str(args.jobs), "--format", "jsonl"]  # fmt: skip
        t0 = time.perf_counter()
        done = subprocess.run(sweep, capture_output=True, text=True, env=env, check=False)
        result["sweep_s"] = round(time.perf_counter() - t0, 3)
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return 1
        runs = [[*start, "run", "-c", str(BOARD), "--set", f"ram.size={m}MiB"] for m in sizes]
        for command in runs:  # fill the machine cache, untimed
            to_prompt(command, env)
        t0 = time.perf_counter()
        for command in runs:
            to_prompt(command, env)
        result["qconf_runs_s"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    for m in sizes:
        to_prompt([qemu, "-M", "virt", "-m", f"{m}M", "-bios", OPENSBI, "-kernel", UBOOT,
                   "-display", "none", "-monitor", "none", "-serial", "stdio"])  # fmt: skip
    result["qemu_runs_s"] = round(time.perf_counter() - t0, 3)
    result["sweep_vs_qconf_runs"] = round(result["qconf_runs_s"] / result["sweep_s"], 2)
    result["sweep_vs_qemu_runs"] = round(result["qemu_runs_s"] / result["sweep_s"], 2)
    print_results(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
