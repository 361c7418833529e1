"""``qconf set``: an edit resolves exactly as the same ``--set`` does, values are written
as typed, and writing is safe (concurrent runs, planted links, failures, other writers)."""

from __future__ import annotations

import errno
import os
import resource
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import qconf
from qconf.cli import main
from qconf.config.edit import edit_file
from qconf.config.layers import load_layers
from qconf.config.node import to_plain
from qconf.errors import EditError, QconfError
from qconf.resolve import edit_resolver, resolve_layers
from tests.helpers import write

YAML_BOARD = """\
# a board: comments and layout stay
extends: riscv-virt
description: my board   # trailing comment
cpu0:
  freq: 500MHz
soc:
  uart1:
    type: ns16550a
    base: 0x10000200
    irq: plic.in[12]
  test: {$delete: true}
"""

TOML_BOARD = """\
# a board
extends = "riscv-virt"
description = "my board"  # trailing comment

[cpu0]
freq = "500MHz"

[soc.uart1]
type = "ns16550a"
base = 0x1000_0200
irq = "plic.in[12]"
"""


def set_(path: Path, *args: str) -> tuple[int, str]:
    r = CliRunner().invoke(main, ["set", str(path), *args])
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    return r.exit_code, r.stderr


def lines(path: Path) -> list[str]:
    """The file's lines without trailing comments (kept, but realigned)."""
    return [line.split(" #")[0].rstrip() for line in path.read_text().splitlines()]


def resolved(path: Path, sets: tuple[str, ...] = (), text: str | None = None) -> object:
    texts = {path.resolve(): text} if text is not None else None
    return to_plain(resolve_layers(load_layers([path], sets, texts=texts)).tree)


# --- values as typed, and the meaning of --set ---------------------------------------------

VALUES = [
    # (assignment, line expected in the YAML file)
    ("description=0x10", "description: 0x10"),
    ("description='0x10'", "description: 0x10"),
    ("description=1_000", "description: 1_000"),
    ("model=007", "model: 007"),
    ("description=''", 'description: ""'),
    ("description=null text", "description: null text"),
    ("description='null'", 'description: "null"'),
    ("description= two  spaces", "description: ' two  spaces'"),
    ("description=a: b", "description: 'a: b'"),
    ("description=true", "description: true"),
    ("soc.uart1.base=0x1000_0300", "    base: 0x1000_0300"),
    ("++soc.uart1={type: ns16550a, base: 0x10000300}", "    irq: plic.in[12]"),
    ("++soc.uart1={type: ns16550a, base: 0x10000300}", "    base: 0x10000300"),
    ("cpu0.freq=1.5GHz", "  freq: 1.5GHz"),
]


@pytest.mark.parametrize(("assignment", "line"), VALUES, ids=[a for a, _ in VALUES])
def test_values_are_written_as_typed(tmp_path: Path, assignment: str, line: str):
    board = write(tmp_path, "board.yaml", YAML_BOARD)
    expected = resolved(board, (assignment,))
    code, err = set_(board, assignment)
    assert code == 0, err
    assert line in lines(board)
    assert resolved(board) == expected


TOML_VALUES = [
    ("description=0x10", 'description = "0x10"'),
    ("model=007", 'model = "007"'),
    ("quantum=0x20", "quantum = 0x20"),
    ("quantum=1_000", "quantum = 1_000"),
    ("quantum=007", 'quantum = "007"'),  # not a TOML number; the text converts the same
    ("skip_busy_waits=false", "skip_busy_waits = false"),
    ("soc.uart1.base=0x1000_0300", "base = 0x1000_0300"),
    ("++soc.uart1={type: ns16550a, base: 0x10000300}", 'irq = "plic.in[12]"'),
]


@pytest.mark.parametrize(("assignment", "line"), TOML_VALUES, ids=[a for a, _ in TOML_VALUES])
def test_toml_values_are_numbers_only_where_the_key_holds_one(
    tmp_path: Path, assignment: str, line: str
):
    board = write(tmp_path, "board.toml", TOML_BOARD)
    expected = resolved(board, (assignment,))
    code, err = set_(board, assignment)
    assert code == 0, err
    assert line in lines(board)
    assert resolved(board) == expected


# --- the property: an edit resolves as the same --set ---------------------------------------

