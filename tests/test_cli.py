"""The command line's own parts: options that take durations, views as JSON, the graph on
standard output, shell completion."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from qconf.cli import main
from qconf.cli.base import DURATION, Duration
from tests.helpers import MACHINES

HELLO_BOARD = MACHINES / "riscv-hello" / "board.yaml"


@pytest.mark.parametrize(
    ("text", "ns"),
    [("1s", 10**9), ("30", 30 * 10**9), ("1.5", 1_500_000_000), ("500ms", 500_000_000),
     ("250us", 250_000), ("2_000ms", 2 * 10**9), ("10ns", 10)],
)  # fmt: skip
def test_durations_take_units(text: str, ns: int) -> None:
    assert DURATION.convert(text, None, None) == ns
    assert Duration("ms").convert("1500", None, None) == 1_500_000_000


def test_max_time_takes_the_same_durations() -> None:
    r = CliRunner().invoke(main, ["run", "-c", str(HELLO_BOARD), "--no-cache",
                                  "--max-time", "soon"])  # fmt: skip
    assert r.exit_code == 2 and "expected a duration" in r.stderr, r.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [("0", "not a positive duration"), ("1GHz", "unknown duration unit 'GHz'"),
     ("soon", "expected a duration"), ("-1s", "not a positive duration")],
)  # fmt: skip
def test_bad_durations_are_usage_errors(text: str, message: str) -> None:
    with pytest.raises(click.BadParameter, match=message):
        DURATION.convert(text, None, None)


def test_run_timeout_takes_a_duration() -> None:
    r = CliRunner().invoke(main, ["run", "-c", str(HELLO_BOARD), "--no-cache",
                                  "--timeout", "1s", "--max-insns", "10"])  # fmt: skip
    assert r.exit_code == 124, r.output
    r = CliRunner().invoke(main, ["run", "-c", str(HELLO_BOARD), "--timeout", "1 parsec"])
    assert r.exit_code == 2 and "Invalid value for '--timeout'" in r.stderr


# --- shell completion -------------------------------------------------------------------


def completions(args: list[str], incomplete: str) -> list[tuple[str, str]]:
    from click.shell_completion import ShellComplete

    found = ShellComplete(main, {}, "qconf", "_QCONF_COMPLETE").get_completions(args, incomplete)
    return [(c.value, c.type) for c in found]


def test_completion_of_profiles_types_paths_and_set_keys(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("QCONF_PATH", raising=False)
    assert completions(["resolve", "-c"], "riscv") == [("riscv-virt", "plain"), ("riscv", "file")]
    assert completions(["types"], "cortex-m") == [
        ("cortex-m0", "plain"), ("cortex-m3", "plain"), ("cortex-m4", "plain")]  # fmt: skip
    assert completions(["schema", "-c", "riscv-virt", "--type"], "ns1") == [("ns16550a", "plain")]
    assert completions(["explain", "-c", "riscv-virt"], "cpu0.f") == [
        ("cpu0.freq", "plain"), ("cpu0.firmware", "plain")]  # fmt: skip
    keys = [v for v, _ in completions(["run", "-c", "riscv-virt", "--set"], "soc.uart0")]
    assert keys[:3] == ["soc.uart0", "soc.uart0.base", "soc.uart0.size"]
    assert completions(["validate", "-c", "riscv-virt", "--set"], "~soc.te") == [
        ("~soc.test", "plain"), ("~soc.test.base", "plain"), ("~soc.test.size", "plain"),
        ("~soc.test.priority", "plain")]  # fmt: skip
    assert completions(["validate", "-c", "riscv-virt", "--set"], "cpu0.freq=") == []
    (tmp_path / "board.yaml").write_text("extends: mps2-an385\n")
    assert ("cpu0.freq", "plain") in completions(["set", "board.yaml"], "cpu0.")
    # what cannot be worked out offers nothing, and fails nothing
    assert completions(["validate", "-c", "nope.yaml", "--set"], "cpu") == []
    assert completions(["validate", "--set"], "cpu") == []


def test_the_completion_script_is_what_docs_cli_md_says(monkeypatch) -> None:
    monkeypatch.setenv("_QCONF_COMPLETE", "bash_source")
    r = CliRunner().invoke(main, [], prog_name="qconf")
    assert r.exit_code == 0 and "_qconf_completion()" in r.output
    assert "_QCONF_COMPLETE=bash_source qconf" in (MACHINES.parent / "docs" / "cli.md").read_text()
