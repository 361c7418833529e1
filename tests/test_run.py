"""Running machines: guest output over the UART, exit statuses, determinism, faults."""

from __future__ import annotations

import re
import subprocess

import pytest
from click.testing import CliRunner

import qconf
from qconf.cli import main
from qconf.emu.chardev import MemoryChardev
from qconf.emu.emulator import run as emulate
from tests.external import require_program
from tests.helpers import MACHINES, without_timing, write

HELLO = str(MACHINES / "riscv-hello" / "board.yaml")
TIMER = str(MACHINES / "riscv-timer" / "board.yaml")
HELLO_OUT = "Hello from riscv-virt (rv64, ns16550a)\n"
TIMER_OUT = "timer demo: 3 ticks, 10 ms apart\ntick 1\ntick 2\ntick 3\ndone\n"


def run(*args: str):
    return CliRunner().invoke(main, ["run", *args])


def test_hello_prints_and_powers_off():
    r = run("-c", HELLO)
    assert (r.exit_code, r.stdout, r.stderr) == (0, HELLO_OUT, "")


def test_cortex_m_hello_and_systick():
    r = run("-c", str(MACHINES / "mps2-hello" / "board.yaml"))
    assert (r.exit_code, r.stdout, r.stderr) == (
        0,
        "Hello from mps2-an385 (cortex-m3, cmsdk-apb-uart)\n",
        "",
    )
    r = run("-c", str(MACHINES / "mps2-systick" / "board.yaml"), "--stats")
    assert r.exit_code == 0
    assert r.stdout == "systick demo: 3 ticks, 10 ms apart\ntick 1\ntick 2\ntick 3\ndone\n"
    assert r.stderr.splitlines()[0] == "qconf: cpu0: semihosting exit (status 0)"


def test_guests_check_trap_entry_and_return():
    r = run("-c", str(MACHINES / "riscv-traps" / "board.yaml"))
    assert (r.exit_code, r.stdout) == (0, (
        "trap checks\n"
        "ecall: mcause 11, mepc at the ecall: ok\n"
        "illegal instruction: mcause 2, mepc at it: ok\n"
        "timer interrupt: registers intact: ok\n"
        "done\n"
    ))  # fmt: skip
    r = run("-c", str(MACHINES / "riscv-delegation" / "board.yaml"))
    assert (r.exit_code, r.stdout) == (0, (
        "delegation checks\n"
        "illegal instruction in S: delegated to the S handler (scause 2, sepc at it): ok\n"
        "ecall from S: taken in M (mcause 9, mepc at it, MPP = S): ok\n"
    ))  # fmt: skip
    r = run("-c", str(MACHINES / "mps2-exceptions" / "board.yaml"))
    assert (r.exit_code, r.stdout) == (0, (
        "exception checks\n"
        "systick: IPSR 15 in the handler, registers intact after return: ok\n"
    ))  # fmt: skip


@pytest.mark.parametrize("timing", ["fast", "exact"])
@pytest.mark.parametrize("quantum", [100, 10_000, 1_000_000])
def test_cortex_m_exception_pended_under_a_mask_is_taken_right_after_the_unmask(quantum, timing):
    """BASEPRI, PRIMASK (msr and cpsie i), FAULTMASK (cpsie f), and a SysTick that fired
    under BASEPRI: each handler's letter comes before the one the main program prints
    right after the unmask, whatever the slice (machines/guests/cortex-m/unmask.S)."""
    r = run("-c", str(MACHINES / "mps2-unmask" / "board.yaml"), f"--set=quantum={quantum}",
            f"--set=timing={timing}")  # fmt: skip
    assert (r.exit_code, r.stdout) == (0, "unmask: Pb0p1iPfSs\n"), r.output


