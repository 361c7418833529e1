"""Device models and a CPU core, each alone against fakes of what it is given
(tests/fakes.py): no machine, no scheduler, no emulator."""

from __future__ import annotations

import pytest

from qconf.arch.riscv import MSI, MTI
from qconf.devices.intc.clint import Clint
from qconf.devices.timer.model import Timer
from qconf.devices.uart.ns16550a import Ns16550a
from qconf.emu.faults import GuestFault
from qconf.emu.loader import read_image
from tests.fakes import DeviceHarness, make_object
from tests.helpers import MACHINES


def test_timer_counts_down_in_virtual_time_and_interrupts_at_zero() -> None:
    rig = DeviceHarness(make_object("timer", base=0x4000_0000, freq=1_000_000))
    rig.rates["freq"] = 1_000_000  # 1 tick per us
    timer = Timer(rig.context())
    timer.write(0x8, 4, 100)  # RELOAD (and VALUE) = 100 ticks
    timer.write(0x0, 4, 0b1001)  # enable, interrupt enable
    rig.clock.advance(40_000)  # 40 us
    assert timer.read(0x4, 4) == 60
    assert rig.wires.levels[("", "irq")] is False
    rig.clock.advance(60_000)  # it reaches 0: interrupt, reload
    assert (timer.read(0xC, 4), rig.wires.levels[("", "irq")]) == (1, True)
    assert timer.read(0x4, 4) == 100
    timer.write(0xC, 4, 1)  # INTCLEAR
    assert rig.wires.levels[("", "irq")] is False
    rig.clock.advance(250_000)  # 2.5 more periods: it expired twice more
    assert (timer.read(0x4, 4), timer.read(0xC, 4)) == (50, 1)


def test_uart_transmits_to_its_console_and_raises_its_receive_interrupt() -> None:
    rig = DeviceHarness(make_object("ns16550a", base=0x1000_0000))
    uart = Ns16550a(rig.context())
    for byte in b"hi\n":
        assert uart.read(5, 1) & 0x20  # LSR: THR empty
        uart.write(0, 1, byte)
    assert bytes(rig.console.output) == b"hi\n"
    uart.write(1, 1, 0x1)  # IER: receive interrupt
    assert rig.wires.levels[("", "irq")] is False
    rig.console.feed(b"k")
    uart.poll_input()
    assert (rig.wires.levels[("", "irq")], uart.read(5, 1) & 1) == (True, 1)
    assert (uart.read(0, 1), rig.wires.levels[("", "irq")]) == (ord("k"), False)


class FakeHart:
    """What a CLINT connects to: a RISC-V core's interrupt sources and time source."""

    class arch:
        family = "riscv"

    def __init__(self, hartid: int = 0) -> None:
        self.hartid = hartid
        self.sources: list[object] = []
        self.clock: object = None
        self.changes = 0

    def interrupts_changed(self) -> None:
        self.changes += 1


def test_clint_serves_harts_their_timer_and_software_interrupts() -> None:
    rig = DeviceHarness(make_object("clint", base=0x200_0000, num_harts=2, timebase=10_000_000))
    clint = Clint(rig.context())
    harts = [FakeHart(0), FakeHart(1)]
    clint.connect(harts)
    assert all(h.sources == [clint] and h.clock is clint for h in harts)
    clint.write(0x4008, 8, 50)  # hart 1's mtimecmp: 50 ticks (5 us)
    assert (clint.pending_for(0), clint.pending_for(1)) == (0, 0)
    assert (harts[0].changes, harts[1].changes) == (0, 1)  # told at once
    rig.clock.advance(5_000)
    assert (clint.mtime(), clint.pending_for(1)) == (50, 1 << MTI)
    clint.write(0x0, 4, 1)  # hart 0's msip
    assert (clint.pending_for(0), rig.run.cuts) == (1 << MSI, 1)
    assert (harts[0].changes, harts[1].changes) == (1, 1)


def test_a_riscv_hart_enters_its_trap_handler_for_a_pending_timer_interrupt() -> None:
    """The core against a fake interrupt source: machine timer pending and enabled, the
    line reaches mip and the engine takes the trap as hardware does (mepc, mcause,
    mstatus.MPIE/MPP, pc = mtvec) before the next instruction."""
    from unicorn import riscv_const as rv

    from qconf.arch.riscv.core import RiscvHart

    rig = DeviceHarness(make_object("riscv64", hartid=0))
    hart = RiscvHart(rig.core_context())
    chunks, entry = read_image(str(MACHINES / "guests" / "riscv" / "hello.elf"), None)
    hart.uc.mem_map(0x8000_0000, 0x10_0000)
    for address, data in chunks:
        hart.uc.mem_write(address, data)
    hart.reset(entry)

    class Source:
        bits = 0

        def pending_for(self, hartid: int) -> int:
            return self.bits

    source = Source()
    hart.sources.append(source)
    hart.uc.mem_write(0x8000_0100, (0x6F).to_bytes(4, "little"))  # the handler: j .
    hart._csr_write(rv.UC_RISCV_REG_MTVEC, 0x8000_0100)
    hart._csr_write(rv.UC_RISCV_REG_MIE, 1 << MTI)
    hart._csr_write(rv.UC_RISCV_REG_MSTATUS, 0x8)  # MIE
    hart.deliver()
    assert hart.state.mip() == 0 and hart.pc == entry  # nothing pending: nothing taken
    source.bits = 1 << MTI
    hart.deliver()
    assert hart.state.mip() == 1 << MTI  # the guest sees it pending
    hart.run(1)  # the interrupt is taken before the first instruction, then `j .` runs
    assert hart.pc == 0x8000_0100 and hart.instructions == 1
    assert hart._csr_read(rv.UC_RISCV_REG_MEPC) == entry
    assert hart._csr_read(rv.UC_RISCV_REG_MCAUSE) == (1 << 63) | MTI
    mstatus = hart._csr_read(rv.UC_RISCV_REG_MSTATUS)
    assert (mstatus >> 3 & 1, mstatus >> 7 & 1, mstatus >> 11 & 3) == (0, 1, 3)
    hart.close()


def test_a_core_reports_a_fault_with_its_architecture_registers() -> None:
    rig = DeviceHarness(make_object("riscv64", hartid=0))
    from qconf.arch.riscv.core import RiscvHart

    hart = RiscvHart(rig.core_context())
    hart.reset(0x4000)  # nothing mapped there
    with pytest.raises(GuestFault) as err:
        hart.run(100)
    fault = err.value
    assert (fault.cpu, fault.arch, fault.pc) == ("/machine", "riscv64", 0x4000)
    assert fault.cause == "instruction fetch from unmapped memory (runaway pc?)"
    assert list(fault.registers)[:3] == ["pc", "ra", "sp"] and "mcause" in fault.system
    hart.close()
