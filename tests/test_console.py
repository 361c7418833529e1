"""The console belongs to the guest: on a real terminal (tmux, or a pty) nothing qconf
prints lands in the guest's output; QEMU's escape keys (Ctrl-A h, x, c, t, a) and the
monitor work; the terminal is given back as it was."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

from tests.external import require_file
from tests.helpers import write
from tests.terminal import terminal

ECHO = "machines/riscv-echo/board.yaml"
UBOOT = "machines/uboot-riscv/board.yaml"
# puts 'A', reads 1 byte where no device is (a note), puts 'B', powers off
NOTED = "b7020010130310042380620083c352101303200423806200b7021000375300001303535523a062006f000000"


def test_uboot_in_a_terminal_prompt_monitor_and_quit():
    require_file("/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin", "opensbi")
    require_file("/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin", "u-boot-qemu")
    with terminal("uboot") as term:
        term.type(f"qconf run -c {UBOOT} --expect 'Hit any key' --send '\\n'; "
                  "echo EXIT=$?; stty -a")  # fmt: skip
        screen = term.wait_for("=> ")
        assert screen.rstrip().endswith("=>")  # the prompt is the last thing on screen
        assert "[qconf]" not in screen
        term.type("version")
        term.wait_for("GNU ld (GNU Binutils for Debian)", after="=> version")
        term.keys("C-a", "c")
        term.wait_for("(qconf) ", after="monitor (QEMU 7.2 HMP) - type 'help'")
        term.type("info registers")
        screen = term.wait_for("(qconf) ", after="info registers")
        assert "CPU /machine/cpu0 (riscv64)" in screen
        assert re.search(r"pc [0-9a-f]{16}", screen.rsplit("info registers", 1)[1])
        term.type("info status")
        term.wait_for("VM status: running", after="info status")
        term.keys("C-a", "c")  # back to the guest
        term.type("echo back")
        term.wait_for("back\n=> ", after="echo back")
        term.keys("C-a", "x")
        screen = term.wait_for("iexten", after="EXIT=0")  # stty -a's local modes
        assert "qconf: Terminated\nEXIT=0" in screen
        modes = screen.rsplit("EXIT=0", 1)[1]
        assert " icanon " in modes and " echo " in modes  # cbreak undone
        assert "[qconf]" not in screen


def test_escape_keys_as_qemus():
    with terminal("keys") as term:
        term.type(f"qconf run -c {ECHO}; echo EXIT=$?")
        term.wait_for("q quits")
        term.keys("C-a", "h")
        screen = term.wait_for("C-a C-a  sends C-a")
        assert screen.split("q quits\n", 1)[1].splitlines()[:7] == [
            "",
            "C-a h    print this help",
            "C-a x    exit emulator",
            "C-a t    toggle console timestamps (virtual time)",
            "C-a c    switch between console and monitor",
            "C-a a    sends C-a",
            "C-a C-a  sends C-a",
        ]
        term.keys("C-a", "t")
        term.type("stamped")
        screen = term.wait_for("stamped", after="sends C-a")
        assert re.search(r"\[00:00:00\.\d{3}\] stamped", screen), screen[-500:]
        term.keys("C-a", "t", "C-a", "a", "C-a", "C-a")  # two Ctrl-A typed into the guest
        term.type("plain")
        term.wait_for("plain", after="stamped")
        term.keys("C-a", "z")  # not an escape key: dropped, as QEMU drops it
        term.keys("C-a", "x")
        screen = term.wait_for("EXIT=0")
        assert "\x01\x01plain" not in screen  # tmux shows control characters as is: none
        assert screen.count("qconf: Terminated") == 1


def test_the_monitor_stops_and_resumes_the_guest():
    with terminal("monitor") as term:
        term.type(f"qconf run -c {ECHO}; echo EXIT=$?")
        term.wait_for("q quits")
        term.keys("C-a", "c")
        term.wait_for("(qconf) ")
        term.type("stop")
        term.wait_for("(qconf) ", after="stop")
        term.type("info status")
        term.wait_for("VM status: paused", after="info status")
        term.keys("C-a", "c")
        term.type("while paused", enter=False)
        time.sleep(1)
        assert "while paused" not in term.screen().rsplit("VM status: paused", 1)[1]
        term.keys("C-a", "c")
        term.type("cont")
        term.wait_for("(qconf) ", after="cont")
        term.keys("C-a", "c")  # the guest's output, held while the monitor had the terminal
        term.wait_for("while paused", after="cont")
        term.type("q", enter=False)
        term.wait_for("EXIT=0")


def test_after_power_off_the_monitor_inspects_until_quit():
    with terminal("noshutdown") as term:
        term.type("qconf run -c machines/riscv-hello/board.yaml --no-shutdown; echo EXIT=$?")
        term.wait_for("Hello from riscv-virt")
        time.sleep(0.5)
        assert "EXIT=" not in term.screen().split("Hello from", 1)[1]  # it stays
        term.keys("C-a", "c")
        term.wait_for("(qconf) ")
        term.type("info status")
        term.wait_for("VM status: paused (shutdown)", after="info status")
        term.type("x /2xw 0x80000000")
        term.wait_for("0000000080000000: 0x", after="x /2xw")
        term.type("quit")
        term.wait_for("EXIT=0")


def _pty_run(args: list[str], processes: list, seconds: float) -> bytes:
    """Run qconf with standard input, output and error on one pty; what the pty shows."""
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "qconf.cli", "run", *args],
                            stdin=slave, stdout=slave, stderr=slave)  # fmt: skip
    processes.append(proc)
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + seconds
    try:
        while proc.poll() is None or time.monotonic() < deadline:
            import select

            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
            elif proc.poll() is not None:
                break
        proc.wait(timeout=30)
    finally:
        os.close(master)
    return seen


@pytest.mark.parametrize(("status", "shown"), [("auto", False), ("line", True)])
def test_no_status_line_on_the_guests_terminal_unless_asked(tmp_path, processes, status, shown):
    (tmp_path / "spin.bin").write_bytes(bytes.fromhex("6f000000"))
    board = write(tmp_path, "board.yaml", "extends: riscv-virt\ncpu0:\n  firmware: spin.bin\n")
    seen = _pty_run(["-c", str(board), "--timeout", "2s", "--status", status], processes, 2)
    assert (b"[qconf] virtual " in seen) == shown, seen


def test_the_status_goes_to_stderr_when_the_console_is_elsewhere(tmp_path, processes):
    import pty

    (tmp_path / "spin.bin").write_bytes(bytes.fromhex("6f000000"))
    board = write(tmp_path, "board.yaml", "extends: riscv-virt\ncpu0:\n  firmware: spin.bin\n")
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "qconf.cli", "run", "-c", str(board),
                             "--timeout", "2s"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=slave)  # fmt: skip
    processes.append(proc)
    os.close(slave)
    seen = b""
    try:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(master)
    assert proc.wait(timeout=30) == 124
    assert b"\r\x1b[K[qconf] virtual " in seen
    assert seen.endswith(b"\r\x1b[Kqconf: stopped after 2 s of host time (--timeout)\r\n")


def test_notes_wait_for_the_end_of_the_guests_output(tmp_path, processes):
    (tmp_path / "guest.bin").write_bytes(bytes.fromhex(NOTED))
    board = write(tmp_path, "board.yaml", "extends: riscv-virt\ncpu0:\n  firmware: guest.bin\n")
    seen = _pty_run(["-c", str(board)], processes, 0)
    assert seen == b"AB\r\nqconf: note: read of 1 bytes at unassigned 0x10000105 returns 0\r\n"


def test_notes_go_to_stderr_at_once_when_the_console_is_not_on_it(tmp_path):
    (tmp_path / "guest.bin").write_bytes(bytes.fromhex(NOTED))
    board = write(tmp_path, "board.yaml", "extends: riscv-virt\ncpu0:\n  firmware: guest.bin\n")
    done = subprocess.run([sys.executable, "-m", "qconf.cli", "run", "-c", str(board)],
                          capture_output=True, check=False, timeout=60)  # fmt: skip
    assert (done.returncode, done.stdout) == (0, b"AB")
    assert done.stderr == b"qconf: note: read of 1 bytes at unassigned 0x10000105 returns 0\n"


def test_no_status_turns_the_status_line_off(tmp_path, processes):
    """--no-status: nothing on standard error's terminal, even with the console elsewhere."""
    import pty

    (tmp_path / "spin.bin").write_bytes(bytes.fromhex("6f000000"))
    board = write(tmp_path, "board.yaml", "extends: riscv-virt\ncpu0:\n  firmware: spin.bin\n")
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "qconf.cli", "run", "-c", str(board),
                             "--timeout", "2s", "--no-status"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=slave)  # fmt: skip
    processes.append(proc)
    os.close(slave)
    seen = b""
    try:
        while chunk := _read(master):
            seen += chunk
    finally:
        os.close(master)
    assert proc.wait(timeout=30) == 124
    assert seen == b"qconf: stopped after 2 s of host time (--timeout)\r\n"


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # the pty's other end closed
        return b""


def test_the_status_in_the_terminals_title(tmp_path):
    (tmp_path / "spin.bin").write_bytes(bytes.fromhex("6f000000"))
    board = write(tmp_path, "board.yaml", "extends: riscv-virt\ncpu0:\n  firmware: spin.bin\n")
    with terminal("title") as term:
        term.type(f"qconf run -c {board} --timeout 4s --status title; echo EXIT=$?")
        deadline = time.monotonic() + 60
        while not term.title().startswith("qconf: virtual "):
            assert time.monotonic() < deadline, term.title()
            time.sleep(0.2)
        assert re.fullmatch(r"qconf: virtual [\d.]+ \w+, [\d.]+ \w* ?instructions, [\d.]+ MIPS",
                            term.title()), term.title()  # fmt: skip
        screen = term.wait_for("EXIT=124")
        assert "[qconf]" not in screen
        assert not term.title().startswith("qconf: virtual ")  # given back
