"""Benchmark: the host CPU an idle U-Boot prompt costs, qconf beside QEMU 7.2.

Each emulator runs as a user runs it, on a terminal (a pty is its standard input and
output): the key is sent at "Hit any key", and once the ``=>`` prompt shows, nothing is
typed for ``--seconds`` of wall time while the process's CPU time (user + system, from
``/proc/PID/stat``) is read before and after: the share of one core the idle prompt
takes. Then ``version`` is typed and its answer timed (an idle qconf must still answer
at once), and the emulator is stopped. U-Boot's prompt polls its UART's status register
in a loop; QEMU runs that loop as fast as it can, qconf parks the CPU until a key comes
(see docs/running.md, "Idle guests"). Needs ``apt-get install opensbi u-boot-qemu
qemu-system-misc`` (``qemu-system-arm`` for ``--arch arm64``).

Run::

    python bench/idle.py                   # 10 s idle each
    python bench/idle.py --seconds 3 --json
    python bench/idle.py --arch arm64
"""

from __future__ import annotations

import argparse
import os
import pty
import select
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any

from boot import BOOTS
from results import print_results

REPO = Path(__file__).resolve().parent.parent


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle(command: list[str], seconds: float) -> dict[str, float]:
    """Boot ``command`` on a pty to the prompt, leave it idle, then type ``version``: the
    share of a core it used while idle, and how long ``version`` took to answer."""
    pid, fd = pty.fork()
    if pid == 0:  # the emulator, on the pty
        os.execvp(command[0], command)
    seen = b""

    def read_until(text: bytes, after: int, timeout: float = 120) -> None:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while text not in seen[after:]:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(0.0, left))
            if not ready:
                raise TimeoutError(f"no {text!r}: {seen[-300:]!r}")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise RuntimeError(f"ended before {text!r}: {seen[-300:]!r}")
            seen += chunk

    try:
        read_until(b"Hit any key", 0)
        os.write(fd, b"\n")
        mark = len(seen)
        read_until(b"=> ", mark)
        time.sleep(0.5)  # let it settle into its polling loop
        cpu0, wall0 = cpu_seconds(pid), time.monotonic()
        end = wall0 + seconds
        while (left := end - time.monotonic()) > 0:  # drain whatever it prints, type nothing
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                seen += os.read(fd, 65536)
        share = (cpu_seconds(pid) - cpu0) / (time.monotonic() - wall0)
        mark = len(seen)
        t0 = time.monotonic()
        os.write(fd, b"version\n")
        read_until(b"U-Boot 2023", mark, timeout=30)
        answer = time.monotonic() - t0
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)
    return {"idle_cpu_percent": round(100 * share, 1), "version_answer_ms": round(1000 * answer)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--arch", choices=sorted(BOOTS), default="riscv64")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    machine, program, qemu_args, files, packages = BOOTS[args.arch]
    qemu = shutil.which(program)
    if qemu is None or not all(Path(f).exists() for f in files):
        print(f"needs: apt-get install {packages}", file=sys.stderr)
        return 2
    qconf = [sys.executable, "-m", "qconf", "run", "-c",
             str(REPO / "machines" / machine / "board.yaml")]  # fmt: skip
    result: dict[str, Any] = {"arch": args.arch, "idle_seconds": args.seconds}
    for name, command in (("qconf", qconf), ("qemu", [qemu, *qemu_args, "-nographic"])):
        for key, value in idle(command, args.seconds).items():
            result[f"{name}_{key}"] = value
    print_results(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
