"""What QMP users hit, through real clients: a broken layer refused, integers typed as
strings, guest memory that is not mapped, the queries management tools ask first,
``memsave``/``pmemsave``, ``x /i``, and the commands refused before the build.

The broken layer's error is golden (tests/data/qmp/broken-layer.err); regenerate with
``QCONF_REGEN_GOLDEN=1``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from qemu.qmp.legacy import QEMUMonitorProtocol

import qconf
from qconf.config.search import SearchPath
from qconf.qmp.schema import EVENTS
from tests.helpers import MACHINES, REPO
from tests.qmp_helpers import HELLO, RUNNING, start

DATA = Path(__file__).resolve().parent / "data" / "qmp"
ECHO = str(MACHINES / "riscv-echo" / "board.yaml")
# lui t0, 0x10000; li t1, 'H'; sb t1, 0(t0); j .
CODE = "b702001013038004238062006f000000"


def connected(tmp_path, processes, *args):
    proc, sock = start(tmp_path, processes, *args)
    qmp = QEMUMonitorProtocol(sock)
    qmp.connect(negotiate=True)
    return proc, qmp, sock


def quit_cleanly(proc, qmp) -> None:
    qmp.cmd_raw("quit")
    qmp.close()
    _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0 and b"Traceback" not in err, err


def test_a_broken_layer_is_refused_with_its_problems_and_the_session_goes_on(tmp_path, processes):
    """It was kept, answering ``{}``, and every later command failed with its errors."""
    proc, qmp, _sock = connected(tmp_path, processes, "--preconfig", "-S", "-c", HELLO)
    broken = os.path.relpath(DATA / "broken-layer.yaml", REPO)  # as qconf (in REPO) shows it
    refused = qmp.cmd_raw("qconf-add-file", {"path": broken})
    assert refused["error"]["class"] == "GenericError"
    expected = DATA / "broken-layer.err"
    if os.environ.get("QCONF_REGEN_GOLDEN") == "1":
        expected.write_text(refused["error"]["desc"] + "\n")
    assert refused["error"]["desc"] + "\n" == expected.read_text()
    # not kept: the configuration is as before, and builds
    freq = qmp.cmd_raw("qom-get", {"path": "/machine/cpu0", "property": "freq"})
    assert freq == {"return": 1_000_000_000}
    assert qmp.cmd_raw("x-exit-preconfig") == {"return": {}}
    quit_cleanly(proc, qmp)


def test_integers_typed_as_strings_and_instructions_through_qmp_shell(tmp_path, processes):
    """qmp-shell sends ``address=0x80000000`` as a string: every integer argument takes an
    integer written as a string (as ``--set`` writes it), while the schema still says int."""
    proc, sock = start(tmp_path, processes, "-S", "-c", ECHO)
    saved = tmp_path / "saved.bin"
    lines = [
        f"qconf-memory-write cpu=cpu0 address=0x8010_0000 data={CODE}",
        "qconf-memory-read cpu=cpu0 address=0x80100000 size=16",
        f"memsave val=0x80100000 size=0x10 filename={saved}",
        "qconf-memory-read cpu=cpu0 address=0x80100000 size=lots",
    ]

    def shell(*options: str, typed: list[str]) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "qemu.qmp.qmp_shell", *options, sock],
            input="\n".join(typed) + "\n", capture_output=True, text=True, timeout=60,
            env={**os.environ, "HOME": str(tmp_path)}, check=False,
        )  # fmt: skip
        assert "Traceback" not in done.stderr, done.stderr
        return done.stdout

    out = shell(typed=lines)
    assert f'"data": "{CODE}"' in out, out
    assert saved.read_bytes() == bytes.fromhex(CODE)
    assert ("Invalid parameter value for 'size': expected an integer (decimal, 0x hex, 0o octal "
            "or 0b binary, '_' allowed between digits), got 'lots'") in out  # fmt: skip
    out = shell("-H", typed=["x /4i 0x80100000", "xp /2i 0x80100008", "quit"])
    assert (
        "(QEMU) 0x0000000080100000:  100002b7          lui                     t0, 0x10000\n"
        "0x0000000080100004:  04800313          addi                    t1, zero, 0x48\n"
        "0x0000000080100008:  00628023          sb                      t1, 0(t0)\n"
        "0x000000008010000c:  0000006f          j                       0\n"
    ) in out, out
    assert "(QEMU) 0x0000000080100008:  00628023          sb " in out
    proc.communicate(timeout=20)
    assert proc.returncode == 0


def test_the_queries_management_tools_ask_first(tmp_path, processes):
    proc, qmp, sock = connected(tmp_path, processes, "-S", "-c", HELLO)
    machines = qmp.cmd_raw("query-machines")["return"]
    assert [m["name"] for m in machines] == SearchPath.default().names()
    assert {"name": "riscv-virt", "cpu-max": 1, "hotpluggable-cpus": False,
            "numa-mem-supported": False, "deprecated": False, "default-cpu-type": "riscv64",
            "default-ram-id": "ram"} in machines  # fmt: skip
    assert {"name": "hetero-soc", "cpu-max": 2, "hotpluggable-cpus": False,
            "numa-mem-supported": False, "deprecated": False, "default-cpu-type": "riscv64",
            "default-ram-id": "app.ram"} in machines  # fmt: skip
    cpus = [t.name for t in qconf.builtin_registry() if t.category == "cpu"]
    assert qmp.cmd_raw("query-cpu-definitions")["return"] == [
        {"name": name, "typename": name, "static": False, "deprecated": False} for name in cpus
    ]
    assert qmp.cmd_raw("query-events")["return"] == [{"name": name} for name in EVENTS]
    assert qmp.cmd_raw("query-chardev")["return"] == [
        {"label": "compat_monitor0", "filename": f"unix:{sock},server=on", "frontend-open": True},
        {"label": "soc-uart0", "filename": "stdio", "frontend-open": True},
    ]  # fmt: skip
    assert qmp.cmd_raw("query-hotpluggable-cpus")["error"] == {
        "class": "GenericError",
        "desc": "The feature 'query-hotpluggable-cpus' is not enabled",
    }
    quit_cleanly(proc, qmp)


def test_memsave_and_pmemsave_as_qemu(tmp_path, processes):
    proc, qmp, _sock = connected(tmp_path, processes, "-S", "-c", HELLO)
    head = qmp.cmd_raw("qconf-memory-read", {"cpu": "cpu0", "address": 0x8000_0000, "size": 64})
    saved, physical = tmp_path / "virtual.bin", tmp_path / "physical.bin"
    assert qmp.cmd_raw("memsave", {"val": 0x8000_0000, "size": 64, "filename": str(saved),
                                   "cpu-index": 0}) == {"return": {}}  # fmt: skip
    assert saved.read_bytes().hex() == head["return"]["data"]
    # physical memory: what nothing maps reads as zeros (from 0x88000000 on, here)
    assert qmp.cmd_raw("pmemsave", {"val": 0x87FF_FFF0, "size": 32,
                                    "filename": str(physical)}) == {"return": {}}  # fmt: skip
    assert physical.read_bytes()[16:] == bytes(16)
    errors = {
        ("memsave", 0x10, 16, str(saved), None): "Invalid addr 0x0000000000000010/size 16 "
                                                  "specified",
        ("memsave", 0x8000_0000, 16, str(saved), 1): "Parameter 'cpu-index' expects a CPU "
                                                     "number",
        ("memsave", 0x8000_0000, 16, "/nonexistent/x.bin", None): "Could not open "
            "'/nonexistent/x.bin': No such file or directory",
        ("pmemsave", 0x8000_0000, 16, str(saved), 0): "Parameter 'cpu-index' is unexpected",
    }  # fmt: skip
    for (name, val, size, filename, index), desc in errors.items():
        args = {"val": val, "size": size, "filename": filename}
        if index is not None:
            args["cpu-index"] = index
        assert qmp.cmd_raw(name, args)["error"] == {"class": "GenericError", "desc": desc}
    assert saved.read_bytes() == b""  # opened before the memory is read, as QEMU does
    assert qmp.cmd_raw("human-monitor-command", {"command-line": "x /4xw 0x87fffff8"}) == {
        "return": "0000000087fffff8: Cannot access memory\r\n"}  # fmt: skip
    quit_cleanly(proc, qmp)


def test_commands_with_nothing_to_act_on_before_the_build_are_refused(tmp_path, processes):
    proc, qmp, _sock = connected(tmp_path, processes, "--preconfig", *RUNNING)
    for name in ("stop", "query-cpus-fast", "query-target", "memsave"):
        assert qmp.cmd_raw(name)["error"]["desc"].startswith(
            f"The command '{name}' is permitted only once the machine "
        )
    assert qmp.cmd_raw("query-status")["return"]["status"] == "prelaunch"
    assert qmp.cmd_raw("cont") == {"return": {}}  # qconf's: builds, then runs
    quit_cleanly(proc, qmp)