def test_cortex_m_priorities_nesting_basepri_and_task_switching():
    r = run("-c", str(MACHINES / "mps2-rtos" / "board.yaml"))
    assert (r.exit_code, r.stdout) == (0, (
        "rtos demo: priorities, nesting, basepri, two tasks\n"
        "systick: in\n"
        "systick: pendsv (lower) waits\n"
        "irq0: preempted systick\n"  # nested: SysTick still active underneath
        "systick: back from irq0\n"
        "systick: out\n"
        "pendsv: after systick\n"  # the lower priority runs once SysTick returned
        "main: basepri holds irq1\n"
        "irq1: ran\n"
        "main: irq1 done\n"
        "A1\nB1\nA2\nB2\nA3\nB3\n"  # SVC + PendSV switch tasks on the process stack
        "tasks done\n"
    ))  # fmt: skip


def test_cortex_m_svc_while_masked_is_a_fault_report(tmp_path):
    # vector table (sp, reset at 8), then: cpsid i; svc #0; b .
    image = bytes.fromhex("000040200900000072b600dffee7")
    (tmp_path / "svc.bin").write_bytes(image)
    boot = "boot: {type: image, file: svc.bin, address: 0, target: /machine/cpu0}\n"
    board = write(tmp_path, "board.yaml", "extends: mps2-an385\n" + boot)
    r = run("-c", str(board))
    assert r.exit_code == 3
    lines = r.stderr.splitlines()
    assert lines[0] == ("qconf: guest fault on /machine/cpu0 (cortex-m3) at pc 0xa: svc with "
                        "SVCall masked or not above the running priority (a HardFault on "
                        "hardware)")  # fmt: skip
    assert lines[1] == "  0xa: svc #0"


@pytest.mark.parametrize("native", [True, False], ids=["native-hooks", "python-hooks"])
def test_aarch64_page_tables_and_tlb_invalidation(native, monkeypatch, request):
    """The TLB is filled by a native hook that answers remembered translations, and tlbi
    reaches the walk through a native SYS filter; without the extension (or with
    QCONF_NO_NATIVE=1) both are Python hooks: the same guest output either way."""
    from qconf.emu import native as hooks

    monkeypatch.setenv("QCONF_NO_NATIVE", "0" if native else "1")
    hooks._load.cache_clear()
    request.addfinalizer(hooks._load.cache_clear)  # read the environment again after it
    r = run("-c", str(MACHINES / "arm64-mmu" / "board.yaml"))
    assert (r.exit_code, r.stdout) == (0, (
        "mmu check\n"
        "wrote through 0x100090000, read back at 0x40090000: ok\n"
        # the walk's remembered translations are dropped by tlbi
        "remapped, after tlbi: 0x100090000 reaches 0x40290000: ok\n"
    ))  # fmt: skip


def test_receive_interrupts_wake_a_sleeping_hart(tmp_path, processes):
    import sys

    board = str(MACHINES / "riscv-rxirq" / "board.yaml")
    command = [sys.executable, "-m", "qconf.cli", "run", "-c", board]
    piped = subprocess.run(command, input=b"hello q", capture_output=True, timeout=60,
                           check=False)  # fmt: skip
    assert (piped.returncode, piped.stdout) == (0, b"irq echo: type, q quits\nhello \nbye\n")
    # typed later: qconf waits (virtual time stands still) until the keys come
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)  # fmt: skip
    processes.append(proc)
    assert proc.stdin is not None and proc.stdout is not None
    seen = b""
    while b"q quits\n" not in seen:
        chunk = proc.stdout.read1(100)
        assert chunk, seen
        seen += chunk
    proc.stdin.write(b"ab")
    proc.stdin.flush()
    while not seen.endswith(b"ab"):
        chunk = proc.stdout.read1(100)
        assert chunk, seen
        seen += chunk
    proc.stdin.write(b"q")
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert seen + out == b"irq echo: type, q quits\nab\nbye\n"
    # input that ends without the 'q': nothing can wake the hart any more
    ended = subprocess.run(command, input=b"hi", capture_output=True, timeout=60, check=False)
    assert ended.returncode == 3
    assert ended.stdout == b"irq echo: type, q quits\nhi"
    assert b"every CPU waits for an interrupt and no timer is armed" in ended.stderr


