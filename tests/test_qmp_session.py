"""docs/qmp-session.md, replayed: its qmp-shell lines, typed into qmp-shell against qconf,
get the replies the page shows."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time

from tests.helpers import REPO

PAGE = REPO / "docs" / "qmp-session.md"


def page_steps() -> list[tuple[str, str | None]]:
    """(command line, the reply line the page shows or None) for each ``(QEMU)`` line."""
    lines = [line for block in re.findall(r"```text\n(.*?)```", PAGE.read_text(), re.S)
             for line in block.splitlines()]  # fmt: skip
    steps = []
    for i, line in enumerate(lines):
        if line.startswith("(QEMU)"):
            after = lines[i + 1] if i + 1 < len(lines) else ""
            steps.append((line[6:].strip(), after if after.startswith("{") else None))
    return steps


class Pipe:
    """What a process writes, taken up to a pattern at a time."""

    def __init__(self, fd: int) -> None:
        self.fd, self.buf = fd, b""

    def until(self, pattern: bytes, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while pattern not in self.buf:
            ready, _, _ = select.select([self.fd], [], [], max(0.0, deadline - time.monotonic()))
            assert ready, f"no {pattern!r} in {self.buf[-500:]!r}"
            chunk = os.read(self.fd, 65536)
            assert chunk, f"ended before {pattern!r}: {self.buf[-500:]!r}"
            self.buf += chunk
        cut = self.buf.index(pattern) + len(pattern)
        taken, self.buf = self.buf[:cut], self.buf[cut:]
        return taken.decode()

    def available(self, wait: float) -> str:
        """What is there after ``wait`` seconds, without waiting for more."""
        time.sleep(wait)
        while select.select([self.fd], [], [], 0)[0]:
            chunk = os.read(self.fd, 65536)
            if not chunk:
                break
            self.buf += chunk
        taken, self.buf = self.buf, b""
        return taken.decode()


def test_the_session_page_works_as_shown(tmp_path, processes):
    sock = str(tmp_path / "qconf.sock")
    qconf = subprocess.Popen(
        [sys.executable, "-m", "qconf.cli", "run", "--preconfig", "-S", "--qmp", f"unix:{sock}"],
        cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    processes.append(qconf)
    deadline = time.monotonic() + 20
    while not os.path.exists(sock):
        assert time.monotonic() < deadline and qconf.poll() is None
        time.sleep(0.05)
    shell = subprocess.Popen(
        [sys.executable, "-m", "qemu.qmp.qmp_shell", sock], cwd=REPO,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**os.environ, "HOME": str(tmp_path)},  # qmp-shell keeps its history there
    )  # fmt: skip
    processes.append(shell)
    assert shell.stdin is not None and shell.stdout is not None and qconf.stdout is not None
    said, console = Pipe(shell.stdout.fileno()), Pipe(qconf.stdout.fileno())
    said.until(b"Connected to QEMU 7.2.0\n\n")
    steps = page_steps()
    assert [cmd for cmd, _ in steps][:2] == [
        "device_add driver=riscv64 id=cpu0 reset_vector=0x80000000 "
        "firmware=machines/guests/riscv/echo.elf",
        "object-add qom-type=ram id=ram base=0x80000000 size=16MiB",
    ]  # fmt: skip
    checked, printed = 0, ""
    for cmd, expected in steps:
        if cmd == "":  # events: shown on an empty line, once they have come
            if not printed:
                printed = console.until(b"echo: type, q quits\n")  # in the first terminal
            assert expected is not None
            event = re.sub(r"'timestamp': \{[^}]*\}", "", expected)  # as on the page
            shown = ""
            for _ in range(150):  # Enter, until the shell has read the event (its loop runs one
                # step per Enter: under load the event takes more of them)
                shell.stdin.write(b"\n")
                shell.stdin.flush()
                shown += said.available(0.2)
                if event.split("'event': ")[1][:12] in shown:
                    break
            assert re.sub(r"'timestamp': \{[^}]*\}", "", shown).count(event) == 1, shown
            checked += 1
            continue
        shell.stdin.write(cmd.encode() + b"\n")
        shell.stdin.flush()
        if cmd == "quit":
            break
        reply = said.until(b"\n").removeprefix("(QEMU) ").strip()
        if expected is not None:
            assert reply == expected, cmd
            checked += 1
        elif cmd.startswith("qconf-explain"):
            assert '"value": 16777216' in reply and '"layer": "qmp client 1"' in reply
        else:  # the failing build, with the overlap
            assert cmd == "x-exit-preconfig" and '"error"' in reply
            assert "regions overlap" in reply and "uart1" in reply and "uart0" in reply
    assert checked >= 10
    shell_out, _ = shell.communicate(timeout=20)
    _, err = qconf.communicate(timeout=20)
    assert qconf.returncode == 0, err
    assert b"Traceback" not in err + shell_out
