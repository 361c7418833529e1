"""The YAML and TOML readers: positions, text kept as written, merge keys, markers."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import qconf
from qconf.config.node import Op, to_plain
from qconf.config.origin import Source
from qconf.config.sources import Unreadable, read_regular
from qconf.config.toml_source import load_toml
from qconf.config.yaml_source import load_yaml
from qconf.errors import QconfError
from tests.helpers import write

SRC = Source("f")


def test_yaml_positions_of_values_and_collections():
    root = load_yaml("a:\n  b: 1GHz\n  c: [x, y]\n", SRC)
    b = root.lookup(("a", "b"))
    assert (b.origin.line, b.origin.col) == (2, 6)
    c = root.lookup(("a", "c"))
    assert (c.origin.line, c.origin.col) == (3, 3)  # collections point at their key
    assert (root.lookup(("a", "c", 1)).origin.line, root.lookup(("a", "c", 1)).origin.col) == (
        3, 10)  # fmt: skip


def test_yaml_scalars_stay_text_and_null():
    root = load_yaml("v: 1.10\nn: no\ne:\nq: 'null'\nz: ~\nh: 0x10\n", SRC)
    assert to_plain(root) == {"v": "1.10", "n": "no", "e": None, "q": "null", "z": None,
                              "h": "0x10"}  # fmt: skip


def test_yaml_merge_key():
    root = load_yaml("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n", SRC)
    assert to_plain(root)["d"] == {"x": "1", "y": "3"}


def test_yaml_marker_tags():
    root = load_yaml("a: !delete\nb: !append [x]\nc: !replace {k: v}\nd: {$prepend: [y]}\n",
                     SRC)  # fmt: skip
    ops = {k: n.op for k, n in root.value.items()}
    assert ops == {"a": Op.DELETE, "b": Op.APPEND, "c": Op.REPLACE, "d": Op.PREPEND}


def test_toml_positions():
    text = (
        'extends = "x"\n\n[soc.uart0]\nbase = 0x1000  # c\nirq.line = 3\n\n[cpu0]\nfreq = "1GHz"\n'
    )
    root = load_toml(text, SRC)
    assert root.lookup(("soc", "uart0")).origin.line == 3
    assert root.lookup(("soc", "uart0", "base")).origin.where() == "f:4:1"
    assert root.lookup(("soc", "uart0", "irq", "line")).origin.line == 5
    assert root.lookup(("cpu0", "freq")).origin.where() == "f:8:1"
    assert root.lookup(("soc", "uart0", "base")).value == 0x1000


def test_toml_quoted_keys_and_markers():
    root = load_toml('[soc."my.dev"]\n"$delete" = true\n', SRC)
    node = root.lookup(("soc", "my.dev"))
    assert node.op is Op.DELETE and node.origin.line == 1


def test_example_files_parse(tmp_path: Path):
    for f in Path(__file__).resolve().parent.parent.glob("machines/*/board.*"):
        text = f.read_text()
        root = load_toml(text, SRC) if f.suffix == ".toml" else load_yaml(text, SRC)
        assert "extends" in root.value


# --- files that are not regular files, and names the system refuses ----------------------


@contextmanager
def within(seconds: int) -> Iterator[None]:
    """Fail (instead of hanging the suite) if the block takes longer than ``seconds``."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def refused(files: list[str | Path]) -> QconfError:
    with within(10), pytest.raises(QconfError) as info:
        qconf.resolve(files)
    return info.value


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path):
    os.mkfifo(tmp_path / "board.yaml")
    err = refused([tmp_path / "board.yaml"])
    assert (err.code, err.message) == ("E101", "not a regular file (a FIFO)")


def test_an_included_fifo_is_refused(tmp_path: Path):
    os.mkfifo(tmp_path / "part.yaml")
    board = write(tmp_path, "board.yaml", "type: machine\ninclude: part.yaml\n")
    err = refused([board])
    assert err.code == "E201"
    assert err.message == "cannot read 'part.yaml': a FIFO, not a regular file"
    assert err.origin is not None and err.origin.where().endswith("board.yaml:2:10")


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_devices_are_refused_before_reading(device: str):
    err = refused([device])
    assert err.code == "E101" and err.message == "not a regular file (a character device)"


def test_the_size_limit_holds_while_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    board = write(tmp_path, "board.yaml", "type: machine\n" + "# pad\n" * 10)
    monkeypatch.setattr("qconf.config.files._CHUNK", 4)
    data, _ = read_regular(board, 1000)
    assert data == board.read_bytes()
    # a file whose size said nothing (it grew after it was opened): the read stops at
    # the limit, it does not read everything first
    real = os.fstat

    def sizeless(fd: int) -> os.stat_result:
        fields = list(real(fd))
        fields[6] = 0  # st_size
        return os.stat_result(fields)

    reads: list[int] = []
    real_read = os.read
    monkeypatch.setattr(os, "fstat", sizeless)
    monkeypatch.setattr(os, "read", lambda fd, n: reads.append(n) or real_read(fd, n))
    with pytest.raises(Unreadable, match=r"too large \(more than 16 bytes"):
        read_regular(board, 16)
    assert sum(reads) <= 17


@pytest.mark.parametrize("name", ["a" * 300 + ".yaml", "dir/" + "b" * 300 + ".yaml", "a\0b.yaml"],
                         ids=["long", "long-in-dir", "nul"])  # fmt: skip
def test_names_the_system_refuses_are_located_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
):
    monkeypatch.chdir(tmp_path)
    err = refused([name])  # as QMP's qconf-add-file may pass it
    assert err.code == "E101" and err.origin is not None
    board = write(tmp_path, "board.yaml", f"type: machine\ninclude: {json.dumps(name)}\n")
    err = refused([board])
    assert err.code == "E201" and err.origin is not None and err.origin.line == 2
    board = write(tmp_path, "board.yaml", f"extends: {json.dumps(name)}\n")
    err = refused([board])
    assert err.code == "E201" and err.origin is not None and err.origin.line == 1