def test_uart_interrupt_through_the_plic():
    r = run("-c", str(MACHINES / "riscv-plic" / "board.yaml"))
    assert (r.exit_code, r.stdout) == (0, "uart interrupt demo\nclaimed PLIC source 10\ndone\n")


def test_aarch64_hello_powers_off_through_psci():
    r = run("-c", str(MACHINES / "arm64-hello" / "board.yaml"), "--stats")
    assert (r.exit_code, r.stdout) == (0, "Hello from arm64-virt (aarch64, pl011)\n")
    assert r.stderr.splitlines()[0] == "qconf: cpu0: guest powered off (PSCI SYSTEM_OFF)"


def test_cmsdk_timer_follows_its_clock():
    board = str(MACHINES / "mps2-timer" / "board.yaml")
    r = run("-c", board, "--stats")
    assert (r.exit_code, r.stdout) == (0, TIMER_OUT)
    assert r.stderr.splitlines()[1].startswith("  virtual time 30.0")
    # the timers count the APB clock: at half the rate, ticks come half as often
    r = run("-c", board, "--stats", "--set", "apb.clock=12500kHz")
    assert (r.exit_code, r.stdout) == (0, TIMER_OUT)
    assert r.stderr.splitlines()[1].startswith("  virtual time 60.0")


def test_aarch64_generic_timer_through_the_gic():
    r = run("-c", str(MACHINES / "arm64-timer" / "board.yaml"), "--stats")
    assert (r.exit_code, r.stdout) == (0, TIMER_OUT)
    assert r.stderr.splitlines()[1].startswith("  virtual time 30.0")


def test_aarch64_translation_faults_reach_the_guest():
    r = run("-c", str(MACHINES / "arm64-abort" / "board.yaml"))
    assert (r.exit_code, r.stdout) == (0, (
        "abort check\n"
        "data abort: EC 0x25, DFSC 0x5, FAR 0x200000000\n"
        "returned past the faulting load\n"
    ))  # fmt: skip


@pytest.mark.parametrize("timing", ["fast", "exact"])
def test_cpu_frequency_changes_virtual_time(tmp_path, monkeypatch, timing):
    # a fixed number of instructions takes ten times the virtual time at a tenth of the
    # clock, and the guest sees it in mtime: the loop's 2,000,000 instructions and the
    # ~390 before the read (its string printed), at 10 MHz (100 ns a tick), the same in
    # both timings (fast counts to the end of the block holding the read: one more
    # instruction, 1 ns, not a tick)
    spin = MACHINES / "guests" / "riscv" / "spin.elf"
    write(tmp_path, "board.yaml", f"extends: riscv-virt\ncpu0:\n  firmware: {spin}\n")
    monkeypatch.chdir(tmp_path)
    fast = run("-c", "board.yaml", "--set", "cpu0.freq=1GHz", "--set", f"timing={timing}")
    slow = run("-c", "board.yaml", "--set", "cpu0.freq=100MHz", "--set", f"timing={timing}")
    assert fast.stdout == "mtime after 2000000 instructions: 20003\n"
    assert slow.stdout == "mtime after 2000000 instructions: 200039\n"


def test_two_runs_are_identical():
    """Resolved and built, or restored from the machine's snapshot: the same run."""
    runs = [run("-c", TIMER, "--stats", "--no-cache"), run("-c", TIMER, "--stats"),
            run("-c", TIMER, "--stats")]  # fmt: skip
    assert runs[0].stdout == runs[1].stdout == runs[2].stdout
    *stats, cached = runs[0].stderr.splitlines()
    assert cached == "  machine cache: off"
    assert runs[2].stderr.splitlines()[-1] == "  machine cache: hit"
    for other in runs[1:]:
        assert [without_timing(line) for line in other.stderr.splitlines()[:-1]] == [
            without_timing(line) for line in stats
        ]


