"""Helpers for tests that run ``qconf run --qmp`` as a process and talk to it over a raw
socket (the qemu.qmp clients are used where a test says so)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.helpers import MACHINES, REPO

HELLO = str(MACHINES / "riscv-hello" / "board.yaml")
FOREVER = str(MACHINES / "guests" / "riscv" / "forever.elf")  # a guest that never stops
RUNNING = ["-c", HELLO, "--set", f"cpu0.firmware={FOREVER}"]
"""``qconf run`` arguments for a machine that runs until told otherwise."""


def start(tmp_path: Path, processes: list[Any], *args: str,
          max_files: int | None = None) -> tuple[subprocess.Popen[bytes], str]:  # fmt: skip
    """``qconf run --qmp unix:SOCK ARGS``, with at most ``max_files`` descriptors."""
    sock = str(tmp_path / "qmp.sock")
    qconf = ["-m", "qconf.cli"]
    if max_files is not None:
        qconf = ["-c", "import resource, runpy, sys; "
                 f"resource.setrlimit(resource.RLIMIT_NOFILE, ({max_files}, {max_files})); "
                 "runpy.run_module('qconf.cli', run_name='__main__')"]  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, *qconf, "run", "--qmp", f"unix:{sock}", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO,
    )  # fmt: skip
    processes.append(proc)
    deadline = time.monotonic() + 20
    while not os.path.exists(sock):
        assert time.monotonic() < deadline and proc.poll() is None, proc.stderr
        time.sleep(0.05)
    return proc, sock


class Client:
    def __init__(self, sock: str, negotiate: bool = True) -> None:
        self.conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.conn.connect(sock)
        except OSError:
            self.conn.close()
            raise
        self.conn.settimeout(20)
        self.reader = self.conn.makefile("rb")
        if negotiate:
            assert "QMP" in self.read()
            assert self.send(b'{"execute": "qmp_capabilities"}') == {"return": {}}

    def read(self) -> dict[str, Any]:
        line = self.reader.readline()
        assert line, "the server hung up"
        reply: dict[str, Any] = json.loads(line)
        return reply

    def send(self, raw: bytes) -> dict[str, Any]:
        self.conn.sendall(raw)
        return self.read()

    def close(self) -> None:
        self.reader.close()
        self.conn.close()
