"""Machines under test through the pytest plugin's own fixtures (``qconf_dut``,
``qconf_start``): expect and write, every UART, guest-time timeouts, exit statuses,
registers, memory and QMP in-process, determinism."""

from __future__ import annotations

import pytest

from qconf.testing.dut import ExpectFailed, QmpCommandError
from tests.helpers import MACHINES, write

ECHO = str(MACHINES / "riscv-echo" / "board.yaml")
RXIRQ = str(MACHINES / "riscv-rxirq" / "board.yaml")
HETERO = str(MACHINES / "hetero-demo" / "board.toml")
TIMER = str(MACHINES / "riscv-timer" / "board.yaml")


@pytest.mark.qconf(config=ECHO)
def test_expect_and_write(qconf_dut):
    match = qconf_dut.expect(r"echo: (\w+), q quits")
    assert match.group(1) == "type"
    qconf_dut.write("hello\n")
    assert qconf_dut.expect_exact("hello\n").group() == "hello\n"
    qconf_dut.write(b"q")
    qconf_dut.expect("bye")
    assert qconf_dut.wait_exit() == 0
    assert qconf_dut.console.text == "echo: type, q quits\nhello\nbye\n"
    stats = qconf_dut.stats
    assert (stats.exit_code, stats.reason) == (0, "soc.test: guest powered off (pass)")
    assert stats.total == stats.instructions["/machine/cpu0"] > 0


@pytest.mark.qconf(config=RXIRQ)
def test_input_wakes_a_guest_waiting_for_it(qconf_dut):
    """The hart sleeps in wfi with no timer: the run pauses until the test types."""
    qconf_dut.expect("q quits\n")
    with pytest.raises(ExpectFailed) as caught:
        qconf_dut.expect("never")
    assert caught.value.message == (
        "expected 'never' on /machine/soc/uart0: the guest waits for input that nothing has "
        "sent (every CPU waits for an interrupt and no timer is armed)")  # fmt: skip
    qconf_dut.write("ab")
    qconf_dut.expect_exact("ab")
    qconf_dut.write("q")
    assert qconf_dut.wait_exit() == 0
    assert qconf_dut.console.text == "irq echo: type, q quits\nab\nbye\n"


@pytest.mark.qconf(config=ECHO)
def test_timeouts_are_guest_time(qconf_dut):
    """The echo guest polls its UART forever: a 5 ms timeout is 5 ms of its time (to the
    slice), whatever the host's speed."""
    qconf_dut.expect("q quits")
    start = qconf_dut.now_ns
    with pytest.raises(ExpectFailed) as caught:
        qconf_dut.expect("nothing", timeout="5ms")
    err = caught.value
    assert err.message == ("expected 'nothing' on /machine/soc/uart0: not seen within 0.005 s "
                           "of guest time")  # fmt: skip
    assert err.lines()[1:] == ["  last lines of /machine/soc/uart0:",
                               "    | echo: type, q quits"]  # fmt: skip
    waited = qconf_dut.now_ns - start
    assert 5_000_000 <= waited < 6_000_000
    # the machine goes on after a timeout
    qconf_dut.write("q")
    assert qconf_dut.wait_exit(timeout=0.01) == 0


@pytest.mark.qconf(config=ECHO)
def test_a_host_time_limit(qconf_dut):
    qconf_dut.expect("q quits")
    with pytest.raises(ExpectFailed) as caught:
        qconf_dut.expect("nothing", timeout=None, wall=0.3)
    assert caught.value.message.startswith(
        "expected 'nothing' on /machine/soc/uart0: not seen within 0.3 host seconds ("
    )


def test_two_machines_given_the_same_steps_agree(qconf_start):
    runs = []
    for _ in range(2):
        dut = qconf_start(ECHO)
        dut.expect("q quits")
        dut.run_for("1ms")
        dut.write("xyz\n")
        dut.expect("xyz")
        dut.write("q")
        dut.wait_exit()
        runs.append((bytes(dut.log), dut.stats.instructions, dut.stats.virtual_ns))
    assert runs[0] == runs[1]


@pytest.mark.qconf(config=HETERO)
def test_every_uart_by_its_path(qconf_dut):
    mcu = qconf_dut.uart("mcu.uart0")
    assert qconf_dut.uart("/machine/mcu/uart0") is mcu
    mcu.expect("mcu: squaring 3")
    qconf_dut.expect("app: done")
    assert qconf_dut.wait_exit() == 0
    assert mcu.text == "mcu: cortex-m4 ready\nmcu: squaring 1\nmcu: squaring 2\nmcu: squaring 3\n"
    assert qconf_dut.console.path == "/machine/app/uart0"
    assert bytes(qconf_dut.log).decode().splitlines()[:4] == [
        "app: riscv64 asks, cortex-m4 answers", "app: request 1", "mcu: cortex-m4 ready",
        "mcu: squaring 1"]  # fmt: skip
    with pytest.raises(ExpectFailed, match=r"no UART at soc\.uart9"):
        qconf_dut.uart("soc.uart9")


@pytest.mark.qconf(config=TIMER, sets=["cpu0.freq=100MHz"])
def test_registers_memory_and_qmp_in_process(qconf_dut):
    qconf_dut.expect("tick 1")
    regs = qconf_dut.registers()
    assert 0x8000_0000 <= regs["pc"] < 0x8800_0000 and "mstatus" in regs
    assert qconf_dut.qmp("qconf-register-read", cpu="/machine/cpu0", register="pc") == {
        "value": regs["pc"]}  # fmt: skip
    assert qconf_dut.qom_get("/machine/cpu0", "freq") == 100_000_000
    assert qconf_dut.qmp("query-status") == {"status": "paused", "singlestep": False,
                                             "running": False}  # fmt: skip
    qconf_dut.write_memory(0x8010_0000, b"\x01\x02\x03\x04")
    assert qconf_dut.read_memory(0x8010_0000, 4) == b"\x01\x02\x03\x04"
    info = qconf_dut.qmp("human-monitor-command", command_line="info registers")
    assert info.startswith("CPU /machine/cpu0 (riscv64)")
    with pytest.raises(QmpCommandError, match=r"qom-get: Property 'riscv64\.nothing' not found"):
        qconf_dut.qom_get("/machine/cpu0", "nothing")
    assert qconf_dut.wait_exit() == 0
    assert qconf_dut.qmp("query-status")["status"] == "shutdown"


@pytest.mark.qconf(config=ECHO)
def test_an_expect_after_the_end_says_how_it_ended(qconf_dut):
    qconf_dut.write("q")
    assert qconf_dut.wait_exit() == 0
    with pytest.raises(ExpectFailed) as caught:
        qconf_dut.expect("more")
    assert caught.value.message == ("expected 'more' on /machine/soc/uart0: the run ended first "
                                    "(status 0: soc.test: guest powered off (pass))")  # fmt: skip


def test_a_faulting_guest_ends_with_status_3(qconf_start, tmp_path):
    (tmp_path / "bad.bin").write_bytes(bytes.fromhex("3705004083350500"))  # ld from 0x4000_0000
    board = write(tmp_path, "board.yaml", "extends: riscv-virt\ncpu0:\n  firmware: bad.bin\n")
    dut = qconf_start(str(board))
    assert dut.wait_exit() == 3
    assert dut.stats.reason == ("guest fault on /machine/cpu0 (riscv64) at pc 0x1004: read "
                                "from unmapped memory")  # fmt: skip
