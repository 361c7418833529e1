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
    ("text", "seconds"),
    [("1s", 1.0), ("30", 30.0), ("1.5", 1.5), ("500ms", 0.5), ("250us", 0.00025),
     ("2_000ms", 2.0), ("10ns", 1e-8)],
)  # fmt: skip
def test_durations_take_units(text: str, seconds: float) -> None:
    assert DURATION.convert(text, None, None) == pytest.approx(seconds)
    assert Duration("ms").convert("1500", None, None) == pytest.approx(1.5)


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
