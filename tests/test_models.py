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

    def __init__(self) -> None:
        self.sources: list[object] = []
        self.clock: object = None


def test_clint_serves_harts_their_timer_and_software_interrupts() -> None:
    rig = DeviceHarness(make_object("clint", base=0x200_0000, num_harts=2, timebase=10_000_000))
    clint = Clint(rig.context())
    harts = [FakeHart(), FakeHart()]
    clint.connect(harts)
    assert all(h.sources == [clint] and h.clock is clint for h in harts)
    clint.write(0x4008, 8, 50)  # hart 1's mtimecmp: 50 ticks (5 us)
    assert (clint.pending_for(0), clint.pending_for(1)) == (0, 0)
    rig.clock.advance(5_000)
    assert (clint.mtime(), clint.pending_for(1)) == (50, 1 << MTI)
    clint.write(0x0, 4, 1)  # hart 0's msip
    assert (clint.pending_for(0), rig.run.cuts) == (1 << MSI, 1)


def test_a_riscv_hart_enters_its_trap_handler_for_a_pending_timer_interrupt() -> None:
    """The core against a fake interrupt source: machine timer pending and enabled, it
    takes the trap as hardware does (mepc, mcause, mstatus.MPIE/MPP, pc = mtvec)."""
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
    hart._csr_write(rv.UC_RISCV_REG_MTVEC, 0x8000_0100)
    hart._csr_write(rv.UC_RISCV_REG_MIE, 1 << MTI)
    hart._csr_write(rv.UC_RISCV_REG_MSTATUS, 0x8)  # MIE
    hart.deliver()
    assert hart.pc == entry  # nothing pending: nothing taken
    source.bits = 1 << MTI
    hart.deliver()
    assert hart.pc == 0x8000_0100
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


# --- checkpoint state ---------------------------------------------------------------------


def _round_trip(model: object, fresh: object) -> None:
    """``model``'s state, through JSON, into ``fresh``: the same state comes out."""
    import json

    saved = json.loads(json.dumps(model.state()))  # type: ignore[attr-defined]
    fresh.load_state(saved)  # type: ignore[attr-defined]
    assert fresh.state() == model.state()  # type: ignore[attr-defined]


def test_a_timer_restored_mid_count_expires_when_the_original_does() -> None:
    rig = DeviceHarness(make_object("timer", base=0x4000_0000, freq=1_000_000))
    rig.rates["freq"] = 1_000_000
    timer = Timer(rig.context())
    timer.write(0x8, 4, 100)
    timer.write(0x0, 4, 0b1001)
    rig.clock.advance(40_000)
    # a fresh timer on a clock at the same time, given the state: the same pending expiry
    other = DeviceHarness(make_object("timer", base=0x4000_0000, freq=1_000_000))
    other.rates["freq"] = 1_000_000
    other.clock.time.now = rig.clock.time.now
    restored = Timer(other.context())
    _round_trip(timer, restored)
    assert other.clock.time.next_deadline() == rig.clock.time.next_deadline() == 100_000
    assert restored.read(0x4, 4) == 60
    other.clock.advance(60_000)
    assert (restored.read(0xC, 4), other.wires.levels[("", "irq")]) == (1, True)


def test_uart_and_clint_state_round_trips() -> None:
    rig = DeviceHarness(make_object("ns16550a", base=0x1000_0000))
    uart = Ns16550a(rig.context())
    uart.write(3, 1, 0x83)  # DLAB
    uart.write(0, 1, 0x12)
    uart.write(3, 1, 0x03)
    uart.write(1, 1, 0x1)
    rig.console.feed(b"xy")
    uart.poll_input()  # 'x' is in the receive register now
    restored = Ns16550a(DeviceHarness(make_object("ns16550a", base=0x1000_0000)).context())
    _round_trip(uart, restored)
    assert (restored.dll, restored.ier, restored.rx) == (0x12, 0x1, ord("x"))
    clint = Clint(DeviceHarness(make_object("clint", base=0x200_0000)).context())
    clint.write(0x4000, 8, 12345)
    clint.write(0x0, 4, 1)
    fresh = Clint(DeviceHarness(make_object("clint", base=0x200_0000)).context())
    _round_trip(clint, fresh)
    assert (fresh.mtimecmp[0], fresh.msip[0]) == (12345, 1)


def test_every_builtin_device_model_says_what_its_state_is() -> None:
    """A model without STATE cannot be checkpointed: every built-in one has it."""
    from qconf.devices.base import Device
    from qconf.model.facets import load
    from qconf.model.registry import builtin_registry

    for info in builtin_registry(plugins=False):
        if info.behaviour is None or info.arch is not None:
            continue
        model = load(info.behaviour)
        if isinstance(model, type) and issubclass(model, Device):
            assert model.STATE is not None, info.name
