"""Work limits: a small input never costs much CPU; each limit is a located error that
names its environment variable, and the variable raises it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import qconf
from qconf.config import limits, sources
from qconf.errors import QconfError
from tests.helpers import write


def fan_out(directory: Path, levels: int, mounts: bool = False) -> Path:
    """Files f0 .. f(levels-1), each including the next four times (at four different
    keys when ``mounts``): a few hundred bytes that read the last file 4**(levels-1)
    times."""
    for i in range(levels):
        lines = ["type: machine"] if i == 0 else [f"description: level {i}"]
        if i + 1 < levels:
            nxt = f"f{i + 1}.yaml"
            items = [f"{{path: {nxt}, at: m{k}}}" if mounts and i else nxt for k in range(4)]
            lines.insert(0, "include: [" + ", ".join(items) + "]")
        write(directory, f"f{i}.yaml", "\n".join(lines) + "\n")
    return directory / "f0.yaml"


def cpu_seconds(fn: object) -> tuple[float, QconfError | None]:
    start = time.process_time()
    try:
        fn()  # type: ignore[operator]
    except QconfError as exc:
        return time.process_time() - start, exc
    return time.process_time() - start, None


@pytest.mark.parametrize("mounts", [False, True], ids=["same-key", "other-keys"])
def test_include_fan_out_is_cut_short(tmp_path: Path, mounts: bool):
    board = fan_out(tmp_path, 12, mounts)
    assert sum(p.stat().st_size for p in tmp_path.iterdir()) < 1500
    spent, err = cpu_seconds(lambda: qconf.resolve([board]))
    assert err is not None and err.code == "E205", err
    assert "QCONF_MAX_INCLUDES" in (err.hint or "")
    assert err.origin is not None and err.origin.line == 1
    assert spent < 2.0  # it was minutes


def test_a_fragment_included_many_times_is_read_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    board = fan_out(tmp_path, 5)  # 4 + 16 + 64 + 256 = 340 include reads
    reads: list[Path] = []
    real = sources.read_file
    monkeypatch.setattr("qconf.config.layers.read_file",
                        lambda path, *a: reads.append(path) or real(path, *a))  # fmt: skip
    assert qconf.resolve([board]).lookup(("description",)).value == "level 1"
    assert len(reads) == 5


def test_the_include_limit_is_raised_by_its_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    board = fan_out(tmp_path, 6)  # 1,364 include reads
    with pytest.raises(QconfError, match="more than 1,000 files"):
        qconf.resolve([board])
    monkeypatch.setenv("QCONF_MAX_INCLUDES", "2000")
    qconf.resolve([board])


def test_nested_replication_is_cut_short(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("QCONF_MAX_NODES", "100000")  # a fifth of the default: quicker
    board = write(tmp_path, "board.yaml", """\
type: machine
components:
  cell: {children: {"c[100000]": {type: container}}}
  grid: {children: {"g[100000]": {type: cell}}}
top: {type: grid}
""")  # fmt: skip
    spent, err = cpu_seconds(lambda: qconf.resolve([board]))
    assert err is not None and err.code == "E234", err
    assert err.origin is not None and err.origin.line == 4  # the grid: 100,000 cells already
    assert "QCONF_MAX_NODES" in (err.hint or "")
    assert spent < 5.0  # 10**10 objects without the limit


def test_a_large_yaml_file_is_refused_while_it_is_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("QCONF_MAX_NODES", "1000")
    board = write(tmp_path, "board.yaml", "type: machine\ncompatible: [" + "a, " * 400_000 + "]\n")
    spent, err = cpu_seconds(lambda: qconf.resolve([board]))
    assert err is not None and err.code == "E110"
    assert err.origin is not None and err.origin.line == 2
    assert spent < 0.5  # composing all 400,000 items takes seconds


def test_a_large_toml_file_is_refused_before_it_is_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("QCONF_MAX_NODES", "1000")
    text = 'type = "machine"\ncompatible = [' + '"a", ' * 400_000 + "]\n"
    board = write(tmp_path, "board.toml", text)
    spent, err = cpu_seconds(lambda: qconf.resolve([board]))
    assert err is not None and err.code == "E110"
    assert spent < 0.5
    # a file within the estimate is counted exactly: this one just fits
    monkeypatch.setenv("QCONF_MAX_NODES", "10")
    small = write(tmp_path, "small.toml", 'type = "machine"\ncompatible = ["a", "b", "c"]\n')
    qconf.resolve([small])
    monkeypatch.setenv("QCONF_MAX_NODES", "5")
    with pytest.raises(QconfError, match="limit of 5 nodes"):
        qconf.resolve([small])


def test_every_file_counts_against_one_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    items = "compatible: [" + ", ".join("x" * 30) + "]\n"
    a = write(tmp_path, "a.yaml", "type: machine\n" + items)
    b = write(tmp_path, "b.yaml", "bootargs: x\n" + items)
    monkeypatch.setenv("QCONF_MAX_NODES", "45")
    qconf.resolve([a])
    qconf.resolve([b])
    with pytest.raises(QconfError, match="limit of 45 nodes") as info:
        qconf.resolve([a, b])
    assert info.value.origin is not None and info.value.origin.source.name.endswith("b.yaml")


def test_the_object_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    objects = "".join(f"d{i}: {{type: container}}\n" for i in range(30))
    board = write(tmp_path, "board.yaml", "type: machine\n" + objects)
    monkeypatch.setenv("QCONF_MAX_OBJECTS", "30")
    with pytest.raises(QconfError, match="more than 30 objects") as info:
        qconf.resolve([board])
    assert info.value.code == "E406" and info.value.path == "d29"
    monkeypatch.setenv("QCONF_MAX_OBJECTS", "31")
    qconf.resolve([board])


@pytest.mark.parametrize(("text", "expected"), [
    ("123", 123), ("1_000", 1000), (" 7 ", 7), ("", 500_000), ("²", 500_000), ("-5", 500_000),
    ("1e6", 500_000), ("9" * 30, 500_000),
])  # fmt: skip
def test_limit_variables_take_whole_numbers(
    monkeypatch: pytest.MonkeyPatch, text: str, expected: int
):
    monkeypatch.setenv("QCONF_MAX_NODES", text)
    assert limits.NODES.value() == expected


def test_each_limit_is_documented():
    cli = (Path(__file__).parent.parent / "docs" / "cli.md").read_text()
    for limit in limits.LIMITS:
        assert f"`{limit.variable}`" in cli, limit.variable
