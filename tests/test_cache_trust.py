"""The start-up cache trusts nothing it did not write: a directory others can write is not
used, an entry qconf did not write is a miss, no entry widens what the configuration
allows, and clearing touches only qconf's own entries. Each test is an audit finding."""

from __future__ import annotations

import hmac
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from qconf.cache import CacheFolder, MachineCache, cached_machine, forget
from qconf.cache.folder import mac
from qconf.cli import main
from qconf.runner import RunOptions, remember, remembered
from tests.helpers import MACHINES, write

GUESTS = MACHINES / "guests" / "riscv"
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: makes files of another user")


def board(firmware: str, more: str = "") -> str:
    return f"extends: riscv-virt\ncpu0:\n  firmware: {firmware}\n{more}"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with board.yaml (hello.elf) and other.yaml (timer.elf), and a
    cache directory of its own (returned; made by the first run)."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("QCONF_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("QCONF_PATH", raising=False)
    write(work, "board.yaml", board(str(GUESTS / "hello.elf")))
    write(work, "other.yaml", board(str(GUESTS / "timer.elf")))
    return tmp_path / "cache"


def served(file: str = "board.yaml", sets: tuple[str, ...] = ()) -> tuple[str, str]:
    """How the cache served a run of ``file``, and the name of the firmware it runs."""
    machine, how = cached_machine([file], sets, (), MachineCache())
    firmware = next(o.get("file") for o in machine.objects() if o.info.category == "image")
    machine.destroy()
    return how, Path(firmware).name


def line_of(file: str, sets: tuple[str, ...] = ()) -> dict[str, Any]:
    return MachineCache.command_line([file], sets, ())


def entry_of(file: str) -> Path:
    return MachineCache().directory / CacheFolder.entry_name(line_of(file))


def planted(entry: dict[str, Any], key: bytes | None) -> bytes:
    """An entry as another user would write it: signed with their ``key``, or plain JSON
    as qconf wrote entries before they were signed."""
    body = json.dumps(entry).encode()
    if key is None:
        return body
    return mac(key, b"machines\0" + body).hex().encode() + b"\n" + body


def test_mac_is_hmac_sha256() -> None:
    for key in (b"", b"k" * 32, b"x" * 64, b"y" * 100):
        assert mac(key, b"data") == hmac.digest(key, b"data", "sha256")


def test_the_cache_directory_and_key_are_the_users_alone(cache: Path) -> None:
    assert served() == ("stored", "hello.elf")
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert stat.S_IMODE((cache / "machines").stat().st_mode) == 0o700
    key = cache / "key"
    assert (stat.S_IMODE(key.stat().st_mode), key.stat().st_size) == (0o600, 32)
    assert sorted(p.name for p in cache.iterdir()) == ["key", "machines"]
    (entry,) = MachineCache().entries()
    assert stat.S_IMODE(entry.path.stat().st_mode) == 0o600


# --- a cache directory other users can write ----------------------------------------------


@pytest.mark.parametrize("mode", [0o777, 0o1777, 0o770], ids=["world", "sticky", "group"])
def test_a_cache_directory_others_can_write_is_not_used(cache: Path, mode: int) -> None:
    """Audit: in a world-writable cache directory another user computed root's entry name
    and planted a snapshot; root's run ran their firmware with ``cache: hit``."""
    served("other.yaml")
    data = CacheFolder("machines").read(line_of("other.yaml"))
    data["line"] = line_of("board.yaml")
    CacheFolder("machines").write(line_of("board.yaml"), data)  # signed, even
    assert served() == ("hit", "timer.elf")
    cache.chmod(mode)
    assert served() == (f"off ({cache} is writable by others)", "hello.elf")
    r = CliRunner().invoke(main, ["run", "-c", "board.yaml", "--stats"])
    assert r.exit_code == 0 and r.stdout == "Hello from riscv-virt (rv64, ns16550a)\n"
    assert r.stderr.splitlines()[-1] == f"  machine cache: off ({cache} is writable by others)"
    r = CliRunner().invoke(main, ["cache", "--clear"])
    assert r.exit_code == 1
    assert r.stdout == f"{cache}: off ({cache} is writable by others): nothing removed\n"
    assert entry_of("board.yaml").exists()


@as_root
def test_a_cache_directory_of_another_user_is_not_used(cache: Path) -> None:
    served()
    os.chown(cache, 65534, 65534)
    assert served() == (f"off ({cache} belongs to another user)", "hello.elf")


