"""Machine snapshots and the cache ``qconf run`` starts from: a restored machine is the
built one; any change to what the configuration was read from is a miss; a run from the
cache imports neither the YAML reader nor pydantic, and reports errors as a built one."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import qconf
from qconf.assembly.snapshot import NotSnapshottable, dump, restore
from qconf.cache import MachineCache, cached_machine
from qconf.cli import main
from qconf.config.origin import LayerKind, Origin, Source
from qconf.emu.chardev import MemoryChardev
from qconf.emu.emulator import run as emulate
from qconf.errors import StateError, ValidationError
from qconf.model.lifecycle import State
from tests.helpers import MACHINES, REPO, without_timing, write

BOARDS = sorted(p for p in MACHINES.glob("*/board.*") if p.suffix in (".yaml", ".toml"))


@pytest.mark.parametrize("board", BOARDS, ids=lambda p: p.parent.name)
def test_a_restored_machine_is_the_built_one(board: Path) -> None:
    built = qconf.build(qconf.resolve([board]))
    data = dump(built)
    restored = restore(json.loads(json.dumps(data)))  # through JSON, as the cache keeps it
    assert dump(restored) == data
    assert [(o.path, o.info.name, o.state) for o in restored.objects()] == [
        (o.path, o.info.name, State.REALIZED) for o in built.objects()
    ]
    for mine, theirs in zip(restored.objects(), built.objects(), strict=True):
        for prop in theirs.info.prop_names:
            assert mine.get(prop) == theirs.get(prop), f"{theirs.key}.{prop}"
        assert mine.origins == theirs.origins and mine.origin == theirs.origin
        assert mine.info.units == theirs.info.units and mine.info.wires == theirs.info.wires
    assert [m.obj.path for m in restored.spaces["/machine"].mappings] == [
        m.obj.path for m in built.spaces["/machine"].mappings
    ]
    restored.destroy()
    built.destroy()


def test_a_restored_machine_runs_as_the_built_one() -> None:
    board = MACHINES / "riscv-timer" / "board.yaml"
    outputs = []
    for machine in (qconf.build(qconf.resolve([board])),
                    restore(dump(qconf.build(qconf.resolve([board]))))):  # fmt: skip
        uart = MemoryChardev()
        outcome = emulate(machine, chardevs={"/machine/backends/chardev/soc-uart0": uart})
        outputs.append((outcome.exit_code, bytes(uart.output), outcome.time_ns,
                        outcome.instructions))  # fmt: skip
        machine.destroy()
    assert outputs[0] == outputs[1]
    assert outputs[0][1].endswith(b"done\n")


def test_a_restored_machine_validates_changes_as_a_built_one() -> None:
    """A restored type holds no property model; a change to a runtime-writable property
    is validated by the built-in type's model all the same, with the located error a
    built machine gives, and other properties stay read-only."""
    registry = qconf.builtin_registry()
    riscv64 = registry.get("riscv64")
    registry = registry.extended([dataclasses.replace(riscv64, runtime=frozenset({"freq"}))])
    built = qconf.build(qconf.resolve([MACHINES / "riscv-hello" / "board.yaml"],
                                      registry=registry))  # fmt: skip
    machine = restore(dump(built))
    cpu = machine.object("cpu0")
    assert cpu.info.props is None and cpu.info.model() is riscv64.props
    here = Origin(Source("qmp", "qmp", LayerKind.QMP), 0, 0)
    cpu.set("freq", "2GHz", here)
    assert (cpu.get("freq"), cpu.origins["freq"]) == (2_000_000_000, here)
    with pytest.raises(ValidationError) as err:
        cpu.set("freq", "fast", here)
    assert (err.value.code, err.value.path, cpu.get("freq")) == ("E405", "cpu0.freq", 2_000_000_000)
    with pytest.raises(StateError, match="'hartid' is not runtime-writable"):
        cpu.set("hartid", 1, here)
    machine.destroy()
    built.destroy()


BOARD = "extends: riscv-virt\ncpu0:\n  firmware: ../guests/riscv/hello.elf\n"


@pytest.fixture
def board(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A board beside the example guests, run from its directory, with its own cache."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("QCONF_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("QCONF_PATH", raising=False)
    text = BOARD.replace("../guests", str(MACHINES / "guests"))
    return write(work, "board.yaml", text)


def served(files: list[str], sets: tuple[str, ...] = (), include: tuple[str, ...] = ()):
    machine, how = cached_machine(files, sets, include, MachineCache())
    freq = machine.object("cpu0").get("freq")
    machine.destroy()
    return how, freq


def test_the_second_run_is_served_from_the_snapshot(board: Path) -> None:
    assert served(["board.yaml"]) == ("stored", 1_000_000_000)
    assert served(["board.yaml"]) == ("hit", 1_000_000_000)
    assert served(["board.yaml"], ("cpu0.freq=2GHz",)) == ("stored", 2_000_000_000)
    assert served(["board.yaml"], ("cpu0.freq=2GHz",)) == ("hit", 2_000_000_000)
    assert served(["board.yaml"]) == ("hit", 1_000_000_000)
    assert len(MachineCache().entries()) == 2


def test_the_cache_lists_this_directorys_runs_first(
    board: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    write(other, "board.yaml", board.read_text())
    served(["board.yaml"])
    monkeypatch.chdir(other)
    served(["board.yaml"], ("cpu0.freq=2GHz",))  # the newest, from elsewhere
    monkeypatch.chdir(board.parent)
    out = CliRunner().invoke(main, ["cache"]).stdout.splitlines()
    assert [line.split("  ", 2)[-1] for line in out[1:]] == [
        f"from {board.parent} (1):",
        f"qconf run -c board.yaml  (in {board.parent})",
        "from elsewhere (1):",
        f"qconf run -c board.yaml --set cpu0.freq=2GHz  (in {other})",
    ]
    monkeypatch.chdir(tmp_path)  # both below it: one group, no headings, newest first
    out = CliRunner().invoke(main, ["cache"]).stdout.splitlines()
    assert [line.rsplit("(in ", 1)[-1] for line in out[1:]] == [f"{other})", f"{board.parent})"]


def test_an_edited_file_is_read_again(board: Path) -> None:
    served(["board.yaml"])
    board.write_text(BOARD.replace("../guests", str(MACHINES / "guests"))
                     + "  freq: 3GHz\n")  # fmt: skip
    assert served(["board.yaml"]) == ("stored", 3_000_000_000)


def test_an_edit_that_keeps_size_and_modification_time_is_seen(board: Path) -> None:
    """As on file systems with a coarse clock, or after a tool restored the time."""
    served(["board.yaml"])
    before = board.stat()
    text = BOARD.replace("../guests", str(MACHINES / "guests"))
    board.write_text(text.replace("cpu0:", "cpu0:\n  freq: 2GHz", 1)[: len(text)])
    edited = board.read_text()
    assert "freq: 2GHz" in edited and len(edited) == len(text)
    os.utime(board, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert board.stat().st_mtime_ns == before.st_mtime_ns
    assert served(["board.yaml"]) == ("stored", 2_000_000_000)


def test_an_edited_included_file_is_read_again(board: Path) -> None:
    write(board.parent, "speed.yaml", "cpu0:\n  freq: 100MHz\n")
    board.write_text(board.read_text() + "include: speed.yaml\n")
    assert served(["board.yaml"]) == ("stored", 100_000_000)
    assert served(["board.yaml"]) == ("hit", 100_000_000)
    write(board.parent, "speed.yaml", "cpu0:\n  freq: 200MHz\n")
    assert served(["board.yaml"]) == ("stored", 200_000_000)


def test_a_profile_that_now_comes_first_on_the_search_path_is_a_miss(board: Path) -> None:
    profiles = board.parent / "profiles"
    profiles.mkdir()
    assert served(["board.yaml"], include=("profiles",)) == ("stored", 1_000_000_000)
    # a riscv-virt in an earlier directory now shadows the canned one
    canned = (REPO / "qconf" / "profiles" / "riscv-virt.yaml").read_text()
    write(profiles, "riscv-virt.yaml", canned.replace("freq: 1GHz", "freq: 50MHz", 1))
    assert "freq: 50MHz" in (profiles / "riscv-virt.yaml").read_text()
    assert served(["board.yaml"], include=("profiles",)) == ("stored", 50_000_000)


def test_a_new_component_file_is_a_miss(board: Path) -> None:
    (board.parent / "profiles" / "components").mkdir(parents=True)
    assert served(["board.yaml"], include=("profiles",))[0] == "stored"
    write(board.parent / "profiles" / "components", "blob.yaml",
          "description: nothing\nparams: {}\nchildren: {}\n")  # fmt: skip
    assert served(["board.yaml"], include=("profiles",))[0] == "stored"


def test_the_environment_and_the_working_directory_are_part_of_the_key(
    board: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served(["board.yaml"])
    monkeypatch.setenv("QCONF_PATH", str(board.parent))
    assert served(["board.yaml"])[0] == "stored"
    monkeypatch.delenv("QCONF_PATH")
    assert served(["board.yaml"])[0] == "hit"
    other = board.parent.parent / "elsewhere"
    other.mkdir()
    monkeypatch.chdir(other)
    assert served([str(board)])[0] == "stored"


@pytest.mark.parametrize("limit", ["QCONF_MAX_OBJECTS", "QCONF_MAX_NODES", "QCONF_MAX_INCLUDES"])
def test_the_work_limits_are_part_of_the_key(
    board: Path, monkeypatch: pytest.MonkeyPatch, limit: str
) -> None:
    """A limit set after a run still applies: the snapshot of a run under other limits is
    not served (a lowered limit then refuses the configuration)."""
    assert served(["board.yaml"])[0] in ("stored", "hit")
    monkeypatch.setenv(limit, "100000")
    assert served(["board.yaml"])[0] == "stored"
    assert served(["board.yaml"])[0] == "hit"
    if limit != "QCONF_MAX_INCLUDES":  # the board reads too few files to reach it
        monkeypatch.setenv(limit, "1")
        with pytest.raises(qconf.QconfError, match=limit):
            served(["board.yaml"])


def test_a_damaged_entry_is_a_miss_and_is_rewritten(board: Path) -> None:
    served(["board.yaml"])
    (entry,) = MachineCache().entries()
    sign, body = entry.path.read_bytes().split(b"\n", 1)
    data = json.loads(body)
    data["machine"]["objects"][1][1] = "no-such-type"
    entry.path.write_bytes(sign + b"\n" + json.dumps(data).encode())
    assert served(["board.yaml"]) == ("stored", 1_000_000_000)
    entry.path.write_text("{not json")
    assert served(["board.yaml"]) == ("stored", 1_000_000_000)
    assert served(["board.yaml"]) == ("hit", 1_000_000_000)


def test_a_cache_that_cannot_be_written_says_so(board: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    how, _ = served_in(MachineCache(blocker), ["board.yaml"])
    assert how.startswith(f"not stored: {blocker}/machines: ")


def served_in(cache: MachineCache, files: list[str]) -> tuple[str, object]:
    machine, how = cached_machine(files, (), (), cache)
    machine.destroy()
    return how, None


def test_values_that_are_not_plain_data_are_not_snapshotted() -> None:
    machine = qconf.build(qconf.resolve([MACHINES / "riscv-hello" / "board.yaml"]))
    cpu = machine.object("cpu0")
    cpu.values = {**cpu.values, "freq": (1, 2)}
    with pytest.raises(NotSnapshottable, match=r"cpu0.freq is a tuple, not plain data"):
        dump(machine)
    machine.destroy()


def _run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``qconf ARGS`` as the installed command runs it, printing at exit which of the
    configuration pipeline's and the command line's libraries it imported."""
    code = ("import atexit, sys\n"
            "atexit.register(lambda: print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'pydantic', 'yaml', 'ruamel', 'tomllib', 'click'}), file=sys.stderr))\n"
            "from qconf.__main__ import main\nmain()\n")  # fmt: skip
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, check=False,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_a_repeated_run_imports_neither_the_configuration_reader_nor_click(board: Path) -> None:
    """The first run parses its words with click and resolves the machine; the second,
    with the same words, starts from both results."""
    first, second = (_run_cli("run", "-c", "board.yaml", "--stats", cwd=board.parent)
                     for _ in range(2))  # fmt: skip
    assert first.stdout == second.stdout == "Hello from riscv-virt (rv64, ns16550a)\n"
    assert first.returncode == second.returncode == 0
    assert first.stderr.splitlines()[-2:] == [
        "  machine cache: stored",
        "['click', 'pydantic', 'yaml']",
    ]
    assert second.stderr.splitlines()[-2:] == ["  machine cache: hit", "[]"]
    assert [without_timing(x) for x in first.stderr.splitlines()[:-2]] == [
        without_timing(x) for x in second.stderr.splitlines()[:-2]
    ]
    other = _run_cli("run", "-c", "board.yaml", cwd=board.parent)  # other words: click again
    assert other.stderr == "['click']\n" and other.stdout == first.stdout


