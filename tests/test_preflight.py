"""qconf validate runs every check qconf run runs before the first instruction.

The codes are read from docs/cli.md's table (every E9xx a run raises before the guest
starts); for each there is a machine that fails with it, and both commands must say so.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import qconf
from qconf.cli import main
from qconf.emu import preflight
from qconf.model.registry import TypeInfo
from tests.helpers import MACHINES, REPO, write

HELLO = MACHINES / "guests" / "riscv" / "hello.elf"
BASE = f"extends: riscv-virt\ncpu0: {{firmware: {HELLO}}}\n"

NOT_FROM_A_BOARD = {
    "E915": "qconf sweep's Ray executor: an option of qconf sweep",
    "E920": "the pytest plugin's waits: a test's, once the guest runs",
    "E921": "the pytest plugin's in-process QMP commands",
    "E930": "saving a checkpoint: while the guest runs",
    "E931": "a checkpoint file: an option of qconf run (--restore)",
    "E932": "a checkpoint of another machine: an option of qconf run (--restore)",
    "E950": "a --qmp address: an option of qconf run, not of the machine",
    "E951": "a --gdb address: an option of qconf run, not of the machine",
}
"""Codes of the table that no machine document can cause."""

FROM_TYPES = ("E905", "E911")
"""Codes only a broken type causes (a CPU type without a core, a model that cannot be
imported): a registry with such a type stands in for a broken installation."""


def run_codes() -> list[str]:
    """The E9xx codes of docs/cli.md's error table."""
    text = (REPO / "docs" / "cli.md").read_text()
    return sorted(set(re.findall(r"^\| (E9\d\d) \|", text, re.M)))


def _taken_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def boards(tmp_path: Path, port: int) -> dict[str, tuple[str, list[str]]]:
    """A failing machine for each code a board can cause: (board text, --set args)."""
    (tmp_path / "broken.elf").write_bytes(b"\x7fELF" + bytes(12))
    (tmp_path / "raw.bin").write_bytes(b"\x13\x00\x00\x00" * 4)
    return {
        "E901": (BASE, ["ram.size=1.5KiB"]),
        "E902": (BASE, ["ram.size=2KiB", "soc.test.base=0x80000800"]),
        "E903": ("extends: riscv-virt\ncpu0: {firmware: missing.elf}\n", []),
        "E904": ("extends: riscv-virt\ncpu0: {firmware: broken.elf}\n", []),
        "E906": ("type: machine\nram: {type: ram, base: 0x8000_0000, size: 1MiB}\n", []),
        "E907": (
            "extends: riscv-virt\ncpu0: {firmware: raw.bin, reset_vector: 0x4000_0000}\n",
            [],
        ),
        "E908": (BASE, ["++device_tree=auto", "~ram"]),
        "E909": (BASE, ["ram.size=1048576TiB"]),
        "E910": (BASE, [f"soc.uart0.chardev=tcp:127.0.0.1:{port}"]),
    }


def _cli(tmp_path: Path, command: str, board: str, sets: list[str]) -> tuple[int, str]:
    path = write(tmp_path, "board.yaml", board)
    args = [w for s in sets for w in ("--set", s)]
    extra = ["--no-cache", "--max-insns", "1000"] if command == "run" else []
    r = CliRunner().invoke(main, [command, "-c", str(path), *args, *extra])
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    return r.exit_code, r.stderr


def test_the_table_lists_what_a_run_checks_first(tmp_path: Path) -> None:
    codes = run_codes()
    assert "E901" in codes and "E910" in codes
    assert set(codes) == set(boards(tmp_path, 1)) | set(FROM_TYPES) | set(NOT_FROM_A_BOARD), (
        "a new E9xx code: add a failing machine for it here"
    )


BOARD_CODES = [c for c in run_codes() if c not in (*FROM_TYPES, *NOT_FROM_A_BOARD)]


