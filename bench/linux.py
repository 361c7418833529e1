"""Benchmark: Debian 12's arm64 installer kernel and initrd, booted directly, qconf beside
QEMU 7.2 in one run.

Both boot the same files the same way (``qemu-system-aarch64 -M virt -cpu cortex-a57 -m
1G -kernel linux -initrd initrd.gz -append console=ttyAMA0 -nographic`` and
``machines/linux-arm64``); the clock stops when the console shows "Run /init as init
process" and when the installer's first screen ("Select a language", with its text
"Choose the language to be used for the installation process") has been drawn. Both
consoles must show both. QEMU runs as a process; qconf runs in this process through its
Python interface (start-up is a fraction of a second either way), stopped by its console
at the screen, so that its instruction counts at both points are known too: they are
the same every run (virtual time is counted in instructions). Runs alternate, medians
are reported with their ratios (wall time, and CPU time, which is fairer on a loaded
host), and qconf's counters say where its time goes (TLB fills and walks, system
register hooks, exceptions). Needs
``apt-get install debian-installer-12-netboot-arm64 qemu-system-arm``.

Run::

    python bench/linux.py                  # one run each, to the installer's screen
    python bench/linux.py --runs 3 --json
    python bench/linux.py --init-only      # to "Run /init" only
"""

from __future__ import annotations

import argparse
import os
import select
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from results import print_results

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
IMAGES = "/usr/lib/debian-installer/images/12/arm64/text/debian-installer/arm64"
KERNEL, INITRD = f"{IMAGES}/linux", f"{IMAGES}/initrd.gz"
RUN_INIT = b"Run /init as init process"
SCREEN = b"Choose the language to be used for the installation process"
QEMU_ARGS = ["-M", "virt", "-cpu", "cortex-a57", "-m", "1G", "-kernel", KERNEL,
             "-initrd", INITRD, "-append", "console=ttyAMA0", "-nographic",
             "-monitor", "none"]  # fmt: skip


def qemu_run(qemu: str, init_only: bool, limit: float) -> dict[str, Any]:
    """Seconds to "Run /init" and to the screen, and the console."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([qemu, *QEMU_ARGS], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)  # fmt: skip
    assert proc.stdout is not None
    seen, marks = b"", {}
    fd = proc.stdout.fileno()
    try:
        while True:
            left = limit - (time.perf_counter() - t0)
            ready, _, _ = select.select([fd], [], [], max(left, 0))
            if not ready:
                raise TimeoutError(f"QEMU: not there in {limit} s: {seen[-300:]!r}")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise RuntimeError(f"QEMU ended: {seen[-300:]!r}")
            seen += chunk
            if "init" not in marks and RUN_INIT in seen:
                marks["init"] = time.perf_counter() - t0
                if init_only:
                    break
            if SCREEN in seen:
                marks["screen"] = time.perf_counter() - t0
                break
    finally:
        proc.kill()
        _, _, usage = os.wait4(proc.pid, 0)
        proc.returncode = -9
        proc.stdout.close()
    return {"marks": marks, "console": seen, "cpu_s": usage.ru_utime + usage.ru_stime}


def qconf_run(init_only: bool) -> dict[str, Any]:
    """Seconds and instructions to "Run /init" and to the screen, qconf's counters, and
    the console."""
    import qconf
    from qconf.emu.chardev import MemoryChardev
    from qconf.emu.emulator import Emulator

    t0 = time.perf_counter()
    machine = qconf.build(qconf.resolve([str(REPO / "machines" / "linux-arm64" / "board.yaml")]))
    marks: dict[str, float] = {}
    counts: dict[str, int] = {}
    emulator: Any = None

    class Console(MemoryChardev):
        def write(self, data: bytes) -> None:
            super().write(data)
            tail = bytes(self.output[-256:])
            if "init" not in marks and RUN_INIT in tail:
                marks["init"] = time.perf_counter() - t0
                counts["init"] = sum(c.instructions for c in emulator.cpus)
                if init_only:
                    emulator.request_stop(0, "Run /init")
            if "screen" not in marks and SCREEN in tail:
                marks["screen"] = time.perf_counter() - t0
                counts["screen"] = sum(c.instructions for c in emulator.cpus)
                emulator.request_stop(0, "the installer's first screen")

    console = Console()
    emulator = Emulator(machine, {"/machine/backends/chardev/uart0": console})
    cpu_t0 = time.process_time()
    try:
        emulator.prepare()
        outcome = emulator.run(max_insns=20_000_000_000)
        core = emulator.cpus[0]
        st = core.mmu.state
        stats = {"tlb_fills": int(st.fills), "tlb_fills_native": int(st.fill_hits),
                 "walks": core.mmu.all_walks, "walks_python": core.mmu.walks,
                 "mrs": int(st.mrs), "msr": int(st.msr), "sys": int(st.sys),
                 "tlbi": int(st.tlbi), **core.stats}  # fmt: skip
    finally:
        emulator.close()
        machine.destroy()
    if outcome.exit_code != 0 or "init" not in marks:
        raise RuntimeError(f"qconf: {outcome.reason}: {bytes(console.output[-300:])!r}")
    return {"marks": marks, "counts": counts, "cpu_s": time.process_time() - cpu_t0,
            "stats": stats, "console": bytes(console.output)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--init-only", action="store_true", help='stop at "Run /init"')
    args = parser.parse_args(argv)
    qemu = shutil.which("qemu-system-aarch64")
    if qemu is None or not Path(KERNEL).exists():
        print("needs: apt-get install debian-installer-12-netboot-arm64 qemu-system-arm",
              file=sys.stderr)  # fmt: skip
        return 2
    points = ["init"] if args.init_only else ["init", "screen"]
    times: dict[str, list[float]] = {f"{who}_{p}": [] for who in ("qconf", "qemu") for p in points}
    counts: list[dict[str, int]] = []
    cpu: dict[str, list[float]] = {"qconf": [], "qemu": []}
    last: dict[str, Any] = {}
    for _ in range(args.runs):
        ours = qconf_run(args.init_only)
        theirs = qemu_run(qemu, args.init_only, limit=max(600.0, 5 * ours["marks"]["init"]))
        for point in points:
            times[f"qconf_{point}"].append(ours["marks"][point])
            times[f"qemu_{point}"].append(theirs["marks"][point])
        for console in (ours["console"], theirs["console"]):  # the same milestones in both
            assert RUN_INIT in console and (args.init_only or SCREEN in console)
        counts.append(ours["counts"])
        cpu["qconf"].append(ours["cpu_s"])
        cpu["qemu"].append(theirs["cpu_s"])
        last = ours
    result: dict[str, Any] = {}
    for name, values in times.items():
        result[f"{name}_s"] = round(statistics.median(values), 2)
    for point in points:
        result[f"ratio_{point}"] = round(result[f"qconf_{point}_s"] / result[f"qemu_{point}_s"], 2)
    for point in points:
        result[f"instructions_{point}"] = [c[point] for c in counts]
    result["same_counts_every_run"] = all(c == counts[0] for c in counts)
    # CPU seconds to the last point, qconf's emulation and QEMU's whole process: on a
    # loaded host the fairer comparison
    for who, seconds in cpu.items():
        result[f"{who}_cpu_s"] = round(statistics.median(seconds), 2)
    result["ratio_cpu"] = round(result["qconf_cpu_s"] / result["qemu_cpu_s"], 2)
    result.update(last["stats"])
    for name, values in times.items():
        result[f"{name}_runs_s"] = [round(v, 2) for v in values]
    print_results(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