def test_a_guest_without_a_program_gets_a_fault_report():
    r = run("-c", "riscv-virt")
    assert r.exit_code == 3
    lines = r.stderr.splitlines()
    assert lines[0] == (
        "qconf: guest fault on /machine/cpu0 (riscv64) at pc 0x1000: illegal instruction "
        "with no trap handler (mtvec is 0)"
    )
    assert lines[1] == "  0x1000: c.unimp"
    assert "Traceback" not in r.output


def test_unmapped_access_is_reported_with_the_instruction(tmp_path, monkeypatch):
    # lui a0, 0x40000 ; ld a1, 0(a0)  -> a read at 0x4000_0000, where nothing is mapped
    (tmp_path / "bad.bin").write_bytes(bytes.fromhex("3705004083350500"))
    write(tmp_path, "board.yaml", "extends: riscv-virt\ncpu0:\n  firmware: bad.bin\n")
    monkeypatch.chdir(tmp_path)
    r = run("-c", "board.yaml")
    assert r.exit_code == 3
    lines = r.stderr.splitlines()
    assert lines[0] == (
        "qconf: guest fault on /machine/cpu0 (riscv64) at pc 0x1004: read from unmapped memory"
    )
    assert lines[1] == "  0x1004: ld a1, 0(a0)"
    assert "a0=0x0000000040000000" in r.stderr


def test_instruction_limit_stops_with_124(tmp_path, monkeypatch):
    spin = MACHINES / "guests" / "riscv" / "spin.elf"  # 2,000,000 instructions, then prints
    write(tmp_path, "board.yaml", f"extends: riscv-virt\ncpu0:\n  firmware: {spin}\n")
    monkeypatch.chdir(tmp_path)
    r = run("-c", "board.yaml", "--max-insns", "100000")
    assert (r.exit_code, r.stdout) == (124, "")
    m = re.fullmatch(r"qconf: stopped after (\d+) instructions \(--max-insns\)\n", r.stderr)
    assert m is not None and 100_000 <= int(m[1]) < 100_010  # to the translated block


def test_missing_firmware_is_a_located_error(tmp_path, monkeypatch):
    write(tmp_path, "board.yaml", "extends: riscv-virt\ncpu0:\n  firmware: nothere.elf\n")
    monkeypatch.chdir(tmp_path)
    r = run("-c", "board.yaml")
    assert r.exit_code == 1
    assert r.stderr.startswith("qconf: error: board.yaml:3:13: cannot read image nothere.elf: ")


def test_python_api_with_a_memory_backend():
    machine = qconf.build(qconf.resolve([HELLO]))
    uart = MemoryChardev()
    outcome = emulate(machine, chardevs={"/machine/backends/chardev/soc-uart0": uart})
    assert (outcome.exit_code, bytes(uart.output)) == (0, HELLO_OUT.encode())
    machine.destroy()


