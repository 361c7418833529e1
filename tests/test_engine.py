"""The engine: which Unicorn runs the machines, building the store-fix one, and that both
give the same results.

Tests marked ``engine`` run machines; CI runs them on the stock engine and again in an
environment with the store-fix engine (``qconf engine build``), where
:func:`test_both_engines_give_the_same_results` also runs every example machine and
firmware boot on both engines and compares them byte for byte (``QCONF_OTHER_ENGINE``
names the other environment's Python).
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from qconf.cli import main
from qconf.engine import Engine, installed
from qconf.engine import build as builder
from qconf.errors import ToolError
from tests.external import require_file, require_program
from tests.helpers import MACHINES

HELLO = str(MACHINES / "riscv-hello" / "board.yaml")
SMC = MACHINES / "riscv-smc" / "board.yaml"
SMC_OUT = """\
smc: data stores, sum 523776
smc: code copied into a data page, run, overwritten twice: 1 2 3
smc: code that ran, patched twice, with fence.i: 1 2 3
smc: code that ran, patched twice, without fence.i: 1 2 3
smc: a block patching itself, fence.i, passes: 2 2
smc: a block patching itself, no fence.i, passes: 1 2
smc: ok
"""


# --- which engine ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("found", "kind"),
    [("2.1.4", "stock"), ("2.1.4+qconf.1", "store-fix"), ("2.1.4+qconf.12", "store-fix"),
     ("2.1.4+local", "local"), ("2.1.4+qconfx.1", "local")],
    ids=str,
)  # fmt: skip
def test_the_version_label_names_the_engine(found, kind, monkeypatch):
    monkeypatch.setattr("importlib.metadata.version", lambda name: found)
    monkeypatch.delenv("LIBUNICORN_PATH", raising=False)
    assert installed() == Engine(kind, found)
    assert str(installed()) == f"{kind} (unicorn {found})"


def test_a_library_from_libunicorn_path_is_named_as_such(tmp_path, monkeypatch):
    monkeypatch.setattr("importlib.metadata.version", lambda name: "2.1.4")
    monkeypatch.setenv("LIBUNICORN_PATH", str(tmp_path))
    assert installed().kind == "stock"  # no library there: the binding loads its own
    (tmp_path / "libunicorn.so.2").write_bytes(b"")
    assert str(installed()) == f"the library in $LIBUNICORN_PATH ({tmp_path}), not unicorn 2.1.4"


def test_the_engine_command_names_it():
    r = CliRunner().invoke(main, ["engine"])
    assert (r.exit_code, r.output) == (0, f"{installed()}\n")


def test_version_and_stats_name_the_engine():
    engine = str(installed())
    r = CliRunner().invoke(main, ["--version"])
    assert r.exit_code == 0
    assert r.output == f"qconf, version 0.1.0\nengine: {engine}\n"
    r = CliRunner().invoke(main, ["run", "-c", HELLO, "--stats"])
    assert r.exit_code == 0
    assert f"\n  engine: {engine}\n  machine cache: " in r.stderr


def test_running_a_machine_never_loads_the_builder():
    script = (
        "import sys\n"
        "from qconf.runner import RunOptions, execute\n"
        f"assert execute(RunOptions(files=({HELLO!r},), stats=True)) == 0\n"
        "print('qconf.engine.build' in sys.modules, 'click' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True)  # fmt: skip
    assert out.stdout.splitlines()[-1] == "False False"


# --- building it -----------------------------------------------------------------------


def test_the_wheel_version_satisfies_qconfs_requirement():
    from importlib.metadata import requires

    from packaging.requirements import Requirement

    (unicorn,) = [Requirement(r) for r in requires("qconf") or [] if r.startswith("unicorn")]
    assert builder.version() == f"2.1.4+qconf.{builder.REVISION}"
    assert unicorn.specifier.contains(builder.version())


PATCH_SHA256 = {
    "store-fastpath.patch": "84c80b2cd5e671034829a77fc60187f9f802c63a8c0891a366e3fae32a64efa8",
    "inline-counting.patch": "5a30b22660d7983a811726cbfcfe0ad0011f6db34cdb69f6293a533e0199450d",
}


def test_the_patch_revision_follows_the_patches():
    digests = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in builder.PATCHES}
    assert digests == PATCH_SHA256, (
        "a patch changed: raise REVISION in qconf/engine/build.py (the wheel's version "
        f"label) and set PATCH_SHA256 here to {digests}"
    )


def test_missing_tools_are_named_with_their_packages(tmp_path, monkeypatch):
    present = {"make", "gcc"}
    monkeypatch.setattr("shutil.which", lambda p: f"/usr/bin/{p}" if p in present else None)
    monkeypatch.delenv("CC", raising=False)
    assert builder.missing_tools() == ["cmake (apt-get install cmake)",
                                       "patch (apt-get install patch)"]  # fmt: skip
    monkeypatch.setattr("subprocess.Popen", None)  # nothing may run
    with pytest.raises(ToolError) as err:
        builder.build(tmp_path, progress=builder.Progress(io.StringIO(), live=False))
    assert err.value.code == "E810"
    assert err.value.message == ("building the engine needs cmake (apt-get install cmake), "
                                 "patch (apt-get install patch)")  # fmt: skip
    present.remove("gcc")
    assert "a C compiler (apt-get install gcc)" in builder.missing_tools()
    monkeypatch.setenv("CC", "gcc-12")
    present.add("gcc-12")
    assert "a C compiler (apt-get install gcc)" not in builder.missing_tools()


def test_a_source_that_is_not_the_published_one_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(builder, "missing_tools", lambda: [])
    sdist = tmp_path / "unicorn-2.1.4.tar.gz"
    sdist.write_bytes(b"not it")
    with pytest.raises(ToolError) as err:
        builder.build(tmp_path / "out", sdist=sdist,
                      progress=builder.Progress(io.StringIO(), live=False))  # fmt: skip
    assert err.value.code == "E812"
    assert builder.SDIST_SHA256 in (err.value.hint or "")


def test_a_wheel_built_from_the_same_inputs_is_reused(tmp_path, monkeypatch):
    out = io.StringIO()
    first = tmp_path / f"unicorn-{builder.version()}-cp37-abi3-linux_x86_64.whl"

    def fake_build(output, record, sdist, jobs, say):
        first.write_bytes(b"wheel")
        first.with_suffix(".json").write_text(__import__("json").dumps(record))
        return first

    monkeypatch.setattr(builder, "_build", fake_build)
    assert builder.build(tmp_path, progress=builder.Progress(out, live=False)) == first
    monkeypatch.setattr(builder, "_build", None)  # not again
    assert builder.build(tmp_path, progress=builder.Progress(out, live=False)) == first
    assert "reusing" in out.getvalue()
    first.with_suffix(".json").write_text('{"patch_sha256": "another patch"}')
    monkeypatch.setattr(builder, "_build", fake_build)
    assert builder.build(tmp_path, progress=builder.Progress(out, live=False)) == first
    assert out.getvalue().count("reusing") == 1


def test_progress_names_the_steps_and_counts_the_compile():
    out = io.StringIO()
    say = builder.Progress(out, live=False)
    say.step(4, "compiling")
    for value in (0, 3, 9, 10, 11, 25, 100):
        say.percent(value)
    assert out.getvalue().splitlines() == ["qconf engine: [4/6] compiling", "  compiling: 0%",
                                           "  compiling: 10%", "  compiling: 25%",
                                           "  compiling: 100%"]  # fmt: skip
    live = io.StringIO()
    say = builder.Progress(live, live=True)
    say.percent(5)
    say.percent(5)
    say.percent(6)
    say.note("done")
    assert live.getvalue() == ("\r\x1b[K  compiling: 5%\r\x1b[K  compiling: 6%\r\x1b[K"
                               "qconf engine: done\n")  # fmt: skip


def test_a_failing_step_shows_the_end_of_its_output_and_keeps_the_log(tmp_path):
    log = tmp_path / "build.log"
    with log.open("w") as logf, pytest.raises(ToolError) as err:
        builder._run(["sh", "-c", "echo one; echo '[ 50%] two'; exit 3"], logf, log, "E814",
                     "compiling Unicorn failed")  # fmt: skip
    assert err.value.code == "E814"
    assert err.value.message == "compiling Unicorn failed (status 3):\n    one\n    [ 50%] two"
    assert err.value.hint == f"the whole output is in {log}"
    assert "[ 50%] two" in log.read_text()


def test_the_check_after_installing_loads_the_engine():
    done = subprocess.run([sys.executable, "-c", builder.CHECK], capture_output=True,
                          text=True, check=False)  # fmt: skip
    assert (done.returncode, done.stdout) == (0, f"{installed()}\n"), done.stderr


def test_the_builder_is_a_command_with_its_errors_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(builder, "missing_tools", lambda: ["cmake (apt-get install cmake)"])
    r = CliRunner().invoke(main, ["engine", "build", "-o", str(tmp_path)])
    assert r.exit_code == 1
    assert r.stderr.splitlines()[-2:] == [
        "qconf: error: building the engine needs cmake (apt-get install cmake) [E810]",
        "  hint: install them, then run qconf engine build again",
    ]


# --- the same results on either engine -------------------------------------------------


@pytest.mark.engine
def test_stores_and_self_modifying_code_as_on_qemu():
    r = CliRunner().invoke(main, ["run", "-c", str(SMC)])
    assert (r.exit_code, r.stdout) == (0, SMC_OUT)
    qemu = require_program("qemu-system-riscv64", "qemu-system-misc")
    done = subprocess.run(
        [qemu, "-M", "virt", "-bios", "none", "-display", "none", "-monitor", "none",
         "-serial", "stdio", "-kernel", str(MACHINES / "guests" / "riscv" / "smc.elf")],
        capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout.decode()) == (0, SMC_OUT)


@pytest.mark.engine
def test_the_store_workload_prints_what_qemu_prints():
    r = CliRunner().invoke(main, ["run", "-c", str(MACHINES / "riscv-stores" / "board.yaml")])
    assert (r.exit_code, r.stdout) == (0, "stores: 2 rounds, checksum 206233995695\n")
    qemu = require_program("qemu-system-riscv64", "qemu-system-misc")
    done = subprocess.run(
        [qemu, "-M", "virt", "-bios", "none", "-display", "none", "-monitor", "none",
         "-serial", "stdio", "-kernel", str(MACHINES / "guests" / "riscv" / "stores.elf")],
        capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.stdout.decode() == r.stdout


def _alias_run() -> list[int]:
    """Unicorn alone, riscv64 with a virtual TLB that maps 0x20000 to the page at 0x10000:
    a data store through the alias, then code at 0x10000 runs, then the alias patches it,
    twice. Returns what the code returned each time."""
    from unicorn import UC_ARCH_RISCV, UC_HOOK_TLB_FILL, UC_MODE_RISCV64, UC_TLB_VIRTUAL, Uc
    from unicorn import riscv_const as rv

    code = bytes.fromhex(
        "37040100"  # lui s0, 0x10
        "370b0200"  # lui s6, 0x20           the alias
        "23300b20"  # sd zero, 0x200(s6)     a data store through it
        "e7000400"  # jalr s0                "li a0, 1; ret"
        "130e0500"  # mv t3, a0
        "23202b01"  # sw s2, 0(s6)           "li a0, 2" through the alias
        "e7000400"  # jalr s0
        "930e0500"  # mv t4, a0
        "23203b01"  # sw s3, 0(s6)           "li a0, 3"
        "e7000400"  # jalr s0
        "130f0500"  # mv t5, a0
    )
    uc = Uc(UC_ARCH_RISCV, UC_MODE_RISCV64)
    uc.mem_map(0x1000, 0x1000)
    uc.mem_map(0x10000, 0x1000)
    uc.mem_write(0x1000, code)
    uc.mem_write(0x10000, bytes.fromhex("1305100067800000"))  # li a0, 1; ret
    uc.reg_write(rv.UC_RISCV_REG_S2, 0x00200513)
    uc.reg_write(rv.UC_RISCV_REG_S3, 0x00300513)

    def fill(uc, vaddr, access, entry, user):
        page = vaddr & ~0xFFF
        entry.paddr = vaddr - 0x10000 if page == 0x20000 else vaddr
        entry.perms = 7
        return True

    uc.ctl_set_tlb_mode(UC_TLB_VIRTUAL)
    uc.hook_add(UC_HOOK_TLB_FILL, fill)
    uc.emu_start(0x1000, 0x1000 + len(code))
    return [uc.reg_read(r) for r in (rv.UC_RISCV_REG_T3, rv.UC_RISCV_REG_T4, rv.UC_RISCV_REG_T5)]


@pytest.mark.engine
def test_code_patched_through_another_virtual_address_is_seen():
    assert _alias_run() == [1, 2, 3]


FIRMWARE = {
    "uboot-riscv": ("/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin", "u-boot-qemu",
                    ["--expect", "Hit any key", "--send", "\\n", "--expect", "=> ", "--send",
                     "version\\n", "--expect", "=> ", "--send", "poweroff\\n"]),
    "uboot-arm64": ("/usr/lib/u-boot/qemu_arm64/u-boot.bin", "u-boot-qemu",
                    ["--expect", "Hit any key", "--send", "\\n", "--expect", "=> ", "--send",
                     "version\\n", "--expect", "=> ", "--send", "poweroff\\n"]),
}  # fmt: skip
EXAMPLES = sorted(p.parent.name for p in MACHINES.glob("*/board.*"))


def _results(python: str, board: str) -> tuple[int, bytes, list[str]]:
    """Exit status, console bytes and the --stats lines that do not depend on the host
    (virtual time, instruction counts) of ``board`` run by ``python -m qconf``."""
    path = next((MACHINES / board).glob("board.*"))
    args = ["run", "-c", str(path), "--stats", "--no-cache"]
    if board in FIRMWARE:
        image, package, script = FIRMWARE[board]
        require_file(image, package)
        if "riscv" in board:
            require_file("/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin", "opensbi")
        args += [*script, "--timeout", "300"]
    else:
        args += ["--max-insns", "50000000"]
    done = subprocess.run([python, "-m", "qconf", *args], input=b"typed\nq",
                          capture_output=True, timeout=600, check=False)  # fmt: skip
    stats = []
    for line in done.stderr.decode().splitlines():
        if line.startswith("  virtual time"):
            stats.append(line.split(", wall")[0])
        elif re.match(r"  \S+: \d+ instructions", line):
            stats.append(line.split(",")[0])
    return done.returncode, done.stdout, stats


@functools.cache
def _engine_of(python: str) -> str:
    done = subprocess.run([python, "-m", "qconf", "engine"], capture_output=True, text=True,
                          check=True)  # fmt: skip
    return done.stdout.strip()


@pytest.mark.engine
@pytest.mark.parametrize("board", EXAMPLES)
def test_both_engines_give_the_same_results(board):
    other = os.environ.get("QCONF_OTHER_ENGINE")
    if not other:
        pytest.skip("QCONF_OTHER_ENGINE names no other environment's Python (CI sets it)")
    assert _engine_of(sys.executable) != _engine_of(other), _engine_of(other)
    here, there = _results(sys.executable, board), _results(other, board)
    assert here[2], here  # the counts were found
    assert here == there


@pytest.mark.engine
def test_fast_timing_is_counted_inline_on_the_store_fix_engine():
    """The store-fix engine's translated code counts blocks (``uc_qconf_counter``): no
    block hook; the stock engine has no such function and qconf uses its hook."""
    from qconf.emu import native

    if native.hooks() is None:
        pytest.skip("native hooks are off here (no extension, or QCONF_NO_NATIVE=1)")
    inline = native.engine_symbol(native.INLINE_COUNTER) is not None
    kind = installed().kind
    assert inline if kind == "store-fix" else not inline if kind == "stock" else True, kind
    r = CliRunner().invoke(main, ["run", "-c", HELLO, "--stats", "--no-cache"])
    assert r.exit_code == 0, r.output
    line = "  native hooks: on (fast timing counted inline by the store-fix engine)"
    assert (line in r.stderr.splitlines()) == inline, r.stderr
    assert "  /machine/cpu0: 454 instructions" in r.stderr  # the same count either way