def test_a_remembered_run_reports_errors_as_the_command_line(board: Path) -> None:
    board.write_text("extends: riscv-virt\ncpu0:\n  firmware: nothere.elf\n")
    runs = [_run_cli("run", "-c", "board.yaml", cwd=board.parent) for _ in range(2)]
    assert [r.returncode for r in runs] == [1, 1]
    assert runs[0].stderr.replace("['click', 'pydantic', 'yaml']", "[]") == runs[1].stderr
    assert runs[1].stderr.startswith("qconf: error: board.yaml:3:13: cannot read image ")


def test_usage_errors_and_no_cache_runs_are_not_remembered(board: Path) -> None:
    for _ in range(2):
        usage = _run_cli("run", "-c", "board.yaml", "--within", "1s", cwd=board.parent)
        assert usage.returncode == 2 and "must follow the --expect it limits" in usage.stderr
        bypass = _run_cli("run", "-c", "board.yaml", "--no-cache", cwd=board.parent)
        assert bypass.returncode == 0 and bypass.stderr == "['click', 'pydantic', 'yaml']\n"
    assert not (board.parent.parent / "cache" / "runs").exists()


def test_errors_from_a_restored_machine_are_located_as_from_a_built_one(board: Path) -> None:
    board.write_text("extends: riscv-virt\ncpu0:\n  firmware: nothere.elf\n")
    runs = [CliRunner().invoke(main, ["run", "-c", "board.yaml", "--stats"]) for _ in range(2)]
    assert [r.exit_code for r in runs] == [1, 1]
    assert runs[0].stderr == runs[1].stderr
    assert runs[0].stderr == (
        "qconf: error: board.yaml:3:13: cannot read image nothere.elf: No "
        "such file or directory [E903]\n  layer: file board.yaml\n  hint: check the path\n"
    )
    assert served(["board.yaml"])[0] == "hit"  # the machine was stored; its image is missing