@as_root
def test_a_link_of_another_user_to_the_cache_is_not_used(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served()
    link = cache.parent / "link"
    link.symlink_to(cache)
    os.lchown(link, 65534, 65534)
    monkeypatch.setenv("QCONF_CACHE_DIR", str(link))
    assert served() == (f"off ({link} is a symbolic link of another user)", "hello.elf")


@pytest.mark.parametrize("kind", ["readable", "link", "short", "fifo"])
def test_a_key_qconf_did_not_make_turns_the_cache_off(cache: Path, kind: str) -> None:
    served()
    key = cache / "key"
    if kind == "readable":
        key.chmod(0o644)
    elif kind == "link":
        (cache / "elsewhere").write_bytes(key.read_bytes())
        key.unlink()
        key.symlink_to("elsewhere")
    elif kind == "short":
        key.write_bytes(b"short")
    else:  # opening it must not wait for a writer
        key.unlink()
        os.mkfifo(key, 0o600)
    how, firmware = served()
    assert how.startswith(f"off ({key} is not a key qconf made") and firmware == "hello.elf"


# --- entries qconf did not write --------------------------------------------------------


@pytest.mark.parametrize("signed", ["unsigned", "other-key", "kept-signature"])
def test_an_entry_qconf_did_not_write_is_a_miss(cache: Path, signed: str) -> None:
    """Audit: hand edits of a snapshot (here: another board's machine under this board's
    command line) still hit."""
    served("other.yaml")
    served()
    sign, body = entry_of("other.yaml").read_bytes().split(b"\n", 1)
    data = json.loads(body)
    data["line"] = line_of("board.yaml")
    if signed == "kept-signature":
        text = sign + b"\n" + json.dumps(data).encode()
    else:
        text = planted(data, None if signed == "unsigned" else os.urandom(32))
    entry_of("board.yaml").write_bytes(text)
    assert served() == ("stored", "hello.elf")
    assert served() == ("hit", "hello.elf")


def test_an_entry_that_is_not_a_regular_file_is_a_miss(cache: Path) -> None:
    served("other.yaml")
    os.mkfifo(entry_of("board.yaml"), 0o600)  # opening it must not wait for a writer
    assert served() == ("stored", "hello.elf")
    assert served() == ("hit", "hello.elf")


def _edit(data: dict[str, Any], path: str, values: dict[str, Any]) -> None:
    for obj in data["machine"]["objects"]:
        if obj[0] == path:
            obj[3].update(values)
            return
    raise AssertionError(path)


UART = "/machine/backends/chardev/soc-uart0"
EDITS = {
    "chardev-overwrites-a-file": (UART, {"backend": "file", "path": "VICTIM"}),
    "chardev-listens-on-all-addresses": (UART, {"backend": "tcp", "host": "0.0.0.0"}),
    "another-firmware": ("/machine/backends/image/cpu0", {"file": str(GUESTS / "timer.elf")}),
}


@pytest.mark.parametrize("edit", EDITS, ids=list(EDITS))
def test_a_signed_entry_cannot_widen_what_the_configuration_allows(
    cache: Path, tmp_path: Path, edit: str
) -> None:
    """Audit: edited snapshots made a chardev overwrite an arbitrary file and listen on all
    addresses. Even one signed with the user's key (written here through qconf's own
    writer) is used only where the configuration says what it reaches on the host."""
    victim = write(tmp_path, "victim", "precious\n")
    served()
    line = line_of("board.yaml")
    data = CacheFolder("machines").read(line)
    path, values = EDITS[edit]
    _edit(data, path, {k: str(victim) if v == "VICTIM" else v for k, v in values.items()})
    CacheFolder("machines").write(line, data)
    r = CliRunner().invoke(main, ["run", "-c", "board.yaml", "--stats"])
    assert r.exit_code == 0 and r.stdout == "Hello from riscv-virt (rv64, ns16550a)\n"
    assert r.stderr.splitlines()[-1] == "  machine cache: stored"
    assert victim.read_text() == "precious\n"


def test_what_the_configuration_says_is_used_from_the_cache(cache: Path) -> None:
    uart = "soc:\n  uart0:\n    chardev: {}\n"
    write(Path(), "file.yaml", board(str(GUESTS / "hello.elf"), uart.format("file:out.txt")))
    assert served("file.yaml") == ("stored", "hello.elf")
    assert served("file.yaml") == ("hit", "hello.elf")
    remote = ("soc.uart0.chardev=tcp:0.0.0.0:1",)
    assert served(sets=remote) == ("stored", "hello.elf")
    assert served(sets=remote) == ("hit", "hello.elf")
    write(Path(), "remote.yaml", board(str(GUESTS / "hello.elf"), uart.format("tcp:0.0.0.0:1")))
    how = served("remote.yaml")[0]
    assert how == ("not stored: backends.chardev.soc-uart0.host is 0.0.0.0, which other "
                   "machines reach: taken from the configuration on every run unless a --set "
                   "argument gives it")  # fmt: skip


# --- remembered command lines -----------------------------------------------------------

ARGV = ["run", "-c", "board.yaml"]


@pytest.mark.parametrize("how", ["hand-edit", "signed"])
def test_an_edited_remembered_parse_cannot_serve_qmp(cache: Path, how: str) -> None:
    """Audit: an edited ``runs/*.json`` made a plain ``qconf run`` serve QMP on 0.0.0.0."""
    remember(ARGV, RunOptions(files=("board.yaml",)))
    assert remembered(ARGV) == RunOptions(files=("board.yaml",))
    folder = CacheFolder("runs")
    (entry,) = folder.entries()
    data = folder.read_name(entry.name)
    key = data["key"]
    data["options"].update(qmps=["tcp:0.0.0.0:4444"], qmp_allow_remote=True)
    if how == "signed":
        folder.write(key, data)
    else:
        sign = entry.path.read_bytes().split(b"\n", 1)[0]
        entry.path.write_bytes(sign + b"\n" + json.dumps(data).encode())
    assert remembered(ARGV) is None
    data["options"].update(qmps=["tcp:127.0.0.1:4444"], qmp_allow_remote=False)
    folder.write(key, data)
    assert remembered(ARGV) is None  # an address that is not one of the words
    data["options"].update(qmps=[], qmp_allow_remote=True)
    folder.write(key, data)
    assert remembered(ARGV) is None  # a flag that is not among the words


def test_a_run_with_an_edited_remembered_parse_goes_through_click(cache: Path) -> None:
    code = ("import atexit, sys\n"
            "atexit.register(lambda: print('click' in sys.modules, file=sys.stderr))\n"
            "from qconf.__main__ import main\nmain()\n")  # fmt: skip

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", code, *ARGV], check=False, text=True,
                              capture_output=True, timeout=60)  # fmt: skip

    assert run().stderr == "True\n" and run().stderr == "False\n"
    (entry,) = CacheFolder("runs").entries()
    sign, body = entry.path.read_bytes().split(b"\n", 1)
    data = json.loads(body)
    data["options"].update(qmps=["tcp:0.0.0.0:4444"], qmp_allow_remote=True)
    entry.path.write_bytes(sign + b"\n" + json.dumps(data).encode())
    again = run()
    assert again.returncode == 0 and again.stderr == "True\n"
    assert again.stdout == "Hello from riscv-virt (rv64, ns16550a)\n"


