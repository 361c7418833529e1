"""What goes wrong when a machine starts is a located error, not a traceback: memory the
host cannot give, images that are not what they say or do not fit, backends that cannot
be opened; and a closed standard output ends a run quietly."""

from __future__ import annotations

import errno
import os
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from qconf.cli import main
from qconf.emu import memory
from qconf.emu.chardev import StdioChardev
from qconf.emu.loader import read_image
from tests.helpers import MACHINES, write

HELLO_ELF = MACHINES / "guests" / "riscv" / "hello.elf"
TIMER = MACHINES / "riscv-timer" / "board.yaml"


def run(tmp_path: Path, board: str, *args: str) -> tuple[int, str]:
    path = write(tmp_path, "board.yaml", board)
    r = CliRunner().invoke(main, ["run", "-c", str(path), "--no-cache", *args])
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    return r.exit_code, r.stderr


def elf64(paddr: int, filesz: int, memsz: int) -> bytes:
    """A minimal RISC-V ELF file with one loadable segment, 8 KiB on disk."""
    header = struct.pack("<4sBBBBB7sHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0, 0, bytes(7), 2,
                         0xF3, 1, paddr, 64, 0, 0, 64, 56, 1, 64, 0, 0)  # fmt: skip
    segment = struct.pack("<IIQQQQQQ", 1, 7, 0x1000, paddr, paddr, filesz, memsz, 0x1000)
    head = header + segment
    return head + bytes(0x1000 - len(head)) + b"\x73\x00\x10\x00" * 1024


# --- memory the host cannot give -------------------------------------------------------


def test_a_ram_the_host_cannot_map_is_located_at_its_size(tmp_path: Path):
    # 1 PiB: more than any host's address space, with or without overcommit
    code, err = run(tmp_path, f"extends: riscv-virt\ncpu0: {{firmware: {HELLO_ELF}}}\n"
                    "ram:\n  size: 1048576TiB\n")  # fmt: skip
    assert code == 1
    assert err.startswith(
        f"qconf: error: {tmp_path}/board.yaml:4:9: ram.size: the host cannot give 1048576TiB "
        "of memory for ram: "
    )
    assert "[E909]" in err and "hint: every RAM and ROM is host memory" in err