TEXTS = st.one_of(
    st.sampled_from(["0x10", "007", "1_000", "1e3", "true", "yes", "null", "~", "", " x ",
                     "a: b", "#c", "- d", "'q'", '"dq"', "2024-01-01", "<<", "!x", "&a", "*a",
                     "[", "{", "a, b", "\u00e9t\u00e9", "x\\ny", "9" * 30, "'null'",
                     "'0x10'", "tab\there", "nel\x85x"]),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
            max_size=8),
)  # fmt: skip
NUMBERS = st.sampled_from(["0x20", "1_000", "007", "10", "0b101", "0o17", " 12 ", "0", "-0",
                           "0x1000_0000", "+3", "'5'"])  # fmt: skip
FREQS = st.sampled_from(["1GHz", "1.5GHz", "500MHz", "1000000", "0x1000", "1_000MHz"])
ADDRESSES = st.sampled_from(["0x10000300", "0x1000_0300", "268436224", "0X10000300"])
LISTS = st.sampled_from(["[i, m, a]", "[]", "[e]", "v", "zbkb", "[0x10, '007']", "[null]",
                         "!append [v]", "!prepend [e]", "[a, 'b c']"])  # fmt: skip
ITEMS = st.sampled_from(["e", "zbkb", "'x y'", "0x10", "null"])
UART_MAPS = st.sampled_from([
    "{type: ns16550a, base: 0x10000300}", "{base: 0x10000300}", "{irq: plic.in[14]}",
    "{irq: plic.in[14], reg_shift: 2}", "!replace {type: ns16550a, base: 0x10000300}",
    "{type: ns16550a, base: 0x10000300, irq: plic.in[12], reg_shift: 0x1}", "{irq: !delete}",
])  # fmt: skip
PLAIN = st.sampled_from(["", "++"])
LIKELY = st.one_of(
    st.tuples(PLAIN, st.sampled_from(["description", "model", "bootargs"]), st.just("="),
              TEXTS),
    st.tuples(PLAIN, st.sampled_from(["quantum", "cpu0.hartid", "soc.uart1.reg_shift",
                                      "soc.uart0.reg_shift"]), st.just("="), NUMBERS),
    st.tuples(PLAIN, st.just("cpu0.freq"), st.just("="), FREQS),
    st.tuples(PLAIN, st.sampled_from(["soc.uart1.base", "ram.base"]), st.just("="), ADDRESSES),
    st.tuples(PLAIN, st.sampled_from(["cpu0.isa", "compatible"]), st.sampled_from(["=", "+="]),
              LISTS),
    st.tuples(PLAIN, st.sampled_from(["cpu0.isa[0]", "cpu0.isa[-1]", "compatible[0]"]),
              st.just("="), ITEMS),
    st.tuples(PLAIN, st.sampled_from(["soc.uart1", "soc.uart0"]), st.just("="), UART_MAPS),
    st.tuples(st.just("~"), st.sampled_from(["soc.uart1", "soc.uart1.irq", "cpu0.freq",
                                             "soc.test", "soc.uart0", "cpu0.isa[0]", "mrom",
                                             "description", "soc.uart0.reg_shift"]),
              st.just(""), st.just("")),
    st.tuples(st.just("+"), st.sampled_from(["soc.uart2", 'soc."odd.name"']), st.just("="),
              st.just("{type: ns16550a, base: 0x10000400, irq: plic.in[13]}")),
    st.tuples(PLAIN, st.just("skip_busy_waits"), st.just("="),
              st.sampled_from(["true", "false", "yes", "0", "1", "'true'"])),
)  # fmt: skip
ANY = st.tuples(
    st.sampled_from(["", "+", "++", "~"]),
    st.sampled_from(["description", "quantum", "cpu0.freq", "cpu0.isa", "cpu0.isa[1]",
                     "soc.uart1", "soc.uart1.base", "soc.test", "soc.uart2", "ram",
                     "compatible", 'soc."odd.name"', "x.y"]),
    st.sampled_from(["=", "+="]),
    st.one_of(TEXTS, NUMBERS, LISTS, UART_MAPS,
              st.sampled_from(["{$delete: true}", "!delete", "{x: {y: 1}}", "{type: container}",
                               "{$append: [zbkb]}"])),
)  # fmt: skip
ASSIGNMENTS = st.one_of(LIKELY, LIKELY, LIKELY, ANY).map(
    lambda t: f"{t[0]}{t[1]}" if t[0] == "~" else f"{t[0]}{t[1]}{t[2]}{t[3]}"
)
PROPERTY = settings(max_examples=int(os.environ.get("QCONF_EDIT_EXAMPLES", "80")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])  # fmt: skip