QEMU = {
    "riscv-hello": ("qemu-system-riscv64", "qemu-system-misc", "riscv/hello.elf",
                    ["-M", "virt", "-bios", "none"]),
    "riscv-timer": ("qemu-system-riscv64", "qemu-system-misc", "riscv/timer.elf",
                    ["-M", "virt", "-bios", "none"]),
    "riscv-delegation": ("qemu-system-riscv64", "qemu-system-misc", "riscv/deleg.elf",
                         ["-M", "virt", "-bios", "none"]),
    "riscv-traps": ("qemu-system-riscv64", "qemu-system-misc", "riscv/traps.elf",
                    ["-M", "virt", "-bios", "none"]),
    "mps2-exceptions": ("qemu-system-arm", "qemu-system-arm", "cortex-m/regs.elf",
                        ["-M", "mps2-an385", "-semihosting-config", "enable=on,target=native"]),
    "riscv-plic": ("qemu-system-riscv64", "qemu-system-misc", "riscv/uartirq.elf",
                   ["-M", "virt", "-bios", "none"]),
    "riscv-unmask": ("qemu-system-riscv64", "qemu-system-misc", "riscv/unmask.elf",
                     ["-M", "virt", "-bios", "none"]),
    "riscv-smp": ("qemu-system-riscv64", "qemu-system-misc", "riscv/smp.elf",
                  ["-M", "virt", "-smp", "4", "-bios", "none"]),
    "arm64-hello": ("qemu-system-aarch64", "qemu-system-arm", "aarch64/hello.elf",
                    ["-M", "virt", "-cpu", "cortex-a57"]),
    "arm64-abort": ("qemu-system-aarch64", "qemu-system-arm", "aarch64/abort.elf",
                    ["-M", "virt", "-cpu", "cortex-a57"]),
    "arm64-mmu": ("qemu-system-aarch64", "qemu-system-arm", "aarch64/mmu.elf",
                  ["-M", "virt", "-cpu", "cortex-a57"]),
    "arm64-el0": ("qemu-system-aarch64", "qemu-system-arm", "aarch64/el0.elf",
                  ["-M", "virt", "-cpu", "cortex-a57"]),
    "arm64-timer": ("qemu-system-aarch64", "qemu-system-arm", "aarch64/timer.elf",
                    ["-M", "virt", "-cpu", "cortex-a57"]),
    "mps2-hello": ("qemu-system-arm", "qemu-system-arm", "cortex-m/hello.elf",
                   ["-M", "mps2-an385", "-semihosting-config", "enable=on,target=native"]),
    "mps2-timer": ("qemu-system-arm", "qemu-system-arm", "cortex-m/timer.elf",
                   ["-M", "mps2-an385", "-semihosting-config", "enable=on,target=native"]),
    "mps2-systick": ("qemu-system-arm", "qemu-system-arm", "cortex-m/systick.elf",
                     ["-M", "mps2-an385", "-semihosting-config", "enable=on,target=native"]),
    "mps2-rtos": ("qemu-system-arm", "qemu-system-arm", "cortex-m/rtos.elf",
                  ["-M", "mps2-an385", "-semihosting-config", "enable=on,target=native"]),
    "mps2-unmask": ("qemu-system-arm", "qemu-system-arm", "cortex-m/unmask.elf",
                    ["-M", "mps2-an385", "-semihosting-config", "enable=on,target=native"]),
}  # fmt: skip


