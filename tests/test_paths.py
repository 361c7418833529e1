"""Files a machine names resolve one way (from the file that sets them, or the working
directory for --set and QMP), so resolved documents travel and diff compares files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

import qconf
from qconf.cli import main
from qconf.config.origin import LayerKind, Origin, Source
from qconf.model.annotations import FilePath
from tests.helpers import MACHINES, value, write

GUESTS = MACHINES / "guests"


def _origin(path: Path | None) -> Origin:
    kind = LayerKind.FILE if path is not None else LayerKind.SET
    return Origin(Source(str(path or "--set #1"), kind=kind, path=path), 1, 1)


@pytest.mark.parametrize(
    ("marker", "value", "set_in", "expected"),
    [
        (FilePath(), "fw.elf", "/boards/a/board.yaml", "/boards/a/fw.elf"),
        (FilePath(), "../guests/fw.elf", "/boards/a/board.yaml", "/boards/guests/fw.elf"),
        (FilePath(), "/abs/fw.elf", "/boards/a/board.yaml", "/abs/fw.elf"),
        (FilePath(("file:", "unix:")), "file:uart.log", "/b/x.yaml", "file:/b/uart.log"),
        (FilePath(("file:", "unix:")), "unix:s.sock", "/b/x.yaml", "unix:/b/s.sock"),
        (FilePath(("file:", "unix:")), "tcp:127.0.0.1:4444", "/b/x.yaml", "tcp:127.0.0.1:4444"),
        (FilePath(("file:", "unix:")), "stdio", "/b/x.yaml", "stdio"),
        (FilePath(("file:", "unix:")), "soc.console", "/b/x.yaml", "soc.console"),
    ],
)
def test_a_path_starts_at_the_file_that_sets_it(
    marker: FilePath, value: str, set_in: str, expected: str
) -> None:
    assert marker.locate(value, _origin(Path(set_in))) == expected


def test_a_path_from_the_command_line_starts_at_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert FilePath().locate("fw.elf", _origin(None)) == str(tmp_path / "fw.elf")
    assert FilePath().relative(str(tmp_path / "a" / "fw.elf"), str(tmp_path / "b")) == (
        "../a/fw.elf"
    )


def test_every_file_property_carries_the_marker() -> None:
    registry = qconf.builtin_registry(plugins=False)
    marked = {(info.name, prop) for info in registry for prop in info.paths}
    for name in ("riscv64", "riscv32", "cortex-m4", "aarch64"):
        assert (name, "firmware") in marked
    assert {("rom", "file"), ("image", "file"), ("chardev", "path"),
            ("ns16550a", "chardev"), ("pl011", "chardev")} <= marked  # fmt: skip


def test_a_console_file_starts_at_the_file_that_sets_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "boards").mkdir()
    board = write(tmp_path / "boards", "board.yaml",
                  "extends: riscv-virt\nsoc:\n  uart0: {chardev: 'file:u.log'}\n")  # fmt: skip
    monkeypatch.chdir(tmp_path)
    doc = qconf.resolve([board])
    assert value(doc, "soc.uart0.chardev") == f"file:{tmp_path}/boards/u.log"
    doc = qconf.resolve([board], ["soc.uart0.chardev=file:v.log"])
    assert value(doc, "soc.uart0.chardev") == f"file:{tmp_path}/v.log"
    machine = qconf.build(doc)
    backend = machine.object("/machine/backends/chardev/soc-uart0")
    assert backend.get("path") == f"{tmp_path}/v.log"
    machine.destroy()


def _hetero(tmp_path: Path) -> Path:
    """machines/hetero-demo copied with its guests: firmware named relative to it."""
    (tmp_path / "m" / "hetero-demo").mkdir(parents=True)
    board = tmp_path / "m" / "hetero-demo" / "board.toml"
    board.write_text((MACHINES / "hetero-demo" / "board.toml").read_text())
    (tmp_path / "m" / "guests").symlink_to(GUESTS)
    return board


def test_a_resolved_document_runs_from_anywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    board = _hetero(tmp_path)
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(main, ["resolve", "-c", str(board)])
    assert r.exit_code == 0, r.output
    assert f"firmware: {tmp_path}/m/guests/hetero/app.elf" in r.stdout
    out = write(tmp_path, "out.yaml", r.stdout)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    r = CliRunner().invoke(main, ["validate", "-c", str(out)])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["diff", str(out), str(board)])
    assert (r.exit_code, r.stdout) == (0, "no differences\n")


def test_a_document_written_with_o_names_files_relative_to_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    board = _hetero(tmp_path)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "saved").mkdir()
    r = CliRunner().invoke(main, ["resolve", "-c", str(board), "-o", "saved/out.yaml"])
    assert r.exit_code == 0, r.output
    text = (tmp_path / "saved" / "out.yaml").read_text()
    assert "firmware: ../m/guests/hetero/app.elf" in text
    (tmp_path / "moved").mkdir()
    os.rename(tmp_path / "saved", tmp_path / "moved" / "saved")  # one level deeper
    (tmp_path / "moved" / "m").symlink_to(tmp_path / "m")
    monkeypatch.chdir("/")
    r = CliRunner().invoke(main, ["validate", "-c", str(tmp_path / "moved/saved/out.yaml")])
    assert r.exit_code == 0, r.output


def test_diff_compares_files_by_where_they_lead_and_by_contents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, data in (("a", b"one"), ("b", b"two"), ("c", b"one")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "fw.bin").write_bytes(data)
        write(tmp_path / name, "board.yaml", "extends: riscv-virt\ncpu0: {firmware: fw.bin}\n")
    (tmp_path / "link").symlink_to(tmp_path / "a")
    monkeypatch.chdir(tmp_path)

    def diff(*args: str) -> tuple[int, str]:
        r = CliRunner().invoke(main, ["diff", *args])
        return r.exit_code, r.stdout

    # a relative path copied verbatim names another file: a difference
    write(tmp_path, "copied.yaml", "extends: riscv-virt\ncpu0: {firmware: fw.bin}\n")
    (tmp_path / "fw.bin").write_bytes(b"one")
    code, out = diff("a/board.yaml", "copied.yaml")
    assert code == 1 and "~ cpu0.firmware: a/fw.bin -> fw.bin" in out
    assert diff("a/board.yaml", "link/board.yaml")[0] == 0  # the same file, two names
    assert diff("--contents", "a/board.yaml", "copied.yaml")[0] == 0  # the same bytes
    code, out = diff("--contents", "a/board.yaml", "b/board.yaml")
    assert code == 1 and "    contents: sha256:" in out
    assert diff("--contents", "a/board.yaml", "c/board.yaml")[0] == 0


def test_a_relative_path_from_the_command_line_still_comes_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qconf.cache.host import unconfigured

    monkeypatch.chdir(tmp_path)
    sets = ["soc.uart0.chardev=file:out.log"]
    machine = qconf.build(qconf.resolve(["riscv-virt"], sets))
    assert machine.object("backends.chardev.soc-uart0").get("path") == f"{tmp_path}/out.log"
    assert unconfigured(machine, lambda path: None, sets) is None
    assert unconfigured(machine, lambda path: None, ["soc.uart0.chardev=file:other.log"])
    machine.destroy()
