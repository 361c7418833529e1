"""QMP: the configuration interface over QEMU's protocol, driven by the qemu.qmp client."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from qemu.qmp.legacy import QEMUMonitorProtocol

from qconf.cli import main
from tests.helpers import MACHINES

HELLO = str(MACHINES / "riscv-hello" / "board.yaml")


_STARTED: list[subprocess.Popen[bytes]] = []


@pytest.fixture(autouse=True)
def _collect_client_leftovers():
    # qemu.qmp 0.0.6's legacy client keeps its socket and event loop until collected:
    # collect them here, where they belong, instead of warning inside a later test
    yield
    while _STARTED:  # a test that failed half-way leaves no qconf running
        proc = _STARTED.pop()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    import gc
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def start(
    tmp_path: Path, *args: str, module: str = "qconf.cli"
) -> tuple[subprocess.Popen[bytes], str]:
    """qconf serving QMP on a socket in ``tmp_path``; ``module="qconf"`` starts it as the
    qconf command does (remembering how its words were parsed)."""
    sock = str(tmp_path / "qmp.sock")
    proc = subprocess.Popen(
        [sys.executable, "-m", module, "run", "--qmp", f"unix:{sock}", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    _STARTED.append(proc)
    deadline = time.monotonic() + 20
    while not os.path.exists(sock):
        assert time.monotonic() < deadline and proc.poll() is None, proc.stderr
        time.sleep(0.05)
    return proc, sock


def connected(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[bytes], QEMUMonitorProtocol]:
    """qconf started with ``args`` and a legacy qemu.qmp client past negotiation."""
    proc, sock = start(tmp_path, *args)
    qmp = QEMUMonitorProtocol(sock)
    qmp.connect(negotiate=True)
    return proc, qmp


def quit_cleanly(proc: subprocess.Popen[bytes], qmp: QEMUMonitorProtocol) -> None:
    """``quit``; qconf ends with status 0."""
    qmp.cmd_raw("quit")
    qmp.close()
    proc.communicate(timeout=20)
    assert proc.returncode == 0


def test_preconfig_session_builds_what_files_and_set_build(tmp_path):
    proc, sock = start(tmp_path, "--preconfig", "-S")
    assert oct(os.stat(sock).st_mode & 0o777) == "0o600"  # owner only
    qmp = QEMUMonitorProtocol(sock)
    greeting = qmp.connect(negotiate=True)
    assert greeting["QMP"]["version"]["qemu"] == {"major": 7, "minor": 2, "micro": 0}
    assert qmp.cmd_raw("query-status") == {
        "return": {"status": "prelaunch", "singlestep": False, "running": False}
    }
    names = {c["name"] for c in qmp.cmd_raw("query-commands")["return"]}
    assert {"x-exit-preconfig", "qconf-set", "qconf-add-file", "qconf-resolve"} <= names
    assert qmp.cmd_raw("qconf-add-file", {"path": HELLO}) == {"return": {}}
    assert qmp.cmd_raw("qconf-set", {"set": "cpu0.freq=500MHz"}) == {"return": {}}
    # the same document as the file and the --set on the command line, byte for byte
    over_qmp = json.dumps(qmp.cmd_raw("qconf-resolve")["return"], sort_keys=True)
    cli = CliRunner().invoke(main, ["resolve", "-c", HELLO, "--set", "cpu0.freq=500MHz",
                                    "--format", "json"])  # fmt: skip
    assert over_qmp == json.dumps(json.loads(cli.stdout), sort_keys=True)
    # the value remembers who set it
    explained = qmp.cmd_raw("qconf-explain", {"path": "cpu0.freq"})["return"]
    assert "qmp client 1" in json.dumps(explained)
    assert qmp.cmd_raw("x-exit-preconfig") == {"return": {}}
    assert qmp.cmd_raw("query-status")["return"]["status"] == "paused"
    assert qmp.cmd_raw("cont") == {"return": {}}
    event = qmp.pull_event(wait=10)
    assert event is not None and event["event"] == "RESUME"
    shutdown = qmp.pull_event(wait=20)
    assert shutdown is not None and shutdown["event"] == "SHUTDOWN"
    assert shutdown["data"] == {"guest": True, "reason": "guest-shutdown"}
    qmp.close()
    out, _err = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert out == b"Hello from riscv-virt (rv64, ns16550a)\n"


def test_a_bad_configuration_answers_every_problem_and_stays(tmp_path):
    proc, qmp = connected(tmp_path, "--preconfig")
    assert qmp.cmd_raw("qconf-add-file", {"path": HELLO}) == {"return": {}}
    bad = qmp.cmd_raw("qconf-set", {"set": "cpu0.frq=1GHz"})
    assert bad["error"]["class"] == "GenericError"
    assert "no key 'frq' in cpu0 [E302]" in bad["error"]["desc"]
    assert "did you mean 'freq'?" in bad["error"]["desc"]
    assert qmp.cmd_raw("qconf-set", {"set": "soc.uart0.irq=plic.in[200]"}) == {"return": {}}
    failed = qmp.cmd_raw("x-exit-preconfig")
    assert "soc.plic.in[200] is out of range" in failed["error"]["desc"]
    assert qmp.cmd_raw("query-status")["return"]["status"] == "prelaunch"  # still here
    assert qmp.cmd_raw("quit") == {"return": {}}
    qmp.close()
    proc.communicate(timeout=20)
    assert proc.returncode == 0


def test_wire_protocol_as_qemu(tmp_path):
    proc, sock = start(tmp_path, "--preconfig")
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(sock)
    reader = conn.makefile("rb")

    def send(raw: bytes) -> dict[str, object]:
        conn.sendall(raw)
        return json.loads(reader.readline())

    assert "QMP" in json.loads(reader.readline())
    expecting = "Expecting capabilities negotiation with 'qmp_capabilities'"
    assert send(b'{"execute": "query-version", "id": "pre-1"}') == {
        "id": "pre-1", "error": {"class": "CommandNotFound", "desc": expecting},
    }  # fmt: skip
    assert send(b'{"execute": "qmp_capabilities", "id": "n", "extra": 1}') == {
        "id": "n", "error": {"class": "GenericError",
                             "desc": "QMP input member 'extra' is unexpected"},
    }  # fmt: skip
    assert send(b'{"execute": "qmp_capabilities", "id": "neg"}') == {"return": {}, "id": "neg"}
    assert send(b'{"execute": "qmp_capabilities"}')["error"]["class"] == "CommandNotFound"
    reply = send(b'{"execute": "query-status", "id": {"any": ["json", 1, null]}}')
    assert reply["id"] == {"any": ["json", 1, None]}  # any JSON id, echoed unchanged
    # no framing: two commands in one write, split anywhere
    conn.sendall(b'{"execute": "query-status", "id": 1}{"execute": "query-')
    conn.sendall(b'status", "id": 2}')
    assert json.loads(reader.readline())["id"] == 1
    assert json.loads(reader.readline())["id"] == 2
    assert send(b'{"execute": "nope"}')["error"] == {
        "class": "CommandNotFound",
        "desc": "The command nope has not been found",
    }
    assert send(b"[1]")["error"]["desc"] == "QMP input must be a JSON object"
    assert send(b'{"exec-oob": "query-status"}')["error"]["desc"] == (
        "QMP input member 'exec-oob' is unexpected"
    )  # oob was not enabled
    conn.sendall(b'{"execute": "quit"}')
    lines = [json.loads(reader.readline()), json.loads(reader.readline())]
    assert lines[0]["event"] == "SHUTDOWN" and lines[1] == {"return": {}}
    reader.close()
    conn.close()
    proc.communicate(timeout=20)
    assert proc.returncode == 0


def test_remote_addresses_need_an_explicit_option():
    r = CliRunner().invoke(main, ["run", "-c", HELLO, "--qmp", "tcp:0.0.0.0:4444"])
    assert r.exit_code == 1
    assert "would be reachable from other machines" in r.stderr


@pytest.mark.parametrize("args", [["--preconfig"], ["-S"]])
def test_preconfig_and_paused_need_qmp(args):
    r = CliRunner().invoke(main, ["run", "-c", HELLO, *args])
    assert r.exit_code == 2


def test_qom_and_device_add_before_the_build(tmp_path):
    proc, qmp = connected(tmp_path, "--preconfig", "-S", "-c", HELLO)
    listed = qmp.cmd_raw("qom-list", {"path": "/machine/soc"})["return"]
    assert {"name": "uart0", "type": "child<ns16550a>"} in listed
    assert {"name": "harts", "type": "int"} in listed
    assert qmp.cmd_raw("qom-get", {"path": "/machine/cpu0", "property": "freq"}) == {
        "return": 1_000_000_000
    }
    assert qmp.cmd_raw("qom-set", {"path": "/machine/cpu0", "property": "freq",
                                   "value": "250MHz"}) == {"return": {}}  # fmt: skip
    assert qmp.cmd_raw("qom-get", {"path": "/machine/cpu0", "property": "freq"}) == {
        "return": 250_000_000
    }
    added = qmp.cmd_raw("device_add", {"driver": "ns16550a", "id": "uart1", "bus": "/machine/soc",
                                       "base": "0x1000_0100", "irq": "plic.in[11]"})  # fmt: skip
    assert added == {"return": {}}
    assert qmp.cmd_raw("qom-get", {"path": "/machine/soc/uart1", "property": "base"}) == {
        "return": 0x1000_0100
    }
    props = qmp.cmd_raw("device-list-properties", {"typename": "pl011"})["return"]
    assert {
        "name": "clock",
        "type": "int",
        "default-value": 24_000_000,
        "description": "UARTCLK input clock: a frequency or a clock object's path.",
    } in props
    types = {t["name"] for t in qmp.cmd_raw("qom-list-types", {"implements": "uart"})["return"]}
    assert types == {"ns16550a", "pl011", "cmsdk-apb-uart"}
    # QOM's hierarchy: categories are abstract types under device (hardware) or object
    devices = qmp.cmd_raw("qom-list-types", {"implements": "device"})["return"]
    by_name = {t["name"]: t for t in devices}
    assert by_name["pl011"] == {"name": "pl011", "parent": "uart"}
    assert {"riscv64", "ram", "plic", "timer", "riscv-virt-soc"} <= set(by_name)
    assert not {"chardev", "clock", "machine", "device", "uart"} & set(by_name)
    abstract = qmp.cmd_raw("qom-list-types", {"implements": "device", "abstract": True})
    assert {"name": "uart", "parent": "device", "abstract": True} in abstract["return"]
    missing = qmp.cmd_raw("qom-list", {"path": "/machine/nothere"})
    assert missing["error"]["class"] == "DeviceNotFound"
    assert qmp.cmd_raw("device_del", {"id": "soc.uart1"}) == {"return": {}}
    assert qmp.cmd_raw("qom-list", {"path": "/machine/soc/uart1"})["error"]["class"] == (
        "DeviceNotFound"
    )
    assert qmp.cmd_raw("x-exit-preconfig") == {"return": {}}
    after = qmp.cmd_raw("qom-set", {"path": "/machine/cpu0", "property": "freq", "value": 1})
    assert after["error"]["desc"] == "Property cannot be set after initialization"
    quit_cleanly(proc, qmp)


def test_qmp_shell_drives_it(tmp_path):
    proc, sock = start(tmp_path, "--preconfig")
    env = {**os.environ, "HOME": str(tmp_path)}  # qmp-shell writes its history there
    shell = subprocess.run(
        [sys.executable, "-m", "qemu.qmp.qmp_shell", sock],
        input="query-status\nqconf-add-file path=" + HELLO + "\nquery-version\nquit\n",
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert '"status": "prelaunch"' in shell.stdout, shell.stdout + shell.stderr
    assert '"package": "qconf' in shell.stdout
    proc.communicate(timeout=20)
    assert proc.returncode == 0


def test_human_monitor_through_qmp_shell(tmp_path):
    hetero = str(MACHINES / "hetero-demo" / "board.toml")
    proc, sock = start(tmp_path, "-S", "-c", hetero)
    lines = ["info status", "info cpus", "xp /2xw 0x80000000", "x /3db 0x80000000",
             "x /2i 0x80000000", "info mtree", "info nope", "frob", "cont", "info status",
             "quit"]  # fmt: skip
    shell = subprocess.run(
        [sys.executable, "-m", "qemu.qmp.qmp_shell", "-H", sock],
        input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=60,
        env={**os.environ, "HOME": str(tmp_path)}, check=False,
    )  # fmt: skip
    out = shell.stdout
    assert "(QEMU) VM status: paused\n" in out, out + shell.stderr
    assert "* CPU #0: /machine/app/cpu0 (riscv64) pc=0x80000000\n" in out
    assert "  CPU #1: /machine/mcu/cpu0 (cortex-m) pc=0x" in out
    # the program's first words, as the CPU sees them (hetero/app.S: la sp, ...)
    assert "0000000080000000: 0x00001117 0x17010113\n" in out
    assert "0000000080000000: 23 17 0\n" in out
    assert "0x0000000080000000:  00001117  auipc sp, 1\n" in out, out  # disassembled
    assert "0x0000000080000004:  17010113  addi sp, sp, 0x170\n" in out
    assert "address-space: mcu (over system)  cpus: mcu.cpu0" in out
    assert "info: unknown subcommand: 'nope'" in out and "unknown command: 'frob'" in out
    assert "VM status: running" in out
    proc.communicate(timeout=20)
    assert proc.returncode == 0


def test_cpu_and_target_queries_as_qemu(tmp_path):
    hetero = str(MACHINES / "hetero-demo" / "board.toml")
    proc, qmp = connected(tmp_path, "-S", "-c", hetero)
    cpus = qmp.cmd_raw("query-cpus-fast")["return"]
    assert [(c["cpu-index"], c["qom-path"], c["target"]) for c in cpus] == [
        (0, "/machine/app/cpu0", "riscv64"), (1, "/machine/mcu/cpu0", "arm")]  # fmt: skip
    assert qmp.cmd_raw("query-target") == {"return": {"arch": "riscv64"}}
    assert qmp.cmd_raw("query-kvm") == {"return": {"enabled": False, "present": False}}
    hmp = qmp.cmd_raw("human-monitor-command", {"command-line": "info registers",
                                                "cpu-index": 1})["return"]  # fmt: skip
    assert hmp.startswith("CPU /machine/mcu/cpu0 (cortex-m)\r\n")
    pc = qmp.cmd_raw("qconf-register-read", {"cpu": "mcu.cpu0", "register": "pc"})["return"]
    thumb = qmp.cmd_raw("human-monitor-command", {"command-line": f"x /2i {pc['value']:#x}",
                                                  "cpu-index": 1})["return"]  # fmt: skip
    first, second = thumb.splitlines()
    assert first.startswith(f"0x{pc['value'] & ~1:016x}:  ") and second.startswith("0x")
    nothing = qmp.cmd_raw("human-monitor-command", {"command-line": "x /2i 0x7000000000"})
    assert (
        nothing["error"]["desc"] == "cannot access memory at 0x7000000000: nothing is mapped there"
    )
    bad = qmp.cmd_raw("human-monitor-command", {"command-line": "info cpus", "cpu-index": "a"})
    assert bad["error"]["desc"].startswith(
        "Invalid parameter type for 'cpu-index', expected: integer")  # fmt: skip
    quit_cleanly(proc, qmp)


def test_what_management_tools_ask_first(tmp_path):
    hetero = str(MACHINES / "hetero-demo" / "board.toml")
    proc, qmp = connected(tmp_path, "-S", "-c", hetero)
    machines = {m["name"]: m for m in qmp.cmd_raw("query-machines")["return"]}
    assert machines["hetero-soc"] == {
        "name": "hetero-soc", "cpu-max": 2, "hotpluggable-cpus": False,
        "numa-mem-supported": False, "deprecated": False, "acpi": False,
        "default-cpu-type": "riscv64"}  # fmt: skip
    assert set(machines) == {"arm64-virt", "hetero-soc", "mps2-an385", "riscv-virt"}
    cpu_types = [d["name"] for d in qmp.cmd_raw("query-cpu-definitions")["return"]]
    assert {"riscv64", "cortex-m4", "aarch64"} <= set(cpu_types)
    events = [e["name"] for e in qmp.cmd_raw("query-events")["return"]]
    assert {"STOP", "RESUME", "SHUTDOWN", "RESET"} <= set(events)
    chardevs = qmp.cmd_raw("query-chardev")["return"]
    assert chardevs == [
        {"label": f"backends.chardev.{name}-uart0", "filename": "stdio", "frontend-open": True}
        for name in ("app", "mcu")
    ]
    slots = qmp.cmd_raw("query-hotpluggable-cpus")["return"]
    assert [(c["type"], c["qom-path"]) for c in slots] == [
        ("riscv64", "/machine/app/cpu0"), ("cortex-m4", "/machine/mcu/cpu0")]  # fmt: skip
    # memsave/pmemsave: guest memory into a host file, as QEMU's (strings of integers too)
    mem = tmp_path / "mem.bin"
    first = qmp.cmd_raw("qconf-memory-read", {"cpu": "/machine/app/cpu0",
                                              "address": 0x8000_0000, "size": 16})  # fmt: skip
    saved = {"val": "0x8000_0000", "size": 16, "filename": str(mem)}
    assert qmp.cmd_raw("memsave", saved) == {"return": {}}
    assert mem.read_bytes().hex() == first["return"]["data"]
    mem.unlink()
    assert qmp.cmd_raw("pmemsave", saved) == {"return": {}}
    assert mem.read_bytes().hex() == first["return"]["data"]
    bad = qmp.cmd_raw("memsave", {**saved, "cpu-index": 2})
    assert bad["error"]["desc"] == "Parameter 'cpu-index' must be between 0 and 1"
    nowhere = qmp.cmd_raw("pmemsave", {**saved, "filename": str(tmp_path / "no" / "m.bin")})
    assert nowhere["error"]["desc"].startswith(f"Could not open '{tmp_path / 'no' / 'm.bin'}'")
    quit_cleanly(proc, qmp)


def test_guest_memory_registers_and_console_events(tmp_path):
    echo = str(MACHINES / "riscv-echo" / "board.yaml")
    proc, qmp = connected(tmp_path, "-S", "-c", echo)
    assert qmp.cmd_raw("qconf-console-events", {"enable": True}) == {"return": {}}
    assert qmp.cmd_raw("cont") == {"return": {}}
    chunks = ""
    while not chunks.endswith("q quits\n"):
        ev = qmp.pull_event(wait=10)
        assert ev is not None
        if ev["event"] == "QCONF_CONSOLE":
            assert ev["data"]["device"] == "/machine/soc/uart0"
            chunks += ev["data"]["data"]
    assert chunks == "echo: type, q quits\n"
    # the program's first instruction, read through the CPU: auipc sp, ... (la sp, ...)
    word = qmp.cmd_raw("qconf-memory-read", {"cpu": "cpu0", "address": 0x8000_0000, "size": 4})
    assert int.from_bytes(bytes.fromhex(word["return"]["data"]), "little") & 0x7F == 0x17
    assert qmp.cmd_raw("qconf-memory-write", {"cpu": "/machine/cpu0", "address": 0x8010_0000,
                                              "data": "c0ffee"}) == {"return": {}}  # fmt: skip
    back = qmp.cmd_raw("qconf-memory-read", {"cpu": "cpu0", "address": 0x8010_0000, "size": 3})
    assert back["return"] == {"data": "c0ffee"}
    sp = qmp.cmd_raw("qconf-register-read", {"cpu": "cpu0", "register": "sp"})["return"]["value"]
    assert 0x8000_0000 < sp < 0x8010_0000
    bad = qmp.cmd_raw("qconf-register-read", {"cpu": "cpu0", "register": "nope"})
    assert bad["error"]["desc"] == "cpu0 has no register 'nope'"
    # integers as qmp-shell sends what is not JSON: strings, written as in machine files
    hexed = {"cpu": "cpu0", "address": "0x8010_0000", "size": "3"}
    assert qmp.cmd_raw("qconf-memory-read", hexed)["return"] == {"data": "c0ffee"}
    not_int = qmp.cmd_raw("qconf-memory-read", {**hexed, "address": "0x8010_000g"})
    assert not_int["error"]["desc"] == (
        "Invalid parameter type for 'address', expected: integer (or a string of one: "
        "0x80000000, 0b101, 1_000)")  # fmt: skip
    unmapped = qmp.cmd_raw("qconf-memory-read", {**hexed, "address": "0x4000_0000"})
    assert unmapped["error"]["desc"] == (
        "cannot read guest memory: nothing is mapped at 0x40000000..0x40000002 in cpu0's "
        "address space (qom-list /machine and human-monitor-command 'info mtree' show what "
        "is mapped)")  # fmt: skip
    write = {"cpu": "cpu0", "address": 0x4000_0000, "data": "00"}
    assert "UC_ERR" not in qmp.cmd_raw("qconf-memory-write", write)["error"]["desc"]
    quit_cleanly(proc, qmp)


def test_memory_hotplug_into_a_running_machine(tmp_path):
    echo = str(MACHINES / "riscv-echo" / "board.yaml")
    proc, qmp = connected(tmp_path, "-S", "-c", echo)

    def add(**props: object) -> dict[str, Any]:
        return qmp.cmd_raw("device_add", {"driver": "ram", **props})

    assert add(id="ram2", base=0x9000_0000, size="1MiB") == {"return": {}}
    assert qmp.cmd_raw("qom-get", {"path": "/machine/ram2", "property": "size"}) == {
        "return": 1 << 20}  # fmt: skip
    assert qmp.cmd_raw("query-memory-size-summary")["return"] == {
        "base-memory": 128 << 20, "plugged-memory": 1 << 20}  # fmt: skip
    # checked as the whole configuration is: an overlap names both regions
    overlap = add(id="ram3", base=0x9008_0000, size="1MiB")["error"]["desc"]
    assert "regions overlap" in overlap and "ram3" in overlap and "ram2" in overlap
    misaligned = add(id="ram4", base=0x9020_0800, size="1MiB")["error"]["desc"]
    assert misaligned.startswith("ram4: at 0x90200800, size 0x100000, it is not on 4 KiB")
    uart = qmp.cmd_raw("device_add", {"driver": "pl011", "id": "u1", "base": 0x9030_0000})
    assert "does not support hotplugging: a pl011 can only be added before" in (
        uart["error"]["desc"])  # fmt: skip
    # the CPU runs code from it: lui t0, 0x10000; li t1, 'H'; sb t1, 0(t0); j .
    code = "b702001013038004238062006f000000"
    write = {"cpu": "cpu0", "address": 0x9000_0000, "data": code}
    assert qmp.cmd_raw("qconf-memory-write", write) == {"return": {}}
    pc = {"cpu": "cpu0", "register": "pc", "value": 0x9000_0000}
    assert qmp.cmd_raw("qconf-register-write", pc) == {"return": {}}
    assert qmp.cmd_raw("qconf-console-events", {"enable": True}) == {"return": {}}
    assert qmp.cmd_raw("cont") == {"return": {}}
    ev = qmp.pull_event(wait=10)
    while ev is not None and ev["event"] != "QCONF_CONSOLE":
        ev = qmp.pull_event(wait=10)
    assert ev is not None and ev["data"]["data"] == "H"
    busy = qmp.cmd_raw("device_del", {"id": "ram2"})["error"]["desc"]
    assert busy == ("Device 'ram2' is in use: cpu0 runs code from it (pc 0x9000000c); stop "
                    "the guest's use of it first")  # fmt: skip
    jump = {"cpu": "cpu0", "register": "pc", "value": 0x8000_0000}  # the echo program again
    assert qmp.cmd_raw("stop") == {"return": {}}
    assert qmp.cmd_raw("qconf-register-write", jump) == {"return": {}}
    assert qmp.cmd_raw("device_del", {"id": "ram2"}) == {"return": {}}
    assert qmp.pull_event(wait=5)["event"] in ("STOP", "DEVICE_DELETED")
    gone = qmp.cmd_raw("qconf-memory-read", {"cpu": "cpu0", "address": 0x9000_0000, "size": 4})
    assert "nothing is mapped at 0x90000000..0x90000003" in gone["error"]["desc"]
    # the configuration keeps the history, with its origins
    explain = qmp.cmd_raw("qconf-explain", {"path": "ram2"})["return"]
    assert [step["deleted"] for step in explain["chain"]] == [True, False]
    assert add(id="ram2", base=0x9000_0000, size="1MiB") == {"return": {}}  # fresh memory
    again = qmp.cmd_raw("qconf-memory-read", {"cpu": "cpu0", "address": 0x9000_0000, "size": 4})
    assert again == {"return": {"data": "00000000"}}
    quit_cleanly(proc, qmp)


def test_console_input_over_qmp_wakes_the_guest(tmp_path):
    board = str(MACHINES / "riscv-rxirq" / "board.yaml")
    proc, qmp = connected(tmp_path, "-S", "-c", board)
    assert qmp.cmd_raw("qconf-console-events", {"enable": True}) == {"return": {}}
    assert qmp.cmd_raw("cont") == {"return": {}}

    def output_until(text: str) -> str:
        seen = ""
        while text not in seen:
            ev = qmp.pull_event(wait=10)
            assert ev is not None
            if ev["event"] == "QCONF_CONSOLE":
                seen += ev["data"]["data"]
        return seen

    assert output_until("q quits\n") == "irq echo: type, q quits\n"
    # the hart sleeps in wfi: what a client types raises the receive interrupt
    uart = "/machine/soc/uart0"
    write = {"device": uart, "data": "hey"}
    assert qmp.cmd_raw("qconf-console-write", write) == {"return": {}}
    assert output_until("hey") == "hey"
    b64 = {"device": "soc.uart0", "data": "IQ==", "format": "base64"}  # "!"
    assert qmp.cmd_raw("qconf-console-write", b64) == {"return": {}}
    assert output_until("!") == "!"
    bad = qmp.cmd_raw("qconf-console-write", {"device": "/machine/cpu0", "data": "x"})
    assert bad["error"]["class"] == "DeviceNotFound"
    assert qmp.cmd_raw("qconf-console-write", {"device": uart, "data": "q"}) == {"return": {}}
    assert output_until("bye") == "\nbye\n"
    qmp.close()
    proc.communicate(timeout=20)
    assert proc.returncode == 0


def test_a_guest_fault_is_an_event(tmp_path):
    proc, qmp = connected(tmp_path, "-S", "-c", "riscv-virt")  # no program: faults at once
    qmp.cmd_raw("cont")
    names = []
    while "SHUTDOWN" not in names:
        ev = qmp.pull_event(wait=10)
        assert ev is not None
        names.append(ev["event"])
        if ev["event"] == "QCONF_GUEST_FAULT":
            assert ev["data"] == {"cpu": "/machine/cpu0", "pc": 0x1000,
                                  "cause": "illegal instruction with no trap handler "
                                           "(mtvec is 0)"}  # fmt: skip
    assert names == ["RESUME", "QCONF_GUEST_FAULT", "SHUTDOWN"]
    qmp.close()
    proc.communicate(timeout=20)
    assert proc.returncode == 3


def test_query_qmp_schema_describes_commands_events_and_types(tmp_path):
    proc, qmp = connected(tmp_path, "--preconfig")
    schema = qmp.cmd_raw("query-qmp-schema")["return"]
    assert schema == qmp.cmd_raw("query-qmp-schema")["return"]  # stable: clients cache it
    by_name = {entry["name"]: entry for entry in schema}
    commands = {c["name"] for c in qmp.cmd_raw("query-commands")["return"]}
    assert commands <= {e["name"] for e in schema if e["meta-type"] == "command"}
    qom_get = by_name["qom-get"]
    args = by_name[qom_get["arg-type"]]
    assert args["meta-type"] == "object"
    assert [m["name"] for m in args["members"]] == ["path", "property"]
    assert by_name["x-exit-preconfig"]["features"] == ["unstable"]
    shutdown = by_name[by_name["SHUTDOWN"]["arg-type"]]
    assert {m["name"] for m in shutdown["members"]} == {"guest", "reason"}
    uart = next(e for e in schema if e.get("qconf-type") == "ns16550a")
    members = {m["name"]: m for m in uart["members"]}
    assert members["base"]["type"] == "int" and "default" not in members["base"]  # required
    assert members["reg_shift"]["default"] is None  # optional
    for entry in schema:  # every type a member names is in the schema
        for member in entry.get("members", []):
            assert member["type"] in by_name, member
    quit_cleanly(proc, qmp)


def test_system_reset_and_the_async_client(tmp_path):
    import asyncio

    from qemu.qmp import QMPClient

    echo = str(MACHINES / "riscv-echo" / "board.yaml")
    proc, sock = start(tmp_path, "-S", "-c", echo)

    async def session() -> list[str]:
        client = QMPClient("test")
        await client.connect(sock)
        assert (await client.execute("query-status"))["status"] == "paused"
        await client.execute("qconf-console-events", {"enable": True})
        seen: list[str] = []
        text = ""
        async with asyncio.timeout(20):
            await client.execute("cont")
            async for ev in client.events:
                seen.append(ev["event"])
                if ev["event"] == "QCONF_CONSOLE":
                    text += ev["data"]["data"]
                    if text.count("q quits\n") == 1 and "RESET" not in seen:
                        await client.execute("system_reset")
                    if text.count("q quits\n") == 2:
                        break
        await client.execute("quit")
        await client.disconnect()
        return seen

    seen = asyncio.run(session())
    assert seen[0] == "RESUME"
    assert "RESET" in seen  # and the guest printed its greeting again after it
    proc.communicate(timeout=20)
    assert proc.returncode == 0


def test_two_clients_at_once_and_diff(tmp_path):
    proc, sock = start(tmp_path, "--preconfig")
    first, second = QEMUMonitorProtocol(sock), QEMUMonitorProtocol(sock)
    first.connect(negotiate=True)
    second.connect(negotiate=True)
    assert first.cmd_raw("qconf-add-file", {"path": HELLO}) == {"return": {}}
    assert second.cmd_raw("qconf-set", {"set": "ram.size=64MiB"}) == {"return": {}}
    # both see one configuration; the second client's value says so
    size = first.cmd_raw("qom-get", {"path": "/machine/ram", "property": "size"})
    assert size == {"return": 64 << 20}
    explained = json.dumps(first.cmd_raw("qconf-explain", {"path": "ram.size"})["return"])
    assert "qmp client 2" in explained
    changes = first.cmd_raw("qconf-diff", {"path": HELLO})["return"]
    assert changes["equal"] is False
    assert [c["path"] for c in changes["changes"]] == ["ram.size"]
    second.close()  # a client still connected when the server ends gets EOFError, as with QEMU
    quit_cleanly(proc, first)


def test_bad_input_never_ends_the_server(tmp_path):
    proc, sock = start(tmp_path, "-c", HELLO, "--preconfig", "-S")

    def connect() -> tuple[socket.socket, Any]:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(sock)
        reader = conn.makefile("rb")
        assert "QMP" in json.loads(reader.readline())
        return conn, reader

    conn, reader = connect()

    def send(raw: bytes) -> dict[str, Any]:
        conn.sendall(raw)
        return json.loads(reader.readline())

    assert send(b'{"execute": "qmp_capabilities"}') == {"return": {}}
    # the wrong phase: the error names the phase needed and the present one
    assert send(b'{"execute": "qconf-memory-read", "arguments": {"cpu": "/machine/cpu0", '
                b'"address": 0, "size": 4}}')["error"]["desc"] == (
        "The command 'qconf-memory-read' is permitted only once the machine has started "
        "(after x-exit-preconfig and cont); the machine is prelaunch")  # fmt: skip
    # a huge message: one error, its rest skipped, nothing held
    huge = b'{"execute": "qconf-set", "arguments": {"set": "' + b"x" * (3 << 20) + b'"}}'
    assert send(huge)["error"]["desc"] == "JSON parse error, message longer than 1048576 bytes"
    assert send(b'{"execute": "query-status"}')["return"]["status"] == "prelaunch"
    # wrong argument types, as QEMU words them
    assert send(b'{"execute": "qconf-set", "arguments": {"set": ["a"]}}')["error"]["desc"] == (
        "Invalid parameter type for 'set', expected: string")  # fmt: skip
    # a client hanging up in the middle of a command, one that never reads its replies,
    # one that hangs up before its reply: the others go on
    half, _ = connect()
    half.sendall(b'{"execute": "qmp_capabilities"}{"execute": "query-')
    half.close()
    deaf, _ = connect()
    deaf.sendall(b'{"execute": "qmp_capabilities"}' + b'{"execute": "query-status"}' * 30000)
    gone, _ = connect()
    gone.sendall(b'{"execute": "qmp_capabilities"}{"execute": "qconf-validate"}')
    gone.close()
    assert send(b'{"execute": "query-version", "id": 7}')["id"] == 7
    # built (and paused by -S): the configuration commands are over
    assert send(b'{"execute": "x-exit-preconfig"}') == {"return": {}}
    assert send(b'{"execute": "qconf-set", "arguments": {"set": "cpu0.freq=1GHz"}}') == {
        "error": {"class": "GenericError",
                  "desc": "The command 'qconf-set' is permitted only before the machine is "
                          "built (in preconfig, until x-exit-preconfig); the machine is paused"},
    }  # fmt: skip
    conn.sendall(b'{"execute": "quit"}')
    assert json.loads(reader.readline())["event"] == "SHUTDOWN"
    assert json.loads(reader.readline()) == {"return": {}}
    deaf.close()
    conn.close()
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert b"Traceback" not in err


def test_preconfig_qom_reads_share_one_machine_until_the_configuration_changes(
    tmp_path: Path,
) -> None:
    """Before the build, QOM reads show the machine as configured so far. It is built once
    and kept while the tweaks and the files it was read from stay as they were: a client
    walking the tree property by property does not resolve it again each time."""
    from qconf.qmp.commands import COMMANDS
    from qconf.qmp.control import Control
    from qconf.qmp.qom import machine_for_qom

    guests = MACHINES / "guests" / "riscv" / "hello.elf"
    board = tmp_path / "board.yaml"
    board.write_text(f"extends: riscv-virt\ncpu0:\n  firmware: {guests}\n")
    control = Control([str(board)])

    def freq() -> Any:
        return COMMANDS["qom-get"](control, {"path": "/machine/cpu0", "property": "freq"}, "t")

    first = machine_for_qom(control)
    assert freq() == 1_000_000_000 and machine_for_qom(control) is first
    COMMANDS["qom-set"](control, {"path": "/machine/cpu0", "property": "freq", "value": 5}, "t")
    assert freq() == 5 and machine_for_qom(control) is not first
    second = machine_for_qom(control)
    board.write_text(board.read_text() + "soc:\n  uart0:\n    base: 0x1000_1000\n")
    uart = {"path": "/machine/soc/uart0", "property": "base"}
    assert COMMANDS["qom-get"](control, uart, "t") == 0x1000_1000
    assert machine_for_qom(control) is not second
    control.build()
    assert control.preview is None and machine_for_qom(control) is control.machine
    control.machine.destroy()


def test_a_remembered_qmp_run_serves_as_the_first(tmp_path):
    """The second ``qconf run --qmp ...`` with the same words starts from the remembered
    parse, without click; it serves and quits as the first did."""
    answers = []
    for _ in range(2):
        proc, sock = start(tmp_path, "-S", "-c", HELLO, module="qconf")
        qmp = QEMUMonitorProtocol(sock)
        qmp.connect(negotiate=True)
        answers.append(qmp.cmd_raw("query-status")["return"])
        assert qmp.cmd_raw("qom-get", {"path": "/machine/cpu0", "property": "freq"}) == {
            "return": 1_000_000_000
        }
        quit_cleanly(proc, qmp)
    assert answers == [{"status": "paused", "singlestep": False, "running": False}] * 2
    assert len(list((Path(os.environ["QCONF_CACHE_DIR"]) / "runs").glob("*.json"))) >= 1
