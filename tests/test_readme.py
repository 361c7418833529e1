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


TOUR_COMMANDS = {"resolve", "explain", "validate", "diff", "set", "schema", "tree", "mtree",
                 "irqs", "clocks", "types", "profiles", "dtb", "graph"}  # fmt: skip
"""The tour's commands that end by themselves (not run, cache, QMP)."""


def test_the_tour_works_when_copied(tmp_path, monkeypatch):
    """Each tour line of these commands, run in order in a fresh directory that has the
    repository's machines/, succeeds (diff: 0 or 1, its differences)."""
    import shlex
    import shutil

    monkeypatch.chdir(tmp_path)
    (tmp_path / "machines").symlink_to(REPO / "machines")
    tour = _block("sh", "## A short tour")
    ran = []
    for line in tour.replace("\\\n", " ").splitlines():  # a command continued with \
        words = shlex.split(line, comments=True)
        if words[:1] != ["qconf"] or words[1] not in TOUR_COMMANDS:
            continue
        if words[1] == "graph" and shutil.which("dot") is None:
            continue
        r = CliRunner().invoke(main, words[1:])
        assert r.exit_code in ((0, 1) if words[1] == "diff" else (0,)), (line, r.output)
        assert "Traceback" not in r.output, line
        ran.append(words[1])
    assert {"validate", "set", "diff"} <= set(ran)


def test_the_api_examples_run(monkeypatch, capsys):
    """docs/api.md's examples run from the repository and print what their comments say."""
    monkeypatch.chdir(REPO)
    api = (REPO / "docs" / "api.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", api, re.S)
    scope: dict[str, object] = {}
    for block in blocks[:2]:
        exec(compile(block, "docs/api.md", "exec"), scope)
    printed = capsys.readouterr().out.splitlines()
    assert printed[:5] == ["1000000000", "--set #1 'cpu0.freq=1GHz'",
                           "/machine/soc/uart0 ns16550a 0x10000000", "ram",
                           "['soc.plic.in[10]']"]  # fmt: skip


def test_the_profiles_page_points_at_files_that_exist():
    page = (REPO / "docs" / "profiles.md").read_text()
    named = set(re.findall(r"`((?:machines|qconf|profiles|tests|docs)/[^`\s]*)`", page))
    named |= {f"docs/{link}" for link in re.findall(r"\]\(([^)#]+)", page)}
    assert "machines/riscv-hello/board.yaml" in named
    assert sorted(p for p in named if not (REPO / p).exists()) == []
    listed = {p for p in named if p.startswith("machines/")}
    boards = {str(b.relative_to(REPO)) for b in REPO.glob("machines/*/board.*")}
    assert boards <= listed, "every example machine is in the table"
