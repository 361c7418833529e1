"""Checkpoints: a machine saved mid-run and restored (in this process or a new one) goes on
exactly as the uninterrupted run: the same console bytes, instruction counts and virtual
time, on U-Boot (riscv64, arm64), the heterogeneous demo, Cortex-M exceptions and a hart
asleep in wfi; from the command line (--save-at, --restore), over QMP (snapshot-save and
-load jobs, savevm/loadvm) and the machine under test; and a checkpoint refuses another
machine."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import pytest
from click.testing import CliRunner

from qconf.cli import main
from qconf.emu.checkpoint import CheckpointError, read
from qconf.testing.dut import start
from tests.external import require_file
from tests.helpers import MACHINES, write

UBOOT = {
    "uboot-riscv": ["/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin",
                    "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin"],
    "uboot-arm64": ["/usr/lib/u-boot/qemu_arm64/u-boot.bin"],
}  # fmt: skip
HETERO = str(MACHINES / "hetero-demo" / "board.toml")
STEPS = ["version\n", "sleep 1\n", "poweroff\n"]

DRIVE = """
import json, sys
from qconf.testing.dut import start
dut = start([], checkpoint=sys.argv[1])
for i, text in enumerate(json.loads(sys.argv[2])):
    dut.write(text)
    if i < len(json.loads(sys.argv[2])) - 1:
        dut.expect_exact("=> ")
code = dut.wait_exit()
print(json.dumps({"code": code, "log": bytes(dut.log).hex(), "instructions":
                  dut.stats.instructions, "virtual_ns": dut.stats.virtual_ns}))
