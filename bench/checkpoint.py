"""Benchmark: restoring a checkpoint saved at U-Boot's prompt against booting to it.

Each run is a new process, started as users start it (the ``qconf`` command):

* cold: ``qconf run -c machines/uboot-riscv/board.yaml`` driven to the ``=>`` prompt (a key
  at "Hit any key"), the machine cache warm, as bench/boot.py;
* restored: ``qconf run --restore prompt.qcp``, the checkpoint saved once at the prompt by
  ``--save-at``, timed until it runs (its first output: the echo of a key typed at once).

Both then type ``poweroff``. Also: the checkpoint's size, and the same in-process with
the pytest plugin's machine under test (start from the checkpoint, against a boot to the
prompt). Needs ``apt-get install opensbi u-boot-qemu``.

Run::

    python bench/checkpoint.py               # 7 runs each
    python bench/checkpoint.py --runs 3 --json
"""

from __future__ import annotations

import argparse
import os
import select
import statistics
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


def restored(command: list[str], env: dict[str, str]) -> float:
    """Seconds from start until a checkpoint saved at the prompt runs again: a key typed at
    once comes back as its echo."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=env)  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"x")
    proc.stdin.flush()
    fd, seen = proc.stdout.fileno(), b""
    try:
        while b"x" not in seen:
            ready, _, _ = select.select([fd], [], [], 30)
            chunk = os.read(fd, 4096) if ready else b""
            if not chunk:
                raise RuntimeError(f"no echo after the restore: {seen[-200:]!r}")
            seen += chunk
        took = time.perf_counter() - t0
        proc.stdin.write(b"\npoweroff\n")
        proc.stdin.flush()
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdin.close()
        proc.stdout.close()
    return took


def in_process(checkpoint: Path, runs: int) -> tuple[float, float]:
    """Median seconds for the machine under test: a boot to the prompt, and a start from
    the checkpoint (each then at the prompt, paused)."""
    from qconf.testing.dut import start

    boots, restores = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        dut = start([str(BOARD)])
        dut.expect("Hit any key")
        dut.write("\n")
        dut.expect_exact("=> ")
        boots.append(time.perf_counter() - t0)
        dut.close()
        t0 = time.perf_counter()
        dut = start([str(BOARD)], checkpoint=checkpoint)
        restores.append(time.perf_counter() - t0)
        dut.close()
    return statistics.median(boots), statistics.median(restores)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not (Path(OPENSBI).exists() and Path(UBOOT).exists()):
        print("needs: apt-get install opensbi u-boot-qemu", file=sys.stderr)
        return 2
    script = Path(sys.executable).parent / "qconf"
    start = [str(script)] if script.exists() else [sys.executable, "-m", "qconf"]
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="qconf-bench-checkpoint-") as folder:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["QCONF_CACHE_DIR"] = str(Path(folder) / "cache")
        checkpoint = Path(folder) / "prompt.qcp"
        # a boot to the prompt that saves there (then waits for keys until its --timeout)
        save = [*start, "run", "-c", str(BOARD), "--expect", "Hit any key", "--send", "\\n",
                "--save-at", "=> ", str(checkpoint), "--timeout", "2"]  # fmt: skip
        subprocess.run(save, env=env, capture_output=True, check=False)
        result["checkpoint_bytes"] = checkpoint.stat().st_size
        cold_cmd = [*start, "run", "-c", str(BOARD)]
        restore_cmd = [*start, "run", "--restore", str(checkpoint)]
        to_prompt(cold_cmd, env)  # warm-up, untimed
        restored(restore_cmd, env)
        cold, warm = [], []
        for _ in range(args.runs):
            cold.append(to_prompt(cold_cmd, env))
            warm.append(restored(restore_cmd, env))
        result["cold_boot_median_s"] = round(statistics.median(cold), 3)
        result["restore_median_s"] = round(statistics.median(warm), 3)
        ratio = result["restore_median_s"] / result["cold_boot_median_s"]
        result["restore_vs_cold"] = round(ratio, 2)
        boot, restore = in_process(checkpoint, max(1, args.runs // 2))
        result["in_process_boot_s"] = round(boot, 3)
        result["in_process_restore_s"] = round(restore, 3)
    print_results(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
