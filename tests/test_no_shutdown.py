"""--no-shutdown (QEMU's -no-shutdown): a guest's power-off or fault stops the machine and
keeps it for inspection over QMP until quit, with QEMU's events and run states; without
it, query-status never says running once the guest has powered off."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from qemu.qmp import ConnectError, QMPClient
from qemu.qmp.qmp_client import ExecuteError

from tests.helpers import MACHINES

ARM64_HELLO = MACHINES / "arm64-hello" / "board.yaml"


def start(command: list[str], sock: Path, processes: list) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)  # fmt: skip
    processes.append(proc)
    deadline = time.monotonic() + 30
    while not sock.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return proc


async def connected(sock: Path) -> QMPClient:
    """A client connected to ``sock`` (which may exist a moment before it listens)."""
    for _ in range(100):
        client = QMPClient("test")
        try:
            await client.connect(str(sock))
            return client
        except ConnectError:
            await asyncio.sleep(0.1)
    raise AssertionError(f"nothing listens on {sock}")


async def inspect_after_power_off(sock: Path) -> dict[str, Any]:
    """What a client sees: power off, inspect, cont refused, reset, run again, quit."""
    client = await connected(sock)
    events: list[tuple[str, Any]] = []

    async def listen() -> None:
        async for ev in client.events:
            events.append((ev["event"], ev.get("data")))

    listener = asyncio.create_task(listen())
    seen: dict[str, Any] = {"before": (await client.execute("query-status"))["status"]}

    async def until(count: int) -> None:
        for _ in range(200):
            if len([e for e in events if e[0] == "STOP"]) >= count:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(events)

    await client.execute("cont")
    await until(1)
    seen["off"] = (await client.execute("query-status"))["status"]
    registers = await client.execute("human-monitor-command", {"command-line": "info registers"})
    seen["registers"] = "X00=" in registers or "x0 " in registers
    try:
        await client.execute("cont")
        seen["cont"] = "allowed"
    except ExecuteError as exc:
        seen["cont"] = exc.error.error.desc
    await client.execute("system_reset")
    seen["reset"] = (await client.execute("query-status"))["status"]
    await client.execute("cont")
    await until(2)
    seen["again"] = (await client.execute("query-status"))["status"]
    await client.execute("quit")
    await asyncio.sleep(0.3)
    listener.cancel()
    with contextlib.suppress(EOFError):  # the server hung up after quit, as QEMU's
        await client.disconnect()
    seen["events"] = events
    return seen


def test_after_power_off_the_machine_stays_as_qemus_does(tmp_path, processes):
    sock = tmp_path / "qmp.sock"
    proc = start([sys.executable, "-m", "qconf.cli", "run", "-c", str(ARM64_HELLO),
                  "--qmp", f"unix:{sock}", "-S", "--no-shutdown"], sock, processes)  # fmt: skip
    seen = asyncio.run(inspect_after_power_off(sock))
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0  # quit, as QEMU's
    assert out.count(b"Hello from arm64-virt") == 2
    assert seen["off"] == "shutdown" and seen["registers"]
    assert seen["cont"] == "Resetting the Virtual Machine is required"
    assert seen["reset"] == "paused"  # QEMU says prelaunch: qconf's prelaunch is "not built"
    assert seen["again"] == "shutdown"
    off = [("SHUTDOWN", {"guest": True, "reason": "guest-shutdown"}), ("STOP", None)]
    assert seen["events"] == [
        ("RESUME", None), *off,
        ("RESET", {"guest": False, "reason": "host-qmp-system-reset"}),
        ("RESUME", None), *off,
        ("SHUTDOWN", {"guest": False, "reason": "host-qmp-quit"}),
    ]  # fmt: skip
    assert b"the machine stays for inspection (--no-shutdown) until quit" in err


def test_qemu_does_the_same(tmp_path, processes):
    """The same client against qemu-system-aarch64 -no-shutdown (the reference)."""
    qemu = shutil.which("qemu-system-aarch64")
    if qemu is None:
        pytest.skip("qemu-system-aarch64 not found: apt-get install qemu-system-arm")
    sock = tmp_path / "qemu.sock"
    elf = MACHINES / "guests" / "aarch64" / "hello.elf"
    proc = start([qemu, "-M", "virt", "-cpu", "cortex-a57", "-display", "none", "-serial",
                  "null", "-kernel", str(elf), "-qmp", f"unix:{sock},server=on,wait=off",
                  "-S", "-no-shutdown"], sock, processes)  # fmt: skip
    seen = asyncio.run(inspect_after_power_off(sock))
    proc.communicate(timeout=30)
    assert (seen["off"], seen["again"], seen["reset"]) == ("shutdown", "shutdown", "prelaunch")
    assert seen["cont"] == "Resetting the Virtual Machine is required"
    names = [name for name, _ in seen["events"]]
    assert names == ["RESUME", "SHUTDOWN", "STOP", "RESET", "RESUME", "SHUTDOWN", "STOP",
                     "SHUTDOWN"]  # fmt: skip


async def inspect_a_fault(sock: Path) -> dict[str, Any]:
    client = await connected(sock)
    events: list[str] = []

    async def listen() -> None:
        async for ev in client.events:
            events.append(ev["event"] + json.dumps(ev.get("data"), sort_keys=True))

    listener = asyncio.create_task(listen())
    await client.execute("cont")
    for _ in range(200):
        if any(e.startswith("STOP") for e in events):
            break
        await asyncio.sleep(0.05)
    seen: dict[str, Any] = {"status": (await client.execute("query-status"))["status"]}
    seen["pc"] = await client.execute("qconf-register-read", {"cpu": "/machine/cpu0",
                                                              "register": "pc"})  # fmt: skip
    seen["memory"] = await client.execute("qconf-memory-read", {"cpu": "/machine/cpu0",
                                                                "address": 0x8000_0000,
                                                                "size": 4})  # fmt: skip
    seen["qom"] = await client.execute("qom-get", {"path": "/machine/cpu0", "property": "freq"})
    seen["info"] = await client.execute("human-monitor-command", {"command-line": "info status"})
    await client.execute("quit")
    await asyncio.sleep(0.3)
    listener.cancel()
    with contextlib.suppress(EOFError):  # the server hung up after quit, as QEMU's
        await client.disconnect()
    seen["events"] = events
    return seen


def test_a_guest_fault_leaves_the_machine_guest_panicked(tmp_path, processes):
    sock = tmp_path / "qmp.sock"
    proc = start([sys.executable, "-m", "qconf.cli", "run", "-c", "riscv-virt", "--qmp",
                  f"unix:{sock}", "-S", "--no-shutdown"], sock, processes)  # fmt: skip
    seen = asyncio.run(inspect_a_fault(sock))
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert seen["status"] == "guest-panicked"
    assert 0x1000 <= seen["pc"]["value"] <= 0x1004  # no program there: illegal instruction
    assert seen["memory"] == {"data": "00000000"} and seen["qom"] == 1_000_000_000
    assert seen["info"] == "VM status: paused (guest-panicked)\r\n"
    assert [e.split("{")[0].split("null")[0] for e in seen["events"]] == [
        "RESUME", "QCONF_GUEST_FAULT", "GUEST_PANICKED", "STOP", "SHUTDOWN"]  # fmt: skip
    assert 'GUEST_PANICKED{"action": "pause"}' in seen["events"]
    assert "illegal instruction with no trap handler" in err.decode()


def test_without_no_shutdown_query_status_never_says_running_after_power_off(tmp_path, processes):
    sock = tmp_path / "qmp.sock"
    proc = start([sys.executable, "-m", "qconf.cli", "run", "-c",
                  str(MACHINES / "riscv-timer" / "board.yaml"), "--qmp", f"unix:{sock}", "-S"],
                 sock, processes)  # fmt: skip
    for _ in range(100):  # the path may exist a moment before it listens
        client = socket.socket(socket.AF_UNIX)
        try:
            client.connect(str(sock))
            break
        except ConnectionRefusedError:
            client.close()
            time.sleep(0.1)
    reader = client.makefile("rb")
    reader.readline()  # the greeting
    client.sendall(b'{"execute": "qmp_capabilities"}{"execute": "cont"}')
    lines = []
    try:
        while True:  # ask and ask while the guest runs, until the server hangs up
            client.sendall(b'{"execute": "query-status"}')
            line = reader.readline()
            if not line:
                break
            lines.append(json.loads(line))
    except OSError:
        pass
    client.close()
    proc.communicate(timeout=30)
    assert proc.returncode == 0
    events = [i for i, m in enumerate(lines) if m.get("event") == "SHUTDOWN"]
    assert events, lines[-5:]
    after = [m["return"]["status"] for m in lines[events[0] :] if "status" in m.get("return", {})]
    assert set(after) <= {"shutdown"}
    assert lines[events[0]]["data"] == {"guest": True, "reason": "guest-shutdown"}
    before = [m["return"]["status"] for m in lines[: events[0]] if "status" in m.get("return", {})]
    assert set(before) <= {"running"}
    assert os.path.exists(sock) is False
