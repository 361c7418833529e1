"""Load test: many QMP clients at once against a running machine, qconf beside QEMU 7.2.

The guest is an endless xorshift loop counting its rounds in ``t0``
(``machines/guests/riscv/forever.S``), on ``riscv-virt`` in qconf and on
``qemu-system-riscv64 -M virt -bios none`` in QEMU. ``--clients`` clients connect at once
over loopback TCP (``--transport unix`` for unix sockets; qconf: all on one address, it
serves several; QEMU serves one client per ``-qmp`` socket, so it gets one each),
negotiate, then each sends ``--commands`` commands one after the other, waiting for each
reply: a mix of ``query-status``, ``query-version`` and
``qom-get`` of ``/machine``'s ``type``, with ids checked. A reply that is missing, an
error, or carries another id is counted as lost.

Reported for each server: commands per second (all clients together, from the first
command to the last reply), median and p99 latency, lost replies, and how far the guest's
loop counter moved during the load (read before and after: with ``qconf-register-read``
from qconf, with HMP's ``info registers`` from QEMU), to show the guest kept running. The
clients run in this process (asyncio), the same for both servers.

Run::

    python bench/qmp.py                          # 100 clients x 1,000 commands
    python bench/qmp.py --clients 10 --commands 200 --json
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from results import print_results

REPO = Path(__file__).resolve().parent.parent
GUEST = REPO / "machines" / "guests" / "riscv" / "forever.elf"

MIX = [
    {"execute": "query-status"},
    {"execute": "query-version"},
    {"execute": "qom-get", "arguments": {"path": "/machine", "property": "type"}},
]


async def connect(address: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """``unix:PATH`` or ``tcp:HOST:PORT``."""
    if address.startswith("unix:"):
        return await asyncio.open_unix_connection(address[5:], limit=1 << 20)
    host, port = address[4:].rsplit(":", 1)
    return await asyncio.open_connection(host, int(port), limit=1 << 20)


def ready(address: str) -> bool:
    if address.startswith("unix:"):
        return os.path.exists(address[5:])
    host, port = address[4:].rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=0.5).close()
    except OSError:
        return False
    return True


def addresses(transport: str, directory: Path, name: str, count: int) -> list[str]:
    """``count`` fresh addresses: unix sockets in ``directory``, or free loopback ports."""
    if transport == "unix":
        return [f"unix:{directory / f'{name}{i}.sock'}" for i in range(count)]
    held = [socket.socket() for _ in range(count)]
    for s in held:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in held]
    for s in held:
        s.close()
    return [f"tcp:127.0.0.1:{port}" for port in ports]


async def client(path: str, commands: int, latencies: list[float]) -> int:
    """One client: negotiate, then ``commands`` commands in turn; the replies lost."""
    reader, writer = await connect(path)
    json.loads(await reader.readline())  # greeting
    writer.write(b'{"execute": "qmp_capabilities"}')
    await writer.drain()
    json.loads(await reader.readline())
    lost = 0
    for i in range(commands):
        msg = dict(MIX[i % len(MIX)], id=i)
        t0 = time.perf_counter()
        writer.write(json.dumps(msg).encode())
        await writer.drain()
        while True:
            line = await reader.readline()
            if not line:
                return lost + commands - i  # hung up
            reply = json.loads(line)
            if "event" not in reply:
                break
        latencies.append(time.perf_counter() - t0)
        if reply.get("id") != i or "return" not in reply:
            lost += 1
    writer.close()
    await writer.wait_closed()
    return lost


async def load(paths: list[str], commands: int) -> dict[str, Any]:
    latencies: list[float] = []
    t0 = time.perf_counter()
    lost = await asyncio.gather(*(client(p, commands, latencies) for p in paths))
    took = time.perf_counter() - t0
    latencies.sort()
    return {
        "commands_per_s": round(len(paths) * commands / took),
        "median_ms": round(statistics.median(latencies) * 1e3, 3),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1e3, 3),
        "lost": sum(lost),
        "wall_s": round(took, 3),
    }


def wait_for(paths: list[str], proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while not all(ready(p) for p in paths):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(
                f"the server did not start: {proc.stderr.read() if proc.stderr else ''}"
            )
        time.sleep(0.05)


def one_command(path: str, msg: dict[str, Any]) -> Any:
    async def go() -> Any:
        reader, writer = await connect(path)
        await reader.readline()
        writer.write(b'{"execute": "qmp_capabilities"}')
        await reader.readline()
        writer.write(json.dumps(msg).encode())
        reply = json.loads(await reader.readline())
        writer.close()
        await writer.wait_closed()
        return reply

    return asyncio.run(go())


def bench_qconf(elf: Path, directory: Path, clients: int, commands: int, transport: str
                ) -> dict[str, Any]:  # fmt: skip
    (sock,) = addresses(transport, directory, "qconf", 1)
    cmd = [sys.executable, "-m", "qconf.cli", "run", "-c",
           str(REPO / "machines" / "riscv-hello" / "board.yaml"),
           "--set", f"cpu0.firmware={elf}", "--qmp", sock]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for([sock], proc)
        counter = {"execute": "qconf-register-read",
                   "arguments": {"cpu": "/machine/cpu0", "register": "t0"}}  # fmt: skip
        time.sleep(0.2)
        before = one_command(sock, counter)["return"]["value"]
        result = asyncio.run(load([sock] * clients, commands))
        after = one_command(sock, counter)["return"]["value"]
        result["guest_rounds_during"] = after - before
        one_command(sock, {"execute": "quit"})
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return result


def qemu_t0(sock: str) -> int:
    """The guest's t0, from QEMU's human monitor."""
    hmp = {"execute": "human-monitor-command", "arguments": {"command-line": "info registers"}}
    text = one_command(sock, hmp)["return"]
    for line in text.splitlines():
        fields = line.split()
        for name, value in itertools.pairwise(fields):
            if name in ("t0", "x5/t0"):
                return int(value, 16)
    raise RuntimeError(f"no t0 in QEMU's registers: {text[:300]}")


def bench_qemu(qemu: str, elf: Path, directory: Path, clients: int, commands: int,
               transport: str) -> dict[str, Any]:  # fmt: skip
    socks = addresses(transport, directory, "qemu", clients)
    cmd = [qemu, "-M", "virt", "-bios", "none", "-kernel", str(elf), "-display", "none",
           "-monitor", "none", "-serial", "none"]  # fmt: skip
    for s in socks:
        cmd += ["-qmp", f"{s},server=on,wait=off"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(socks, proc)
        time.sleep(0.2)
        before = qemu_t0(socks[0])
        result = asyncio.run(load(socks, commands))
        result["guest_rounds_during"] = qemu_t0(socks[0]) - before
    finally:
        proc.kill()
        proc.wait()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--commands", type=int, default=1000)
    parser.add_argument("--transport", choices=("tcp", "unix"), default="tcp",
                        help="loopback TCP (default) or unix sockets")  # fmt: skip
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    qemu = shutil.which("qemu-system-riscv64")
    result: dict[str, Any] = {"clients": args.clients, "commands_each": args.commands,
                              "transport": args.transport}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        elf = GUEST
        result["qconf"] = bench_qconf(elf, Path(tmp), args.clients, args.commands,
                                      args.transport)  # fmt: skip
        if qemu is not None:
            result["qemu"] = bench_qemu(qemu, elf, Path(tmp), args.clients, args.commands,
                                        args.transport)  # fmt: skip
            result["throughput_ratio"] = round(
                result["qconf"]["commands_per_s"] / result["qemu"]["commands_per_s"], 2
            )
            result["p99_ratio"] = round(result["qconf"]["p99_ms"] / result["qemu"]["p99_ms"], 2)
        else:
            print("QEMU not found (apt-get install qemu-system-misc): qconf only",
                  file=sys.stderr)  # fmt: skip
    print_results(result, args.json)
    ok = result["qconf"]["lost"] == 0 and result["qconf"]["guest_rounds_during"] > 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
