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
    assert hart.hart.mip() == 0 and hart.pc == entry  # nothing pending: nothing taken
    source.bits = 1 << MTI
    hart.deliver()
    assert hart.hart.mip() == 1 << MTI  # the guest sees it pending
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


def test_pl031_counts_seconds_from_its_date_and_interrupts_at_the_match() -> None:
    from qconf.devices.rtc.pl031 import Pl031
    from qconf.devices.rtc.types import epoch_seconds

    rig = DeviceHarness(make_object("pl031", base=0x0901_0000, rtc_base="2025-01-01T00:00:00"))
    rtc = Pl031(rig.context())
    start = epoch_seconds("2025-01-01T00:00:00")
    assert start == 1_735_689_600
    assert (rtc.read(0x00, 4), rtc.read(0x0C, 4)) == (start, 1)  # RTCDR; RTCCR: running
    assert [rtc.read(0xFE0 + 4 * i, 4) for i in range(8)] == [
        0x31, 0x10, 0x14, 0x00, 0x0D, 0xF0, 0x05, 0xB1]  # fmt: skip
    rig.clock.advance(2_500_000_000)
    assert rtc.read(0x00, 4) == start + 2
    rtc.write(0x08, 4, 1000)  # RTCLR: set the clock
    assert rtc.read(0x00, 4) == 1000
    rtc.write(0x04, 4, 1003)  # RTCMR
    rtc.write(0x10, 4, 1)  # RTCIMSC
    rig.clock.advance(2_000_000_000)
    assert rig.wires.levels.get(("", "irq"), False) is False
    rig.clock.advance(1_000_000_000)
    assert (rtc.read(0x00, 4), rtc.read(0x18, 4)) == (1003, 1)  # RTCMIS
    assert rig.wires.levels[("", "irq")] is True
    rtc.write(0x1C, 4, 1)  # RTCICR
    assert rig.wires.levels[("", "irq")] is False


class _Core:
    """An AArch64 core as the GIC sees it."""

    def __init__(self) -> None:
        from types import SimpleNamespace

        self.arch = SimpleNamespace(family="aarch64")
        self.gic = None
        self.timer = False

    def timer_level(self, intid: int) -> bool:
        return self.timer and intid == 27

    def update_irq(self) -> None:
        pass


def test_gic_banks_sgis_and_ppis_per_core_and_routes_spis_by_target() -> None:
    from qconf.devices.intc.gic import Gic

    rig = DeviceHarness(make_object("gic", version=2, dist_base=0x0800_0000,
                                    cpu_base=0x0801_0000, num_irq=64))  # fmt: skip
    gic = Gic(rig.context())
    cores = [_Core(), _Core()]
    gic.connect(cores)
    a, b = cores
    assert (gic.read_from(a, "dist", 0x004, 4) >> 5) & 7 == 1  # TYPER: two CPUs
    assert [gic.read_from(c, "dist", 0x800, 1) for c in cores] == [1, 2]  # ITARGETSR0
    gic.write_from(a, "dist", 0x000, 4, 1)
    for core in cores:
        gic.write_from(core, "cpu", 0x000, 4, 1)
        gic.write_from(core, "cpu", 0x004, 4, 0xFF)
        gic.write_from(core, "dist", 0x100, 4, (1 << 3) | (1 << 27))  # SGI 3, PPI 27
    assert gic.read_from(b, "dist", 0x100, 4) == (1 << 3) | (1 << 27)
    gic.write_from(a, "dist", 0xF00, 4, (0b10 << 16) | 3)  # SGIR: SGI 3 to core 1
    assert (a.gic.irq_level(), b.gic.irq_level()) == (False, True)
    assert gic.read_from(b, "cpu", 0x0C, 4) == 3 | (0 << 10)  # IAR: from core 0
    assert b.gic.irq_level() is False
    gic.write_from(b, "cpu", 0x10, 4, 3)  # EOIR
    gic.write_from(b, "dist", 0xF00, 4, (1 << 24) | 3)  # to every other core: core 0
    assert gic.read_from(a, "cpu", 0x0C, 4) == 3 | (1 << 10)
    b.timer = True  # core 1's own timer: only core 1 sees it
    assert (gic.read_from(a, "cpu", 0x18, 4), gic.read_from(b, "cpu", 0x18, 4)) == (1023, 27)
    gic.write_from(a, "dist", 0x104, 4, 1 << 8)  # enable SPI 40
    gic.write_from(a, "dist", 0x800 + 40, 1, 2)  # to core 1
    rig.wires.inputs[("in", 40)] = True
    assert gic.read_from(a, "cpu", 0x18, 4) == 1023
    assert gic.read_from(b, "cpu", 0x0C, 4) == 27  # PPI 27 first (lower INTID, same priority)
