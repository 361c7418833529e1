"""qconf's QMP beside Debian's QEMU 7.2 (qemu-system-riscv64, qemu-system-aarch64): the
replies to what management tools ask first have QEMU's shapes, the errors of ``memsave``
and ``pmemsave`` are QEMU's, ``x /i`` lays out lines as QEMU does, and what QEMU refuses
before the machine is built qconf refuses too, except where it has an answer then."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qconf.qmp.commands import COMMANDS
from tests.external import require_program
from tests.qmp_helpers import HELLO, Client, start

MACHINE_INFO = {"name": str, "alias": str, "is-default": bool, "cpu-max": int,
                "hotpluggable-cpus": bool, "numa-mem-supported": bool, "deprecated": bool,
                "default-cpu-type": str, "default-ram-id": str}  # fmt: skip
"""QEMU 7.2's MachineInfo (qapi/machine.json), as its query-qmp-schema lists it."""
REQUIRED = {"name", "cpu-max", "hotpluggable-cpus", "numa-mem-supported", "deprecated"}
CHARDEV_INFO = {"label": str, "filename": str, "frontend-open": bool}

ANSWERED_BEFORE_THE_BUILD = {
    "cont": "builds the machine, then runs it",
    "device_add": "adds the object to the configuration",
    "device_del": "removes the object from the configuration",
    "device-list-properties": "the types are known before the build",
    "human-monitor-command": "info mtree, qtree... show the machine as configured so far",
}
"""Commands QEMU refuses before the build that qconf answers then (docs/qmp.md)."""


@pytest.fixture
def clients() -> Iterator[list[Client]]:
    """Clients a test opens (append them): closed at its end."""
    opened: list[Client] = []
    yield opened
    for client in opened:
        client.close()


def qemu(tmp_path: Path, processes: list[Any], *args: str, arch: str = "riscv64") -> Client:
    binary = require_program(f"qemu-system-{arch}", "qemu-system-misc" if arch == "riscv64"
                             else "qemu-system-arm")  # fmt: skip
    sock = str(tmp_path / f"qemu-{arch}.sock")
    proc = subprocess.Popen([binary, "-M", "virt", "-display", "none", *args,
                             "-qmp", f"unix:{sock},server=on,wait=off"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    processes.append(proc)
    deadline = time.monotonic() + 20
    while True:  # the socket file comes before QEMU listens on it
        try:
            return Client(sock)
        except (FileNotFoundError, ConnectionRefusedError):
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr
            time.sleep(0.05)


def ask(client: Client, name: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    import json

    msg: dict[str, Any] = {"execute": name}
    if args is not None:
        msg["arguments"] = args
    client.conn.sendall(json.dumps(msg).encode())
    reply = client.read()
    while "event" in reply:
        reply = client.read()
    return reply


def test_replies_have_qemus_shapes_and_errors(tmp_path, processes, clients):
    theirs = qemu(tmp_path, processes, "-S")
    _proc, sock = start(tmp_path, processes, "-S", "-c", HELLO)
    ours = Client(sock)
    clients += [theirs, ours]
    for client in (theirs, ours):
        for machine in ask(client, "query-machines")["return"]:
            assert REQUIRED <= set(machine) <= set(MACHINE_INFO), machine
            assert all(isinstance(v, MACHINE_INFO[k]) for k, v in machine.items()), machine
        chardevs = ask(client, "query-chardev")["return"]
        for chardev in chardevs:
            assert set(chardev) == set(CHARDEV_INFO), chardev
            assert all(isinstance(v, CHARDEV_INFO[k]) for k, v in chardev.items()), chardev
        monitor = next(c for c in chardevs if c["label"] == "compat_monitor0")
        assert re.fullmatch(r"unix:/.*\.sock,server=on", monitor["filename"])
    assert ask(ours, "query-hotpluggable-cpus") == ask(theirs, "query-hotpluggable-cpus")
    saved = str(tmp_path / "saved.bin")
    calls = [
        ("memsave", {"val": 0x1000, "size": 16, "filename": saved}),
        ("memsave", {"val": 0x10, "size": 16, "filename": saved}),
        ("memsave", {"val": 0x1000, "size": 16, "filename": saved, "cpu-index": 1}),
        ("memsave", {"val": 0x1000, "size": 16, "filename": "/nonexistent/x.bin"}),
        ("memsave", {"val": 0x1000, "size": 16}),
        ("memsave", {"val": 0x1000, "size": 0, "filename": saved}),
        ("pmemsave", {"val": 0x8000_0000, "size": 16, "filename": saved}),
        ("pmemsave", {"val": 0x10, "size": 16, "filename": saved}),
        ("pmemsave", {"val": 0x1000, "size": 16, "filename": saved, "cpu-index": 0}),
    ]
    for name, args in calls:
        assert ask(ours, name, args) == ask(theirs, name, args), (name, args)
    layout = re.compile(r"0x[0-9a-f]{16}:  [0-9a-f]{8} {10}[a-z.]+ +\S.*")  # a 4-byte one
    for client, address in ((theirs, "0x1000"), (ours, "0x80000000")):
        lines = ask(client, "human-monitor-command",
                    {"command-line": f"x /2i {address}"})["return"].split("\r\n")  # fmt: skip
        assert len(lines) == 3 and lines[2] == "" and layout.fullmatch(lines[0]), lines


def test_cpu_definitions_have_qemus_shape(tmp_path, processes, clients):
    theirs = qemu(tmp_path, processes, "-S", "-cpu", "cortex-a57", arch="aarch64")
    _proc, sock = start(tmp_path, processes, "-S", "-c", HELLO)
    ours = Client(sock)
    clients += [theirs, ours]
    shapes = [{k: type(v) for k, v in d.items()} for d in ask(theirs, "query-cpu-definitions")
              ["return"] + ask(ours, "query-cpu-definitions")["return"]]  # fmt: skip
    assert shapes and all(shape == shapes[0] for shape in shapes)


def test_what_qemu_refuses_before_the_build_qconf_refuses(tmp_path, processes, clients):
    theirs = qemu(tmp_path, processes, "-S", "-preconfig")
    _proc, sock = start(tmp_path, processes, "--preconfig", "-S", "-c", HELLO)
    ours = Client(sock)
    clients += [theirs, ours]
    qemus = {c["name"] for c in ask(theirs, "query-commands")["return"]}
    compared = 0
    for name in COMMANDS:
        if name not in qemus or name in ("quit", "x-exit-preconfig", "qmp_capabilities"):
            continue
        refused = "is permitted only after machine initialization has completed" in (
            ask(theirs, name).get("error", {}).get("desc", ""))  # fmt: skip
        if name in ANSWERED_BEFORE_THE_BUILD:
            assert refused, f"QEMU answers {name} before the build: drop it from the list"
            continue
        reply = ask(ours, name)
        assert ("permitted only once the machine" in reply.get("error", {}).get("desc", "")
                ) == refused, (name, reply)  # fmt: skip
        compared += 1
    assert compared >= 20
    assert ask(ours, "query-status")["return"]["status"] == "prelaunch"