def check_equivalence(board: Path, assignments: list[str]) -> None:
    original = board.read_text()
    try:
        expected = resolved(board, tuple(assignments))
    except QconfError:
        event("the --set is not valid")
        return  # nothing to compare with
    try:
        text = edit_file(board, assignments, resolve=edit_resolver(), dry_run=True)
    except EditError as exc:
        # the file cannot hold the edit (TOML has no null; a list the file extends with a
        # marker cannot be indexed; a key deleted twice, which --set forgives when a later
        # assignment deletes its parent): said, nothing written, never a different value
        event(f"refused: {exc.code}")
        allowed = (("E507", "TOML has no null"), ("E501", "marker"), ("E502", "nothing to delete"))
        assert any(exc.code == code and words in exc.message for code, words in allowed), exc
        return
    event("compared")
    assert board.read_text() == original  # a dry run writes nothing
    assert resolved(board, (), text) == expected, text


@PROPERTY
@given(assignments=st.lists(ASSIGNMENTS, min_size=1, max_size=3))
def test_an_edit_resolves_as_the_same_set_yaml(tmp_path_factory, assignments):
    board = write(tmp_path_factory.mktemp("edit"), "board.yaml", YAML_BOARD)
    check_equivalence(board, assignments)


@PROPERTY
@given(assignments=st.lists(ASSIGNMENTS, min_size=1, max_size=3))
def test_an_edit_resolves_as_the_same_set_toml(tmp_path_factory, assignments):
    board = write(tmp_path_factory.mktemp("edit"), "board.toml", TOML_BOARD)
    check_equivalence(board, assignments)


# --- the layout of the file ------------------------------------------------------------

LAYOUT_BOARD = """\
extends: riscv-virt
cpu0:
  freq: 500MHz

soc:
  test: !delete   # no test device
  uart1:
    type: ns16550a
    base: 0x10000100

# the memory
ram:
  size: 1GiB
"""


def test_a_new_object_keeps_its_numbers_as_written(tmp_path: Path):
    board = write(tmp_path, "board.yaml", LAYOUT_BOARD)
    assert set_(board, "+soc.uart2={type: ns16550a, base: 0x10000200}")[0] == 0
    assert "  uart2: {type: ns16550a, base: 0x10000200}" in lines(board)
    assert qconf.resolve([board]).lookup(("soc", "uart2", "base")).value == 0x10000200


def test_a_new_key_lands_inside_its_block_and_comments_stay(tmp_path: Path):
    board = write(tmp_path, "board.yaml", LAYOUT_BOARD)
    assert set_(board, "cpu0.hartid=0", "soc.uart1.reg_shift=0")[0] == 0
    assert board.read_text() == LAYOUT_BOARD.replace(
        "  freq: 500MHz\n", "  freq: 500MHz\n  hartid: 0\n"
    ).replace("    base: 0x10000100\n", "    base: 0x10000100\n    reg_shift: 0\n")


# --- writing safely ------------------------------------------------------------------------


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if "qconf-tmp" in p.name)


@pytest.mark.parametrize(("name", "text"), [("board.yaml", YAML_BOARD), ("board.toml", TOML_BOARD)])
def test_deleting_a_key_the_edit_just_set_leaves_no_marker(tmp_path: Path, name: str, text: str):
    """A type's default is set by no layer: deleting a key that only the same edit set
    removes it from the file, without a $delete marker that would have nothing to delete
    (found by the equivalence property above)."""
    board = write(tmp_path, name, text)
    code, err = set_(board, "soc.uart0.reg_shift=0x20", "~soc.uart0.reg_shift")
    assert code == 0, err
    assert "reg_shift" not in board.read_text()
    assert board.read_text().count("$delete") == text.count("$delete")
    code, err = set_(board, "~soc.uart0.reg_shift")
    assert code == 1
    assert "nothing to delete: neither the file nor what it extends sets this key [E502]" in err


def test_a_planted_link_at_a_temporary_name_is_not_followed(tmp_path: Path):
    board = write(tmp_path, "board.yaml", YAML_BOARD)
    victim = write(tmp_path, "victim.txt", "precious\n")
    (tmp_path / ".board.yaml.qconf-tmp").symlink_to(victim)  # the old fixed name
    assert set_(board, "description=changed")[0] == 0
    assert victim.read_text() == "precious\n"
    assert (tmp_path / ".board.yaml.qconf-tmp").is_symlink()
    assert qconf.resolve([board]).lookup(("description",)).value == "changed"


def test_a_linked_board_has_its_target_edited(tmp_path: Path):
    (tmp_path / "real").mkdir()
    real = write(tmp_path / "real", "board.yaml", YAML_BOARD)
    link = tmp_path / "board.yaml"
    link.symlink_to(real)
    assert set_(link, "description=changed")[0] == 0
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert "description: changed" in real.read_text()
    assert leftovers(real.parent) == [] and leftovers(tmp_path) == []