@pytest.mark.parametrize("code", BOARD_CODES)
def test_validate_fails_where_run_fails(
    code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for port in _taken_port():
        board, sets = boards(tmp_path, port)[code]
        run_status, run_err = _cli(tmp_path, "run", board, sets)
        status, err = _cli(tmp_path, "validate", board, sets)
    assert run_status == 1 and f"[{code}]" in run_err, run_err
    assert status == 1 and f"[{code}]" in err, err
    first = next(line for line in err.splitlines() if f"[{code}]" in line)
    assert first in run_err  # the same message, at the same place
    assert "Traceback" not in err


def _with_type(info: TypeInfo) -> qconf.Machine:
    registry = qconf.builtin_registry(plugins=False).extended([info])
    doc = qconf.resolve(["riscv-virt"], [f"cpu0.type={info.name}"], registry=registry)
    return qconf.build(doc)


@pytest.mark.parametrize("code", FROM_TYPES)
def test_validate_fails_where_run_fails_for_broken_types(code: str) -> None:
    from qconf.arch.riscv.types import RiscvProps
    from qconf.emu.emulator import Emulator

    behaviour = None if code == "E905" else "qconf.no_such_module:Core"
    info = TypeInfo("broken-hart", RiscvProps, "a hart", "cpu", "tests",
                    behaviour=behaviour, arch="qconf.arch.riscv:RV64")  # fmt: skip
    machine = _with_type(info)
    try:
        with pytest.raises(qconf.QconfError) as checked:
            preflight.check(machine, memory=True)
        emulator = Emulator(machine)
        try:
            with pytest.raises(qconf.QconfError) as ran:
                emulator.prepare()
        finally:
            emulator.close()
    finally:
        machine.destroy()
    assert checked.value.code == ran.value.code == code
    assert checked.value.lines() == ran.value.lines()


def test_validate_reports_every_problem_at_once(tmp_path: Path) -> None:
    board = "extends: riscv-virt\ncpu0: {firmware: missing.elf}\n"
    sets = ["ram.size=1.5KiB", "soc.uart0.chardev=file:/no/dir/x"]
    status, err = _cli(tmp_path, "validate", board, sets)
    assert status == 1
    assert [c for c in ("E901", "E903", "E910") if f"[{c}]" in err] == ["E901", "E903", "E910"]
    assert err.splitlines()[-1] == "qconf: 3 errors"
    # in file order: the board's line first, then the --set arguments
    assert err.index("[E903]") < err.index("[E901]") < err.index("[E910]")


def test_a_checked_machine_is_loaded_from_what_was_read(tmp_path: Path) -> None:
    from qconf.emu.chardev import MemoryChardev
    from qconf.emu.emulator import run

    machine = qconf.build(qconf.resolve([MACHINES / "riscv-hello" / "board.yaml"]))
    plan = preflight.check(machine)
    assert [image.obj.key for image in plan.images] == ["backends.image.cpu0"]
    assert plan.images[0].entry == 0x8000_0000
    uart = MemoryChardev()
    outcome = run(machine, max_insns=1_000_000,
                  chardevs={"/machine/backends/chardev/soc-uart0": uart})  # fmt: skip
    machine.destroy()
    assert outcome.exit_code == 0 and b"Hello" in bytes(uart.output)


def test_probing_a_backend_creates_nothing(tmp_path: Path) -> None:
    for kind in ("file", "unix"):
        assert preflight.probe_backend(kind, str(tmp_path / f"x.{kind}"), "", None) is None
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "notes.txt").write_text("keep")
    exc = preflight.probe_backend("unix", str(tmp_path / "notes.txt"), "", None)
    assert exc is not None and "not a socket" in str(exc)
    assert (tmp_path / "notes.txt").read_text() == "keep"
    exc = preflight.probe_backend("unix", str(tmp_path / ("s" * 120)), "", None)
    assert exc is not None and exc.strerror == "File name too long"


@pytest.mark.parametrize(
    ("board", "code", "where"),
    [
        ("extends: arm64-virt\ncpu0: {kernel: missing-Image}\n", "E903", "missing-Image"),
        ("extends: arm64-virt\ncpu0: {kernel: raw.bin, initrd: gone.gz}\n", "E903", "gone.gz"),
    ],
    ids=["kernel", "initrd"],
)
def test_validate_reads_a_cpus_kernel_as_a_run_does(
    board: str, code: str, where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "raw.bin").write_bytes(b"\x13\x00\x00\x00" * 4)
    run_status, run_err = _cli(tmp_path, "run", board, [])
    status, err = _cli(tmp_path, "validate", board, [])
    assert run_status == 1 and f"[{code}]" in run_err, run_err
    assert status == 1 and f"[{code}]" in err and where in err, err
    first = next(line for line in err.splitlines() if f"[{code}]" in line)
    assert first in run_err and "board.yaml:2:" in first  # at the line that names it
