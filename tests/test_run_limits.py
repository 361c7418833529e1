"""Limits of a run: virtual time (--max-time), host time (--timeout), both with units, and
the messages that name them."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import qconf
from qconf.cli import main
from qconf.config.units import UnitError, parse_command_duration
from qconf.emu.emulator import run as emulate
from tests.helpers import MACHINES, write

TIMER = str(MACHINES / "riscv-timer" / "board.yaml")


def run(*args: str, stdin: bytes = b""):
    return CliRunner().invoke(main, ["run", *args], input=stdin)


def _board(tmp_path, code_hex: str):
    (tmp_path / "guest.bin").write_bytes(bytes.fromhex(code_hex))
    return str(write(tmp_path, "board.yaml", "extends: riscv-virt\ncpu0:\n  firmware: guest.bin\n"))


SPIN = "6f000000"  # j .
WFI = "7300501073005010"  # wfi; wfi: waits with no interrupt enabled and no timer


@pytest.mark.parametrize(
    ("text", "ns"),
    [("10ms", 10_000_000), ("2s", 2_000_000_000), ("1.5s", 1_500_000_000), ("5", 5 * 10**9),
     ("0.25", 250_000_000), ("100us", 100_000), ("7ns", 7)],
    ids=str,
)  # fmt: skip
def test_command_line_durations_take_units_and_bare_seconds(text, ns):
    assert parse_command_duration(text) == ns


@pytest.mark.parametrize("text", ["0", "-1s", "ten", "10xs", ""], ids=repr)
def test_bad_durations_say_what_fits(text):
    with pytest.raises(UnitError):
        parse_command_duration(text)


def test_max_time_stops_in_virtual_time_with_124():
    r = run("-c", TIMER, "--max-time", "15ms", "--stats")
    assert r.exit_code == 124
    assert r.stdout == "timer demo: 3 ticks, 10 ms apart\ntick 1\n"  # tick 2 comes at 20 ms
    lines = r.stderr.splitlines()
    assert lines[0] == "qconf: stopped at 15ms of virtual time (--max-time)"
    # the guest waits in wfi for its next tick: time goes to the limit, not past it
    assert lines[1].startswith("  virtual time 15.000000 ms,")


def test_max_time_ends_a_busy_guest_at_the_limit(tmp_path):
    board = _board(tmp_path, SPIN)
    first = run("-c", board, "--max-time", "2ms", "--stats")
    assert first.exit_code == 124
    assert first.stderr.splitlines()[0] == "qconf: stopped at 2ms of virtual time (--max-time)"
    virtual = float(first.stderr.splitlines()[1].split()[2])
    assert 2.0 <= virtual < 2.001  # the last block ends just past it (fast timing)
    again = run("-c", board, "--max-time", "2ms", "--stats")
    assert again.stderr.splitlines()[1].split(",")[0] == first.stderr.splitlines()[1].split(",")[0]


def test_max_time_does_not_hide_a_hung_guest(tmp_path):
    r = run("-c", _board(tmp_path, WFI), "--max-time", "1s")
    assert r.exit_code == 3
    assert "the guest hung" in r.stderr


def test_timeout_takes_units_and_names_itself(tmp_path):
    r = run("-c", _board(tmp_path, SPIN), "--timeout", "300ms")
    assert r.exit_code == 124
    assert r.stderr == "qconf: stopped after 0.3 s of host time (--timeout)\n"
    bare = run("-c", _board(tmp_path, SPIN), "--timeout", "0.3")
    assert bare.stderr == r.stderr


@pytest.mark.parametrize("option", ["--max-time", "--timeout"])
def test_a_bad_duration_is_a_usage_error(option):
    r = run("-c", TIMER, option, "10xs")
    assert r.exit_code == 2
    assert "unknown duration unit 'xs'" in r.stderr
    assert run("-c", TIMER, option, "0").exit_code == 2


def test_the_python_api_takes_max_time_in_nanoseconds():
    machine = qconf.build(qconf.resolve([TIMER]))
    try:
        outcome = emulate(machine, max_time=25_000_000)
    finally:
        machine.destroy()
    assert (outcome.exit_code, outcome.cause, outcome.time_ns) == (124, "limit", 25_000_000)