def test_a_ram_set_on_the_command_line_names_the_argument(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    real = memory._anonymous

    def small_host(length: int) -> object:  # a host with little memory to give
        if length > 1 << 30:
            raise OSError(errno.ENOMEM, os.strerror(errno.ENOMEM))
        return real(length)

    monkeypatch.setattr(memory, "_anonymous", small_host)
    code, err = run(tmp_path, f"extends: riscv-virt\ncpu0: {{firmware: {HELLO_ELF}}}\n",
                    "--set", "ram.size=64GiB")  # fmt: skip
    assert code == 1
    assert err.startswith(
        "qconf: error: --set #1 'ram.size=64GiB': ram.size: the host cannot give 64GiB of "
        "memory for ram: Cannot allocate memory [E909]"
    )


# --- images ------------------------------------------------------------------------------


def test_an_elf_segment_larger_than_memory_is_refused_before_it_is_made(tmp_path: Path):
    prog = tmp_path / "prog.elf"
    prog.write_bytes(elf64(0x8000_0000, 0x1000, 64 << 30))  # 8 KiB file, 64 GiB segment
    start = time.process_time()
    code, err = run(tmp_path, "extends: riscv-virt\ncpu0: {firmware: prog.elf}\n")
    assert time.process_time() - start < 5
    assert code == 1
    assert err.startswith(f"qconf: error: {tmp_path}/board.yaml:2:18: {prog}: segment 0 "
                          "(0x1000000000 bytes at 0x80000000) does not fit in any RAM or ROM "
                          "[E907]")  # fmt: skip


def test_an_elf_segment_with_more_file_than_memory_is_broken(tmp_path: Path):
    prog = tmp_path / "prog.elf"
    prog.write_bytes(elf64(0x8000_0000, 0x2000, 0x1000))
    code, err = run(tmp_path, "extends: riscv-virt\ncpu0: {firmware: prog.elf}\n")
    assert code == 1 and "broken ELF file: segment 0 has more bytes in the file" in err


IMAGE = """\
extends: riscv-virt
cpu0: {{firmware: {firmware}}}
backends:
  type: container
  image:
    type: container
    blob: {{type: image, file: {file}, format: {format}, address: 0x80100000, target: ram}}
"""


@pytest.mark.parametrize(("file", "fmt", "expected"), [
    ("board.yaml", "elf", "is not an ELF file, but the image says format: elf [E904]"),
    ("/dev/zero", "raw", "cannot read image /dev/zero: not a regular file (a character device) "
                         "[E903]"),
    ("fifo", "auto", "not a regular file (a FIFO) [E903]"),
])  # fmt: skip
def test_images_are_what_they_say(tmp_path: Path, file: str, fmt: str, expected: str):
    os.mkfifo(tmp_path / "fifo")
    code, err = run(tmp_path, IMAGE.format(firmware=HELLO_ELF, file=file, format=fmt),
                    "--max-insns", "1000")  # fmt: skip
    assert code == 1 and expected in err, err
    assert err.startswith(f"qconf: error: {tmp_path}/board.yaml:7:")


def test_a_raw_image_is_loaded_as_it_is_even_an_elf_file():
    chunks, entry = read_image(str(HELLO_ELF), 0x8010_0000, format="raw")
    assert chunks == [(0x8010_0000, HELLO_ELF.read_bytes())] and entry is None
    chunks, entry = read_image(str(HELLO_ELF), None, format="elf")
    assert entry == 0x8000_0000 and chunks[0][0] == 0x8000_0000
    assert read_image(str(HELLO_ELF), None) == (chunks, entry)  # auto: the file says ELF


def test_a_raw_image_larger_than_the_memory_is_not_read_whole(tmp_path: Path):
    big = tmp_path / "big.bin"
    with big.open("wb") as f:
        f.truncate(1 << 30)  # a sparse 1 GiB file: reading it whole would take 1 GiB
    code, err = run(tmp_path, IMAGE.format(firmware=HELLO_ELF, file="big.bin", format="raw"))
    assert code == 1 and "is larger than all the RAM and ROM it could be loaded into" in err


# --- character backends ------------------------------------------------------------------


def test_a_unix_socket_in_a_missing_directory(tmp_path: Path):
    code, err = run(tmp_path, f"extends: riscv-virt\ncpu0: {{firmware: {HELLO_ELF}}}\n"
                    "soc:\n  uart0: {chardev: 'unix:/no/such/dir/console.sock'}\n")  # fmt: skip
    assert code == 1
    assert err == (
        f"qconf: error: {tmp_path}/board.yaml:4:20: soc.uart0.chardev: cannot open its unix "
        "backend /no/such/dir/console.sock: No such file or directory [E910]\n"
        f"  layer: file {tmp_path}/board.yaml\n"
        "  hint: the directory /no/such/dir does not exist: create it, or choose another path\n"
    )


def test_a_tcp_port_in_use(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, err = run(tmp_path, f"extends: riscv-virt\ncpu0: {{firmware: {HELLO_ELF}}}\n",
                        "--set", f"soc.uart0.chardev=tcp:127.0.0.1:{port}")  # fmt: skip
    assert code == 1
    assert f"soc.uart0.chardev: cannot open its tcp backend 127.0.0.1:{port}: " in err
    assert f"another program listens on port {port}" in err and "[E910]" in err


# --- a closed standard output ------------------------------------------------------------


def test_a_closed_standard_output_ends_the_run_quietly(tmp_path: Path):
    # `qconf run | head -1` once head has gone: the first write finds the pipe closed
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run([sys.executable, "-m", "qconf", "run", "-c", str(TIMER)],
                              stdout=write_end, stderr=subprocess.PIPE, text=True,
                              timeout=60, check=False)  # fmt: skip
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (141, "")


def test_stdio_drops_output_once_closed(monkeypatch: pytest.MonkeyPatch):
    closed: list[bool] = []
    console = StdioChardev(on_closed=lambda: closed.append(True))
    read_end, write_end = os.pipe()
    os.close(read_end)
    saved = os.dup(1)
    try:
        os.dup2(write_end, 1)
        console._out = 1
        console.write(b"one\n")
        console.write(b"two\n")
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(write_end)
    assert closed == [True]


def test_a_unix_socket_path_never_removes_a_file(tmp_path: Path):
    precious = write(tmp_path, "notes.txt", "precious\n")
    code, err = run(tmp_path, f"extends: riscv-virt\ncpu0: {{firmware: {HELLO_ELF}}}\n",
                    "--set", f"soc.uart0.chardev=unix:{precious}")  # fmt: skip
    assert code == 1 and "it exists and is not a socket [E910]" in err
    assert precious.read_text() == "precious\n"