@pytest.mark.engine
@pytest.mark.parametrize("board", sorted(QEMU))
def test_same_output_as_qemu(board):
    program, package, elf, machine = QEMU[board]
    qemu = require_program(program, package)
    done = subprocess.run(
        [qemu, *machine, "-display", "none", "-monitor", "none", "-serial", "stdio",
         "-kernel", str(MACHINES / "guests" / elf)],
        capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    ours = run("-c", str(MACHINES / board / "board.yaml"))
    assert done.returncode == ours.exit_code == 0
    assert done.stdout.decode() == ours.stdout


HETERO_OUT = """\
app: riscv64 asks, cortex-m4 answers
app: request 1
mcu: cortex-m4 ready
mcu: squaring 1
app: 1^2 = 1
app: request 2
mcu: squaring 2
app: 2^2 = 4
app: request 3
mcu: squaring 3
app: 3^2 = 9
app: done
"""


def test_heterogeneous_demo_two_architectures_talk():
    first = run("-c", str(MACHINES / "hetero-demo" / "board.toml"), "--stats")
    assert (first.exit_code, first.stdout) == (0, HETERO_OUT)
    assert first.stderr.splitlines()[0] == "qconf: app.test: guest powered off (pass)"
    second = run("-c", str(MACHINES / "hetero-demo" / "board.toml"), "--stats")
    assert second.stdout == first.stdout
    counts = [line.split(",")[0] for line in first.stderr.splitlines()[2:-1]]
    assert counts == [line.split(",")[0] for line in second.stderr.splitlines()[2:-1]]
    assert counts[0].startswith("  /machine/app/cpu0: ")
    assert counts[1].startswith("  /machine/mcu/cpu0: ")


def _spinning_board(tmp_path):
    (tmp_path / "spin.bin").write_bytes(bytes.fromhex("6f000000"))  # j .  (forever)
    return write(tmp_path, "board.yaml", "extends: riscv-virt\ncpu0:\n  firmware: spin.bin\n")


def test_ctrl_c_stops_cleanly_with_a_summary(tmp_path, processes):
    import signal
    import sys

    # the echo guest prints its prompt, then waits for input that never comes
    board = MACHINES / "riscv-echo" / "board.yaml"
    proc = subprocess.Popen(
        [sys.executable, "-m", "qconf.cli", "run", "-c", str(board)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    processes.append(proc)
    assert proc.stdout is not None
    seen = b""
    while b"q quits" not in seen:  # running now
        chunk = proc.stdout.read1(100)
        assert chunk, f"qconf ended before the prompt: {seen!r}"
        seen += chunk
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    lines = err.decode().splitlines()
    assert lines[0] == "qconf: interrupted (Ctrl-C)"
    assert lines[1].startswith("  virtual time ")
    assert lines[2].startswith("  /machine/cpu0: ")
    assert "Traceback" not in err.decode()


def test_long_runs_report_progress(tmp_path):
    board = _spinning_board(tmp_path)
    machine = qconf.build(qconf.resolve([board]))
    lines: list[str] = []
    outcome = emulate(machine, timeout=1.7, status=lines.append)
    machine.destroy()
    assert outcome.exit_code == 124
    assert lines, "a run over a second reports progress"
    assert re.fullmatch(r"virtual \d+\.\d{3} ms, \d+\.\d M instructions, \d+ MIPS", lines[-1])


FIRMWARE_MACHINES = {"uboot-riscv", "uboot-arm64", "linux-arm64"}  # Debian's files: apart
SILENT_MACHINES = {"riscv-debug"}  # a program for gdb: no console; its status checks its sums


@pytest.mark.engine
@pytest.mark.parametrize(
    "board",
    sorted(p.parent.name for p in MACHINES.glob("*/board.*")
           if p.parent.name not in FIRMWARE_MACHINES),
    ids=str,
)  # fmt: skip
def test_every_example_machine_runs_to_a_clean_exit(board):
    path = next((MACHINES / board).glob("board.*"))
    r = CliRunner().invoke(main, ["run", "-c", str(path), "--max-insns", "50000000"],
                           input=b"typed\nq")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert bool(r.stdout) != (board in SILENT_MACHINES)


def test_unimplemented_windows_and_data_blobs(tmp_path, monkeypatch):
    # a data blob placed in RAM by an image object; a raw program loads it (a0 =
    # 0x8010_0000 by lui, slli, srli; lw a1,0(a0)), writes it to an unimplemented window,
    # then to the test finisher: the run passes only if the blob (0x5555) was loaded
    code = ("37051080" "13150502" "13550502" "83250500"
            "37060030" "2320b600" "b7021000" "23a0b200")  # fmt: skip
    (tmp_path / "prog.bin").write_bytes(bytes.fromhex(code))
    (tmp_path / "blob.bin").write_bytes((0x5555).to_bytes(4, "little"))
    write(tmp_path, "board.yaml", """\
extends: riscv-virt
cpu0:
  firmware: prog.bin
blob:
  type: image
  file: blob.bin
  format: raw
  address: 0x8010_0000
  target: ram
quiet:
  type: unimplemented
  base: 0x3000_0000
  size: 4KiB
""")  # fmt: skip
    monkeypatch.chdir(tmp_path)
    r = run("-c", "board.yaml")
    assert r.exit_code == 0, r.output
    assert r.stderr == (
        "qconf: note: quiet (unimplemented) is not modelled: write at +0x0 ignored\n"
    )


def test_input_from_a_pipe_reaches_the_guest():
    import sys

    board = str(MACHINES / "riscv-echo" / "board.yaml")
    done = subprocess.run(
        [sys.executable, "-m", "qconf.cli", "run", "-c", board],
        input=b"hello\nq", capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (0, b"echo: type, q quits\nhello\nbye\n")


def test_a_unix_socket_chardev_carries_both_ways(tmp_path, processes):
    import socket
    import sys
    import time

    sock_path = tmp_path / "uart.sock"
    write(tmp_path, "board.yaml", f"""\
extends: riscv-virt
cpu0:
  firmware: {MACHINES / "guests" / "riscv" / "echo.elf"}
serial: {{type: chardev, backend: unix, path: {sock_path}}}
soc:
  uart0:
    chardev: serial
""")  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "qconf.cli", "run", "-c",
                             str(tmp_path / "board.yaml")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    processes.append(proc)
    deadline = time.monotonic() + 20
    while not sock_path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert oct(sock_path.stat().st_mode & 0o777) == "0o600"  # owner only
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.connect(str(sock_path))
    client.sendall(b"abc")
    received = b""
    client.settimeout(20)
    while b"abc" not in received:
        received += client.recv(100)
    client.sendall(b"q")
    while not received.endswith(b"bye\n"):
        received += client.recv(100)
    client.close()
    _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert received.endswith(b"abcbye\n")


OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin"
UBOOT = "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin"


@pytest.mark.engine
def test_opensbi_and_uboot_boot_with_the_generated_device_tree():
    from tests.external import require_file

    require_file(OPENSBI, "opensbi")
    require_file(UBOOT, "u-boot-qemu")
    args = ["-c", str(MACHINES / "uboot-riscv" / "board.yaml"), "--set", "ram.size=256MiB",
            "--stats", "--timeout", "300",
            "--expect", "Hit any key", "--send", "\\n",
            "--expect", "=> ", "--send", "version\\n",
            "--expect", "=> ", "--send", "sleep 1\\n",
            "--expect", "=> ", "--send", "poweroff\\n"]  # fmt: skip
    r = run(*args)
    assert r.exit_code == 0, r.output[-2000:]
    out = r.stdout
    assert "OpenSBI v1.1" in out
    assert "Domain0 Next Address      : 0x0000000080200000" in out
    assert "U-Boot 2023.01" in out
    assert "DRAM:  256 MiB" in out  # the --set reached the firmware through the tree
    assert "=> version\nU-Boot 2023.01" in out
    assert out.rstrip().endswith("=> sleep 1\n=> poweroff\npoweroff ...")
    # `sleep 1` took a second of virtual time (the boot itself about 0.1 s)
    virtual_ms = float(r.stderr.splitlines()[1].split()[2])
    assert 1000 < virtual_ms < 1400, r.stderr
    again = run(*args)
    assert again.stdout == out  # two boots print the same
    assert again.stderr.splitlines()[1].split(",")[0] == r.stderr.splitlines()[1].split(",")[0]


@pytest.mark.engine
def test_set_reaches_the_firmware_through_the_tree():
    from tests.external import require_file

    require_file(OPENSBI, "opensbi")
    require_file(UBOOT, "u-boot-qemu")
    r = run("-c", str(MACHINES / "uboot-riscv" / "board.yaml"),
            "--set", "cpu0.isa=[i, m, a, f, d, c, zicsr, zifencei]",
            "--set", "soc.uart0.base=0x1000_1000",
            "--expect", "Hit any key", "--send", "\\n",
            "--expect", "=> ", "--send", "poweroff\\n", "--timeout", "300")  # fmt: skip
    assert r.exit_code == 0, r.output[-2000:]
    assert "CPU:   rv64imafdc_zicsr_zifencei\n" in r.stdout  # U-Boot reads the ISA string
    assert "In:    serial@10001000\n" in r.stdout  # and finds the UART where it moved


UBOOT_ARM64 = "/usr/lib/u-boot/qemu_arm64/u-boot.bin"


@pytest.mark.engine
def test_uboot_arm64_boots_with_the_generated_tree_and_page_table_walks():
    from tests.external import require_file

    require_file(UBOOT_ARM64, "u-boot-qemu")
    args = ["-c", str(MACHINES / "uboot-arm64" / "board.yaml"), "--set", "ram.size=256MiB",
            "--stats", "--timeout", "300",
            "--expect", "Hit any key", "--send", "\\n",
            "--expect", "=> ", "--send", "version\\n",
            "--expect", "=> ", "--send", "poweroff\\n"]  # fmt: skip
    r = run(*args)
    assert r.exit_code == 0, r.output[-2000:]
    out = r.stdout
    assert "U-Boot 2023.01" in out
    assert "DRAM:  256 MiB" in out
    assert "In:    pl011@9000000" in out
    assert "=> version\nU-Boot 2023.01" in out
    assert out.rstrip().endswith("=> poweroff\npoweroff ...")
    assert r.stderr.splitlines()[0] == "qconf: cpu0: guest powered off (PSCI SYSTEM_OFF)"
    again = run(*args)
    assert again.stdout == out


@pytest.mark.engine
def test_uboot_arm64_with_two_cpus_runs_on_the_first_and_parks_the_copy():
    """QEMU's virt board starts ``-smp`` CPUs 1.. powered off (it provides PSCI): U-Boot
    runs on cpu0 alone; its copy waits for a PSCI CPU_ON that U-Boot never sends."""
    from tests.external import require_file

    require_file(UBOOT_ARM64, "u-boot-qemu")
    r = run("-c", str(MACHINES / "uboot-arm64" / "board.yaml"), "--set", "smp=2", "--stats",
            "--timeout", "300", "--expect", "Hit any key", "--send", "\\n",
            "--expect", "=> ", "--send", "poweroff\\n")  # fmt: skip
    assert r.exit_code == 0, r.output[-2000:]
    assert "In:    pl011@9000000" in r.stdout
    assert r.stdout.rstrip().endswith("=> poweroff\npoweroff ...")
    lines = r.stderr.splitlines()
    assert lines[0] == "qconf: cpu0: guest powered off (PSCI SYSTEM_OFF)"
    assert "  /machine/cpu1: 0 instructions, 0.0 MIPS" in lines, lines


def test_missing_firmware_names_its_package(tmp_path, monkeypatch):
    write(tmp_path, "board.yaml", "extends: riscv-virt\ncpu0:\n  firmware: "
          "/usr/lib/riscv64-linux-gnu/opensbi/generic/nothere.bin\n")  # fmt: skip
    monkeypatch.chdir(tmp_path)
    r = run("-c", "board.yaml")
    assert r.exit_code == 1
    assert r.stderr.splitlines()[-1] == (
        "  hint: it comes with Debian's opensbi package: apt-get install opensbi"
    )


def test_ctrl_a_x_quits_from_a_terminal(processes):
    import os
    import pty
    import sys

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "qconf.cli", "run", "--stats", "-c",
         str(MACHINES / "riscv-echo" / "board.yaml")],
        stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    processes.append(proc)
    os.close(slave)
    try:
        out = b""
        while b"q quits" not in out:
            out += proc.stdout.read1(100)  # type: ignore[union-attr]
        os.write(master, b"hi\x01x")
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        os.close(master)
    assert proc.returncode == 0
    # typed keys reached the guest before the quit; QEMU's message, on a line of its own
    assert (out + stdout).endswith(b"hi\r\nqconf: Terminated\r\n")
    assert stderr.decode().splitlines()[0] == "qconf: quit from the console (Ctrl-A X)"
