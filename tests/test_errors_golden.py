"""Golden error messages: each directory under tests/errors/ holds a bad input
(``board.yaml`` or ``board.toml``, and any files it names), optionally ``args`` (extra
command-line arguments, one per line; without it ``-c board.*`` is used), ``env``
(``KEY=VALUE`` lines) and ``command`` (the command to run instead of ``validate``, with
``args`` as they are: ``set`` cases edit nothing, since they fail), and
``expected.err``: the exact stderr of ``qconf validate`` (or the command) run in that
directory.

Regenerate after an intended change of wording with::

    QCONF_REGEN_GOLDEN=1 python -m pytest tests/test_errors_golden.py

and review the diff.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from qconf.cli import main

CASES = Path(__file__).parent / "errors"
REGEN = os.environ.get("QCONF_REGEN_GOLDEN") == "1"


def _command(case: Path) -> str:
    command_file = case / "command"
    return command_file.read_text().strip() if command_file.exists() else "validate"


def _args(case: Path) -> list[str]:
    args_file = case / "args"
    if args_file.exists():
        args = args_file.read_text().splitlines()
        if "-c" not in args and _command(case) == "validate":
            board = next(p.name for p in sorted(case.iterdir()) if p.stem == "board")
            args = ["-c", board, *args]
        return args
    board = next(p.name for p in sorted(case.iterdir()) if p.stem == "board")
    return ["-c", board]


@pytest.mark.parametrize("case", sorted(p for p in CASES.iterdir() if p.is_dir()),
                         ids=lambda p: p.name)  # fmt: skip
def test_golden_error(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(case)
    monkeypatch.delenv("QCONF_PATH", raising=False)
    env_file = case / "env"
    if env_file.exists():
        for line in env_file.read_text().splitlines():
            key, _, val = line.partition("=")
            monkeypatch.setenv(key, val)
    before = {p: p.read_bytes() for p in case.iterdir() if p.is_file()}
    result = CliRunner().invoke(main, [_command(case), *_args(case)])
    assert {p: p.read_bytes() for p in case.iterdir() if p.is_file()} == before
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"uncaught {result.exception!r}"
    )
    expected_file = case / "expected.err"
    if REGEN:
        expected_file.write_text(result.stderr)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.stderr
    assert result.stderr == expected_file.read_text()
    # every error line is located: a file position or a --set argument
    for line in result.stderr.splitlines():
        if line.startswith("qconf: error: "):
            assert is_located(line), line


LOCATED = re.compile(
    r"^qconf: error: (?:"
    r"(?:[^\s:]*/[^\s:]*|[^\s:]+\.(?:yaml|yml|toml|json|ini|txt))(?::\d+:\d+)?: "  # a file
    r"|--set #\d+ '.*': "  # a --set argument
    r")"
)


def is_located(line: str) -> bool:
    """Whether an error line starts with where: ``FILE:LINE:COL:``, ``FILE:`` or
    ``--set #N 'TEXT':``."""
    return LOCATED.match(line) is not None


@pytest.mark.parametrize(
    ("line", "located"),
    [
        ("qconf: error: board.yaml:3:9: cpu0.freq: unknown frequency unit [E405]", True),
        ("qconf: error: sub/b.yaml:1:10: include cycle: ... [E305]", True),
        ("qconf: error: board.ini: unknown file type [E104]", True),
        ("qconf: error: /dev/zero: not a regular file (a character device) [E101]", True),
        ("qconf: error: --set #1 'cpu0.frq=1GHz': unknown property [E402]", True),
        ("qconf: error: cpu0.freq: unknown frequency unit [E405]", False),
        ("qconf: error: unknown frequency unit [E405]", False),
        ("qconf: error: : nothing [E405]", False),
    ],
)
def test_the_located_check_tells_located_from_unlocated(line: str, located: bool) -> None:
    assert is_located(line) is located