"""


def _drive(dut, steps):
    for i, text in enumerate(steps):
        dut.write(text)
        if i < len(steps) - 1:
            dut.expect_exact("=> ")
    return dut.wait_exit()


@pytest.mark.parametrize("board", sorted(UBOOT))
def test_uboot_restored_in_a_new_process_goes_on_as_the_uninterrupted_run(board, tmp_path):
    for path in UBOOT[board]:
        require_file(path, "opensbi" if "opensbi" in path else "u-boot-qemu")
    ck = tmp_path / "prompt.qcp"
    dut = start([str(MACHINES / board / "board.yaml")])
    dut.expect("Hit any key")
    dut.write("\n")
    dut.expect_exact("=> ")
    dut.save(ck, "=> ")
    mark = len(dut.log)
    assert _drive(dut, STEPS) == 0
    after = bytes(dut.log)[mark:]
    done = subprocess.run([sys.executable, "-c", DRIVE, str(ck), json.dumps(STEPS)],
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    restored = json.loads(done.stdout)
    assert bytes.fromhex(restored["log"]) == after
    assert after.startswith(b"version\r\nU-Boot 2023.01") and after.endswith(b"poweroff ...\r\n")
    assert restored["instructions"] == dut.stats.instructions
    assert restored["virtual_ns"] == dut.stats.virtual_ns  # sleep 1 took the same second
    assert restored["code"] == 0
    dut.close()


def test_the_command_line_saves_at_a_text_and_restores(tmp_path):
    """The heterogeneous demo (riscv64 and Cortex-M4, a mailbox, two consoles) saved from
    qconf run --save-at and restored by qconf run --restore in a new process."""
    ck = tmp_path / "demo.qcp"
    first = CliRunner().invoke(main, ["run", "-c", HETERO, "--stats",
                                      "--save-at", "app: request 2", str(ck)])  # fmt: skip
    assert first.exit_code == 0, first.output
    assert first.stderr.splitlines()[0].startswith(
        f"qconf: saved a checkpoint at 'app: request 2' to {ck} (virtual time "
    )
    done = subprocess.run([sys.executable, "-m", "qconf.cli", "run", "--restore", str(ck),
                           "--stats"], capture_output=True, text=True, timeout=120,
                          check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout and first.stdout.endswith(done.stdout)
    assert "app: 2^2 = 4\n" in done.stdout and done.stdout.endswith("app: done\n")
    # the same counts and virtual time at the end (the lines after the wall time)
    tail = [line.split(", wall")[0].split(", ")[0] for line in first.stderr.splitlines()[2:5]]
    again = [line.split(", wall")[0].split(", ")[0] for line in done.stderr.splitlines()[1:4]]
    assert tail == again
    assert done.stderr.splitlines()[-1] == ("  machine cache: not used (the checkpoint holds "
                                            "the machine)")  # fmt: skip
    # with the configuration given, it is checked against the checkpoint's
    same = CliRunner().invoke(main, ["run", "-c", HETERO, "--restore", str(ck)])
    assert (same.exit_code, same.stdout) == (0, done.stdout)


@pytest.mark.parametrize("text", ["irq0: preempted systick", "A2", "pendsv: after systick"])
def test_cortex_m_exceptions_and_task_stacks_are_restored(text, tmp_path):
    """mps2-rtos saved inside nested handlers, between tasks on the process stack. Short
    slices (the whole guest is 3,582 instructions), so that the run goes on after the
    text: an svc pending PendSV does not end the slice."""
    board, sets = str(MACHINES / "mps2-rtos" / "board.yaml"), ["quantum=2"]
    dut = start([board], sets)
    dut.expect_exact(text)
    dut.save(tmp_path / "rtos.qcp")
    mark = len(dut.log)
    assert dut.wait_exit() == 0
    again = start([board], sets, checkpoint=tmp_path / "rtos.qcp")
    assert again.wait_exit() == 0
    assert bytes(again.log) == bytes(dut.log)[mark:]
    assert again.stats.instructions == dut.stats.instructions
    assert again.stats.virtual_ns == dut.stats.virtual_ns


def test_a_hart_asleep_in_wfi_wakes_alike_after_a_restore(tmp_path):
    board = str(MACHINES / "riscv-rxirq" / "board.yaml")
    dut = start([board])
    dut.expect("q quits\n")
    dut.run_for("1ms")  # asleep: no timer, waiting for a key
    dut.save(tmp_path / "asleep.qcp")
    again = start([board], checkpoint=tmp_path / "asleep.qcp")
    for d in (dut, again):
        d.write("hi")
        d.expect_exact("hi")
        d.write("q")
        assert d.wait_exit() == 0
    assert again.console.text == "hi\nbye\n"
    assert again.stats.instructions == dut.stats.instructions
    assert again.stats.virtual_ns == dut.stats.virtual_ns


def test_timer_events_pending_at_the_save_come_back(tmp_path):
    """Saved between two CMSDK timer interrupts and two SysTick wraps: the restored run's
    ticks come at the same virtual times."""
    for name in ("mps2-timer", "mps2-systick", "riscv-timer", "arm64-timer"):
        board = str(MACHINES / name / "board.yaml")
        dut = start([board])
        dut.expect_exact("tick 1")
        dut.save(tmp_path / f"{name}.qcp")
        mark = len(dut.log)
        with zipfile.ZipFile(tmp_path / f"{name}.qcp") as archive:
            pending = json.loads(archive.read("checkpoint.json"))["events"]
        assert pending, name  # the next tick's event was pending
        again = start([board], checkpoint=tmp_path / f"{name}.qcp")
        for d in (dut, again):
            assert d.wait_exit() == 0
        assert bytes(again.log) == bytes(dut.log)[mark:], name
        assert again.console.text.endswith("tick 2\ntick 3\ndone\n"), name
        assert (again.stats.virtual_ns, again.stats.instructions) == (
            dut.stats.virtual_ns, dut.stats.instructions), name  # fmt: skip


# --- what the engine's context covers ------------------------------------------------------

RISCV_CSRS = ["mstatus", "mtvec", "mepc", "mcause", "mscratch", "medeleg", "mideleg", "mie",
              "stvec", "sepc", "scause", "sscratch", "satp", "priv"]  # fmt: skip
ARM64_SYSREGS = ["TTBR0_EL1", "TTBR1_EL1", "MAIR_EL1", "VBAR_EL1", "ESR_EL1", "FAR_EL1",
                 "ELR_EL1", "SP_EL0", "SP_EL1", "TPIDR_EL0", "TPIDR_EL1", "CPACR_EL1", "PSTATE",
                 "SCTLR_EL1", "TCR_EL1", "HCR_EL2", "SCR_EL3"]  # fmt: skip
CP_REGS = {"SCTLR_EL1": (1, 0, 3, 0, 0), "TCR_EL1": (2, 0, 3, 0, 2), "HCR_EL2": (1, 1, 3, 4, 0),
           "SCR_EL3": (1, 1, 3, 6, 0)}  # fmt: skip
"""System registers the binding has no name for: (CRn, CRm, op0, op1, op2)."""


@pytest.mark.parametrize("board, registers",
                         [("uboot-riscv", RISCV_CSRS), ("uboot-arm64", ARM64_SYSREGS)],
                         ids=["riscv", "aarch64"])  # fmt: skip
def test_the_engine_context_holds_system_registers_and_privilege(board, registers, tmp_path):
    """Unicorn's context (uc_context_save) holds the CSRs and privilege level of a RISC-V
    hart and the system registers of an AArch64 core: after U-Boot set them up (S-mode,
    page tables, vectors), a restored engine reads the same values."""
    for path in UBOOT[board]:
        require_file(path, "opensbi" if "opensbi" in path else "u-boot-qemu")
    from unicorn import arm64_const, riscv_const

    const = riscv_const if board == "uboot-riscv" else arm64_const
    prefix = "UC_RISCV_REG_" if board == "uboot-riscv" else "UC_ARM64_REG_"
    dut = start([str(MACHINES / board / "board.yaml")])
    dut.expect_exact("=> ")
    dut.save(tmp_path / "sys.qcp")
    again = start([], checkpoint=tmp_path / "sys.qcp")
    core, other = dut.emulator.cpus[0], again.emulator.cpus[0]

    def value(c, name):
        if name in CP_REGS:
            return int(c.uc.reg_read(arm64_const.UC_ARM64_REG_CP_REG, (*CP_REGS[name], 0)))
        read = c._csr_read if hasattr(c, "_csr_read") else c.uc.reg_read
        return int(read(getattr(const, prefix + name.upper())))

    saved = {name: value(core, name) for name in registers}
    assert saved == {name: value(other, name) for name in registers}
    if board == "uboot-riscv":  # OpenSBI's M-mode vectors, U-Boot's S-mode ones, delegation
        assert saved["mtvec"] and saved["stvec"] and saved["medeleg"] and saved["priv"] in (1, 3)
    else:  # the MMU on with U-Boot's tables and vectors; EL2/EL3 as qconf set them
        assert saved["SCTLR_EL1"] & 1 and saved["TTBR0_EL1"] and saved["VBAR_EL1"]
        assert saved["SCR_EL3"] & 0x401 == 0x401  # RW and NS, as qconf set them


# --- refusals -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hello_checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("ck") / "hello.qcp"
    dut = start([str(MACHINES / "riscv-echo" / "board.yaml")])
    dut.expect("q quits")
    dut.save(path, "q quits")
    dut.close()
    return path


def test_another_configuration_is_refused(hello_checkpoint):
    echo = str(MACHINES / "riscv-echo" / "board.yaml")
    r = CliRunner().invoke(main, ["run", "-c", echo, "--set", "ram.size=64MiB",
                                  "--restore", str(hello_checkpoint)])  # fmt: skip
    assert r.exit_code == 1
    lines = r.stderr.splitlines()
    assert lines[0].startswith(
        f"qconf: error: {hello_checkpoint}: the checkpoint belongs to "
        "another machine: its configuration is another (machine "
    )
    assert lines[0].endswith("[E932]")
    assert lines[-1] == f"  hint: it was saved from: qconf run -c {echo}"
    assert "Traceback" not in r.output


def test_other_image_bytes_are_refused(tmp_path):
    elf = (MACHINES / "guests" / "riscv" / "hello.elf").read_bytes()
    (tmp_path / "prog.elf").write_bytes(elf)
    board = write(tmp_path, "board.yaml", "extends: riscv-virt\ncpu0:\n  firmware: prog.elf\n")
    dut = start([str(board)])
    dut.save(tmp_path / "a.qcp")
    dut.close()
    (tmp_path / "prog.elf").write_bytes(elf[:-4] + b"\0\0\0\1")  # the same path, other bytes
    with pytest.raises(CheckpointError) as caught:
        start([str(board)], checkpoint=tmp_path / "a.qcp")
    assert caught.value.code == "E932"
    assert caught.value.message.startswith(
        f"the checkpoint belongs to another machine: the bytes of {tmp_path}/prog.elf are not "
        "those it was saved with")  # fmt: skip


def test_what_is_not_a_checkpoint_is_refused(tmp_path, hello_checkpoint):
    (tmp_path / "x.qcp").write_text("hello")
    r = CliRunner().invoke(main, ["run", "--restore", str(tmp_path / "x.qcp")])
    assert r.exit_code == 1
    assert r.stderr.splitlines()[0].startswith(f"qconf: error: {tmp_path}/x.qcp: not a qconf "
                                               "checkpoint (")  # fmt: skip
    with zipfile.ZipFile(hello_checkpoint) as src, zipfile.ZipFile(tmp_path / "v.qcp", "w") as dst:
        manifest = json.loads(src.read("checkpoint.json")) | {"version": 99}
        dst.writestr("checkpoint.json", json.dumps(manifest))
    with pytest.raises(CheckpointError, match="format version 99; this qconf reads version 1"):
        read(tmp_path / "v.qcp")
    r = CliRunner().invoke(main, ["run", "--restore", str(tmp_path / "none.qcp")])
    assert r.stderr.splitlines()[0] == (f"qconf: error: {tmp_path}/none.qcp: no such "
                                        "checkpoint file [E931]")  # fmt: skip


def test_saving_what_cannot_be_saved_says_why(tmp_path, monkeypatch):
    from qconf.devices.uart.ns16550a import Ns16550a

    dut = start([str(MACHINES / "riscv-hello" / "board.yaml")])
    monkeypatch.setattr(Ns16550a, "STATE", None)  # as a plugin's model without STATE
    with pytest.raises(CheckpointError) as caught:
        dut.save(tmp_path / "x.qcp")
    assert caught.value.message == ("/machine/soc/uart0: the model of ns16550a (Ns16550a) does "
                                    "not say what its state is (no STATE)")  # fmt: skip
    monkeypatch.undo()
    dut.wait_exit()
    with pytest.raises(CheckpointError, match=r"the run has ended \(soc.test: guest powered "):
        dut.save(tmp_path / "x.qcp")
    assert not (tmp_path / "x.qcp").exists()
    dut.close()


# --- QMP ----------------------------------------------------------------------------------


def test_snapshot_jobs_and_savevm_loadvm_over_qmp(tmp_path, monkeypatch):
    """snapshot-save and snapshot-load as QEMU 7.2's jobs, savevm and loadvm through HMP:
    a machine loaded back to its snapshot goes on as it did after the save."""
    monkeypatch.chdir(tmp_path)
    dut = start([str(MACHINES / "riscv-echo" / "board.yaml")])
    dut.expect("q quits")
    args = {"tag": "typed", "vmstate": "disk0", "devices": []}
    assert dut.qmp("snapshot-save", {"job-id": "save1", **args}) == {}
    control = dut._control
    assert [e["data"]["status"] for e in control.events if e["event"] == "JOB_STATUS_CHANGE"
            ] == ["created", "running", "waiting", "pending", "concluded"]  # fmt: skip
    assert dut.qmp("query-jobs") == [{"id": "save1", "type": "snapshot-save",
                                      "status": "concluded", "current-progress": 1,
                                      "total-progress": 1}]  # fmt: skip
    assert dut.qmp("job-dismiss", id="save1") == {} and dut.qmp("query-jobs") == []
    assert (tmp_path / "typed.qcp").exists()
    mark = len(dut.log)
    first = dut.stats.instructions
    dut.write("abc\n")
    dut.expect("abc")
    once = bytes(dut.log)[mark:]
    # back to the snapshot: the same input gives the same output, at the same counts
    assert dut.qmp("snapshot-load", {"job-id": "load1", **args}) == {}
    assert "error" not in dut.qmp("query-jobs")[0]
    assert dut.stats.instructions == first
    mark = len(dut.log)
    dut.write("abc\n")
    dut.expect("abc")
    assert bytes(dut.log)[mark:] == once
    # HMP's savevm / loadvm / delvm
    assert dut.qmp("human-monitor-command", command_line="savevm second") == ""
    assert read(tmp_path / "second.qcp").label == "second"
    assert dut.qmp("human-monitor-command", command_line="loadvm second") == ""
    assert dut.qmp("human-monitor-command", command_line="delvm second") == ""
    assert not (tmp_path / "second.qcp").exists()
    # a failed job says why in query-jobs
    dut.qmp("snapshot-load", {"job-id": "bad", "tag": "nothere", "vmstate": "x",
                              "devices": []})  # fmt: skip
    bad = next(j for j in dut.qmp("query-jobs") if j["id"] == "bad")
    assert bad["error"].startswith("nothere.qcp: no such checkpoint file [E931]")
    dut.close()
