"""Scripted consoles: --expect (text or re:REGEX), --send, --within (virtual or host time),
in the order typed; failures name the pattern and show the console's last lines; the
Python API's script drives any backend."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

import qconf
from qconf.cli import main
from qconf.emu.chardev import MemoryChardev
from qconf.emu.emulator import run as emulate
from qconf.emu.script import Expect, Send, from_options, parse_pattern, steps
from tests.helpers import MACHINES

ECHO = str(MACHINES / "riscv-echo" / "board.yaml")
HELLO = str(MACHINES / "riscv-hello" / "board.yaml")
UART = "/machine/soc/uart0"


def run(*args: str, stdin: bytes = b""):
    return CliRunner().invoke(main, ["run", *args], input=stdin)


def test_the_api_script_drives_a_memory_backend():
    machine = qconf.build(qconf.resolve([ECHO]))
    console = MemoryChardev()
    try:
        outcome = emulate(machine, chardevs={UART: console},
                          script=[(b"q quits", b"hi\n"), Expect(re.compile(rb"h.\n")),
                                  Send(b"q")])  # fmt: skip
    finally:
        machine.destroy()
    assert outcome.exit_code == 0, outcome.reason
    assert console.output == b"echo: type, q quits\nhi\nbye\n"


def test_steps_number_the_expects_and_keep_pairs_working():
    got = steps([(b"a", b"1"), Expect(b"b", within=5), Send(b"2")])
    assert got == [Expect(b"a", number=1), Send(b"1"), Expect(b"b", within=5, number=2),
                   Send(b"2")]  # fmt: skip
    assert got[2].describe() == "--expect #2 'b'"
    assert Expect(parse_pattern("re:Hit any key"), number=1).describe() == (
        "--expect #1 re:'Hit any key'"
    )


def test_options_become_steps_in_the_order_typed():
    got = from_options([("send", "x"), ("expect", "a\\n"), ("within", "2s"),
                        ("expect", "re:b+"), ("within", "wall:1.5"), ("send", "y\\r")])  # fmt: skip
    assert got == [Send(b"x"), Expect(b"a\n", 2_000_000_000, None, 1),
                   Expect(re.compile(b"b+"), None, 1.5, 2), Send(b"y\r")]  # fmt: skip


@pytest.mark.parametrize(
    ("items", "message"),
    [([("within", "1s")], "must follow the --expect it limits"),
     ([("expect", "a"), ("send", "b"), ("within", "1s")], "must follow the --expect"),
     ([("expect", "a"), ("within", "1s"), ("within", "2s")], "already has a --within"),
     ([("expect", "re:(")], "bad regular expression"),
     ([("expect", "a"), ("within", "1xs")], "unknown duration unit")],
    ids=["alone", "after-send", "twice", "regex", "unit"],
)  # fmt: skip
def test_bad_scripts_are_refused(items, message):
    with pytest.raises(ValueError, match=message):
        from_options(items)


def test_a_regular_expression_and_sends_in_order():
    r = run("-c", ECHO, "--send", "a", "--expect", "re:type, . quits", "--send", "b\\nq")
    assert r.exit_code == 0, r.output
    assert r.stdout == "echo: type, q quits\nab\nbye\n"  # the first send went in at once


def test_a_bad_script_is_a_usage_error():
    r = run("-c", ECHO, "--within", "1s", "--expect", "x")
    assert r.exit_code == 2
    assert "--within 1s must follow the --expect it limits" in r.stderr


def test_an_expect_that_never_matches_stops_within_its_virtual_time():
    r = run("-c", ECHO, "--expect", "q quits", "--send", "hello\\nworld\\n",
            "--expect", "nothing", "--within", "50ms", "--stats")  # fmt: skip
    assert r.exit_code == 124
    lines = r.stderr.splitlines()
    assert lines[:5] == [
        "qconf: --expect #2 'nothing' did not match within 50ms of virtual time",
        "  waiting for --expect #2 'nothing'; the console's last lines:",
        "  | echo: type, q quits",
        "  | hello",
        "  | world",
    ]
    # the echo guest idles (no input can come): its time jumped ahead, and the limit
    # counts from when the expect began waiting (its prompt, at 0.1 ms)
    assert 50.1 <= float(lines[6].split()[2]) < 50.2


def test_a_limit_names_the_expect_it_ended():
    r = run("-c", ECHO, "--expect", "nothing", "--max-time", "10ms")
    assert r.exit_code == 124
    assert r.stderr.splitlines()[:3] == [
        "qconf: stopped at 10ms of virtual time (--max-time)",
        "  waiting for --expect #1 'nothing'; the console's last lines:",
        "  | echo: type, q quits",
    ]


def test_a_guest_that_powers_off_first_fails_the_script():
    r = run("-c", HELLO, "--expect", "Hello", "--expect", "Goodbye")
    assert r.exit_code == 1
    assert r.stderr.splitlines()[:2] == [
        "qconf: soc.test: guest powered off (pass), before --expect #2 'Goodbye' matched",
        "  waiting for --expect #2 'Goodbye'; the console's last lines:",
    ]


def test_a_host_time_limit_while_the_guest_waits_for_input(processes):
    # input may come (a pipe left open): the idle guest is parked and virtual time stands
    # still, so only a host-time limit ends the wait
    proc = subprocess.Popen(
        [sys.executable, "-m", "qconf.cli", "run", "-c", ECHO, "--expect", "nothing",
         "--within", "wall:0.5s"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    processes.append(proc)
    assert proc.stderr is not None
    err = proc.stderr.read()  # stdin stays open
    assert proc.wait(timeout=60) == 124
    assert err.decode().splitlines()[0] == (
        "qconf: --expect #1 'nothing' did not match within 0.5 s of host time"
    )


def test_the_script_and_new_options_are_remembered_as_typed(monkeypatch):
    """The next run with the same words starts from the remembered parse (no click): the
    script in its order, durations, -d, -D, --status and --no-shutdown survive it."""
    from qconf import runner
    from qconf.cli.machine import run as run_command

    argv = ["run", "-c", HELLO, "--send", "a", "--expect", "re:x+", "--within", "2s",
            "--max-time", "1s", "--timeout", "5", "-d", "int,mmio", "-D", "t.log",
            "--status", "title", "--no-shutdown"]  # fmt: skip
    seen = []
    monkeypatch.setattr(runner, "command", seen.append)
    with run_command.make_context("run", argv[1:]) as ctx:
        run_command.invoke(ctx)
    (options,) = seen
    assert options.script == (("--send", "a"), ("--expect", "re:x+"), ("--within", "2s"))
    assert (options.max_time, options.timeout) == (1_000_000_000, 5.0)
    assert (options.trace, options.trace_file, options.status) == ("int,mmio", "t.log", "title")
    assert options.no_shutdown
    runner.remember(argv, options)
    assert runner.remembered(argv) == options
