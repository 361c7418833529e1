"""Benchmark: wall time to boot Debian's OpenSBI + U-Boot to the ``=>`` prompt, qconf beside
QEMU 7.2.

Each run starts the emulator as a user would (a new process: qconf's start-up is
included), sends a key at "Hit any key", and stops the clock when the prompt appears;
then it sends ``poweroff``. One untimed run of each comes first (it fills the page cache,
Python's bytecode cache and qconf's machine cache); then qconf, qconf ``--no-cache``
(resolving and validating the configuration again, as the first run after an edit does)
and QEMU runs alternate, and the medians and their ratios to QEMU are reported. The
machine cache is a temporary directory of the bench's own. qconf runs with
``PYTHONDONTWRITEBYTECODE`` unset, as an installed package has its bytecode compiled:
with it set and no ``__pycache__``, every run would compile qconf's modules again (about
50 ms). Needs ``apt-get install opensbi u-boot-qemu qemu-system-misc``.

Run::

    python bench/boot.py               # 5 runs each
    python bench/boot.py --runs 9 --json
    python bench/boot.py --arch arm64  # U-Boot alone on arm64-virt
"""

from __future__ import annotations

import argparse
import os
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from results import print_results

REPO = Path(__file__).resolve().parent.parent
OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin"
UBOOT = "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin"
UBOOT_ARM64 = "/usr/lib/u-boot/qemu_arm64/u-boot.bin"
BOOTS = {
    # name: (qconf machine, QEMU program, QEMU arguments, files, packages)
    "riscv64": ("uboot-riscv", "qemu-system-riscv64",
                ["-M", "virt", "-bios", OPENSBI, "-kernel", UBOOT],
                [OPENSBI, UBOOT], "opensbi u-boot-qemu qemu-system-misc"),
    "arm64": ("uboot-arm64", "qemu-system-aarch64",
              ["-M", "virt", "-cpu", "cortex-a57", "-bios", UBOOT_ARM64],
              [UBOOT_ARM64], "u-boot-qemu qemu-system-arm"),
}  # fmt: skip
"""The boots this bench times: OpenSBI + U-Boot on riscv64 (the issue's), U-Boot alone
on arm64 (``--arch arm64``)."""


def to_prompt(command: list[str], env: dict[str, str] | None = None) -> float:
    """Seconds from start to the U-Boot prompt, the key sent at "Hit any key"."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=env)  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    seen = b""
    sent_key = False
    fd = proc.stdout.fileno()
    try:
        while True:
            ready, _, _ = select.select([fd], [], [], 30)
            if not ready:
                raise TimeoutError(f"no prompt: {seen[-300:]!r}")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise RuntimeError(f"ended before the prompt: {seen[-300:]!r}")
            seen += chunk
            if not sent_key and b"Hit any key" in seen:
                proc.stdin.write(b"\n")
                proc.stdin.flush()
                sent_key = True
            if sent_key and b"=> " in seen.split(b"Hit any key", 1)[1]:
                took = time.perf_counter() - t0
                break
        proc.stdin.write(b"poweroff\n")
        proc.stdin.flush()
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdin.close()
        proc.stdout.close()
    return took


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--arch", choices=sorted(BOOTS), default="riscv64")
    args = parser.parse_args(argv)
    machine, program, qemu_args, files, packages = BOOTS[args.arch]
    qemu = shutil.which(program)
    if qemu is None or not all(Path(f).exists() for f in files):
        print(f"needs: apt-get install {packages}", file=sys.stderr)
        return 2
    # the qconf command, as users run it (its start-up differs from python -m qconf.cli)
    script = Path(sys.executable).parent / "qconf"
    start = [str(script)] if script.exists() else [sys.executable, "-m", "qconf"]
    qconf = [*start, "run", "-c", str(REPO / "machines" / machine / "board.yaml")]
    qemu_cmd = [qemu, *qemu_args, "-display", "none", "-monitor", "none", "-serial", "stdio"]
    with tempfile.TemporaryDirectory(prefix="qconf-bench-cache-") as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["QCONF_CACHE_DIR"] = cache
        commands = {"qconf": (qconf, env), "qconf_no_cache": ([*qconf, "--no-cache"], env),
                    "qemu": (qemu_cmd, None)}  # fmt: skip
        for command, environment in commands.values():  # warm-up, untimed
            to_prompt(command, environment)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, (command, environment) in commands.items():
                times[name].append(to_prompt(command, environment))
    result: dict[str, Any] = {"arch": args.arch}
    for name in commands:
        result[f"{name}_median_s"] = round(statistics.median(times[name]), 3)
    for name in commands:
        result[f"{name}_runs_s"] = [round(t, 3) for t in times[name]]
    result["ratio"] = round(result["qconf_median_s"] / result["qemu_median_s"], 2)
    result["ratio_no_cache"] = round(result["qconf_no_cache_median_s"] / result["qemu_median_s"], 2)
    print_results(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
