"""The README's example board and error message are real: they resolve and print as shown."""

from __future__ import annotations

import re

from click.testing import CliRunner

from qconf.cli import main
from tests.helpers import REPO, write

README = (REPO / "README.md").read_text()


def _block(lang: str, after: str) -> str:
    start = README.index(after)
    m = re.compile(rf"```{lang}\n(.*?)```", re.S).search(README, start)
    assert m is not None
    return m.group(1)


def test_readme_board_and_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    board = _block("yaml", "A board file extends a profile")
    write(tmp_path, "board.yaml", board)
    r = CliRunner().invoke(main, ["validate", "-c", "board.yaml"])
    assert r.exit_code == 0, r.output
    write(tmp_path, "board.yaml", board.replace("500MHz", "1GHzz"))
    r = CliRunner().invoke(main, ["validate", "-c", "board.yaml"])
    assert r.exit_code == 1
    assert r.stderr == _block("", "Errors name the file")