# --- clearing and pruning ---------------------------------------------------------------


def foreign(folder: Path) -> list[Path]:
    """40 JSON files of someone else's: half named as qconf names entries."""
    folder.mkdir()
    made = [
        write(folder, f"{i:016x}.json" if i % 2 else f"notes-{i}.json", "{}") for i in range(40)
    ]
    return sorted(made)


@pytest.mark.parametrize("name", ["machines", "runs"])
def test_a_symlinked_folder_in_the_cache_is_refused(cache: Path, tmp_path: Path, name: str) -> None:
    """Audit: a symlinked folder inside the cache let a run delete 9 of 40 foreign JSON
    files, and ``qconf cache --clear`` all 40."""
    theirs = foreign(tmp_path / "theirs")
    cache.mkdir(mode=0o700)
    (cache / name).symlink_to(tmp_path / "theirs")
    if name == "machines":
        assert served() == (f"off ({cache}/machines is a symbolic link)", "hello.elf")
    else:
        remember(ARGV, RunOptions(files=("board.yaml",)))
        assert remembered(ARGV) is None
    r = CliRunner().invoke(main, ["cache", "--clear"])
    assert r.exit_code == 1
    assert r.stdout == f"{cache}: off ({cache}/{name} is a symbolic link): nothing removed\n"
    assert sorted((tmp_path / "theirs").iterdir()) == theirs


def test_clearing_and_pruning_touch_only_qconf_entries(cache: Path, tmp_path: Path) -> None:
    served()
    folder = cache / "machines"
    victim = write(tmp_path, "victim.json", "{}")
    others = [write(folder, f"notes-{i}.json", "{}") for i in range(40)]
    (folder / "0123456789abcdef.json").symlink_to(victim)
    (folder / "fedcba9876543210.json").mkdir()
    assert served("other.yaml")[0] == "stored"  # pruning counts only entries
    r = CliRunner().invoke(main, ["cache", "--clear"])
    assert r.stdout == f"{folder}: removed 2 snapshots and 0 remembered command lines\n"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*(p.name for p in others), "0123456789abcdef.json", "fedcba9876543210.json"]
    )
    assert victim.read_text() == "{}"
    assert forget() == 0