def test_no_cache_neither_reads_nor_writes_it(board: Path) -> None:
    r = CliRunner().invoke(main, ["run", "-c", "board.yaml", "--stats", "--no-cache"])
    assert r.exit_code == 0 and r.stderr.splitlines()[-1] == "  machine cache: off"
    assert MachineCache().entries() == []


def test_the_cache_command_lists_and_clears(board: Path) -> None:
    served(["board.yaml"], ("cpu0.freq=2GHz",))
    cache = MachineCache().directory
    r = CliRunner().invoke(main, ["cache"])
    lines = r.stdout.splitlines()
    assert lines[0].startswith(f"{cache}: 1 snapshot, ")
    assert lines[0].endswith(" KiB (the newest 32 are kept)")
    assert lines[1].endswith(f"  qconf run -c board.yaml --set cpu0.freq=2GHz  (in {board.parent})")
    r = CliRunner().invoke(main, ["cache", "--clear"])
    assert r.stdout == f"{cache}: removed 1 snapshot and 0 remembered command lines\n"
    assert MachineCache().entries() == []
    _run_cli("run", "-c", "board.yaml", cwd=board.parent)
    r = CliRunner().invoke(main, ["cache", "--clear"])
    assert r.stdout == f"{cache}: removed 1 snapshot and 1 remembered command line\n"
    assert not list((cache.parent / "runs").glob("*.json"))


@pytest.mark.parametrize("raised", [ValidationError("bad value", code="E405"), KeyboardInterrupt()],
                         ids=["error", "ctrl-c"])  # fmt: skip
def test_both_ways_into_a_run_end_in_one_place(
    board: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    raised: BaseException,
) -> None:  # fmt: skip
    """Words parsed by click and words remembered from an earlier run reach the same
    ``runner.command``: the same error lines and exit statuses."""
    from qconf import runner

    def fail(options: runner.RunOptions) -> int:
        raise raised

    monkeypatch.setattr(runner, "execute", fail)
    clicked = CliRunner().invoke(main, ["run", "-c", "board.yaml"])
    argv = ["run", "-c", "board.yaml"]
    runner.remember(argv, runner.RunOptions(files=("board.yaml",)))
    options = runner.remembered(argv)
    assert options is not None
    with pytest.raises(SystemExit) as done:
        runner.command(options)
    assert (done.value.code, capsys.readouterr().err) == (clicked.exit_code, clicked.stderr)
    assert clicked.exit_code in (1, 130) and clicked.stderr in (
        "qconf: error: bad value [E405]\n", "qconf: interrupted\n")  # fmt: skip