def test_mode_and_owner_are_kept(tmp_path: Path):
    board = write(tmp_path, "board.yaml", YAML_BOARD)
    board.chmod(0o640)
    owner = (os.getuid(), os.getgid())
    if os.geteuid() == 0:
        owner = (1234, 5678)
        os.chown(board, *owner)
    assert set_(board, "description=changed")[0] == 0
    st_ = board.stat()
    assert stat.S_IMODE(st_.st_mode) == 0o640
    assert (st_.st_uid, st_.st_gid) == owner


FAILURES = [
    ("mkstemp", errno.EACCES, "make the directory writable"),
    ("mkstemp", errno.EROFS, "read-only file system"),
    ("write", errno.ENOSPC, "the disk holding"),
    ("write", errno.EFBIG, "file size limit (ulimit -f)"),
    ("fchown", errno.EPERM, "run it as the file's owner"),
    ("replace", errno.EACCES, "make the directory writable"),
]


@pytest.mark.parametrize(("call", "code", "hint"), FAILURES,
                         ids=[f"{c}-{errno.errorcode[e]}" for c, e, _ in FAILURES])  # fmt: skip
def test_a_failed_write_leaves_the_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, call: str, code: int, hint: str
):
    board = write(tmp_path, "board.yaml", YAML_BOARD)
    if call == "fchown":
        os.chown(board, os.getuid() + 1, os.getgid())  # needs root to make, and to keep
        if os.geteuid() != 0:
            pytest.skip("making a file of another owner needs root")

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError(code, os.strerror(code))

    target = {"mkstemp": "tempfile.mkstemp", "write": "os.write", "fchown": "os.fchown",
              "replace": "os.replace"}[call]  # fmt: skip
    monkeypatch.setattr(target, fail)
    code_, err = set_(board, "description=changed")
    assert code_ == 1
    assert err.startswith(f"qconf: error: {board}: cannot write the edited file: ")
    assert "[E505]" in err and hint in err
    assert board.read_text() == YAML_BOARD
    assert leftovers(tmp_path) == []


def test_the_file_size_limit(tmp_path: Path):
    # a real `ulimit -f`: the write fails with EFBIG (Python ignores SIGXFSZ)
    board = write(tmp_path, "board.yaml", YAML_BOARD)
    done = subprocess.run(
        [sys.executable, "-m", "qconf", "set", "board.yaml", "description=" + "x" * 2000],
        cwd=tmp_path, capture_output=True, text=True, check=False, timeout=60,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024)),
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "board.yaml: cannot write the edited file: File too large" in done.stderr
    assert board.read_text() == YAML_BOARD and leftovers(tmp_path) == []


def test_a_fifo_is_refused(tmp_path: Path):
    os.mkfifo(tmp_path / "board.yaml")
    code, err = set_(tmp_path / "board.yaml", "description=x")
    assert code == 1 and "not a regular file (a FIFO) [E101]" in err


def test_a_change_by_another_program_is_reported(tmp_path: Path):
    board = write(tmp_path, "board.yaml", YAML_BOARD)
    plain = edit_resolver()
    calls = []

    def meddling(path: Path, sets: object, text: str, lower: bool) -> object:
        calls.append(lower)
        if len(calls) == 3:  # while the edit is validated, an editor saves the file
            board.write_text(YAML_BOARD.replace("my board", "saved by an editor"))
        return plain(path, sets, text, lower)  # type: ignore[arg-type]

    with pytest.raises(EditError) as info:
        edit_file(board, ["description=changed"], resolve=meddling)  # type: ignore[arg-type]
    assert info.value.code == "E506"
    assert "saved by an editor" in board.read_text() and leftovers(tmp_path) == []


def test_concurrent_sets_lose_nothing(tmp_path: Path):
    board = write(tmp_path, "board.yaml", "type: machine\n")
    n = 10
    command = [sys.executable, "-m", "qconf", "set", "board.yaml"]
    procs = [
        subprocess.Popen([*command, f"+d{i}={{type: container}}"], cwd=tmp_path,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(n)
    ]  # fmt: skip
    results = [(p.wait(timeout=120), p.communicate()[1]) for p in procs]
    assert all(code == 0 for code, _ in results), results
    assert not any("Traceback" in err for _, err in results)
    doc = qconf.resolve([board])
    assert {f"d{i}" for i in range(n)} <= set(doc.tree.value)
    assert leftovers(tmp_path) == []
