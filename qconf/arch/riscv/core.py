"""RISC-V harts on Unicorn, with the trap entry Unicorn leaves to its user.

``rdtime`` is undefined in Unicorn (no Zicntr): it is executed here from the CLINT's
``mtime``, as hardware would, instead of trapping to firmware on every read.

Unicorn does not deliver synchronous exceptions (it reports them through
``UC_HOOK_INTR`` with pc already advanced): this module enters the trap itself, honouring
``medeleg``, and writes the CSRs a real hart would. Interrupts are Unicorn's to take:
the CLINT's and the PLIC's lines are driven into ``mip`` as they change
(:mod:`qconf.arch.riscv.state` writes the machine-level bits, which the API refuses), and
the engine takes an enabled one at the next translated block, so right after the
instruction that unmasks it. Host access to M-mode CSRs while the guest runs in S or U
mode is refused by Unicorn, so the privilege pseudo-register is raised to M around each
access.
"""

from __future__ import annotations

from typing import Any, Protocol

from unicorn import UC_ARCH_RISCV, UC_HOOK_INTR, UC_MODE_RISCV32, UC_MODE_RISCV64, Uc
from unicorn import riscv_const as rv

from qconf.arch.riscv import MEI, MSI, MTI, SEI
from qconf.arch.riscv.state import HartState
from qconf.emu.context import CoreContext
from qconf.emu.core import Core, FastRegisters

__all__ = ("InterruptSource", "RiscvHart")

WFI = 0x10500073
FCSR = rv.UC_RISCV_REG_FCSR
FS, FS_INITIAL = 3 << 13, 1 << 13  # mstatus.FS: the FPU's state (off, initial...)
CAUSES = {0: "instruction address misaligned", 1: "instruction access fault",
          2: "illegal instruction", 3: "breakpoint", 4: "load address misaligned",
          5: "load access fault", 6: "store address misaligned", 7: "store access fault",
          8: "ecall from U-mode", 9: "ecall from S-mode", 11: "ecall from M-mode",
          12: "instruction page fault", 13: "load page fault", 15: "store page fault"}  # fmt: skip
INTERRUPTS = {1: "supervisor software", 3: "machine software", 5: "supervisor timer",
              7: "machine timer", 9: "supervisor external", 11: "machine external"}  # fmt: skip


class InterruptSource(Protocol):
    """An interrupt controller serving harts (the CLINT, the PLIC): which ``mip`` bits it
    asserts for hart ``hartid``."""

    def pending_for(self, hartid: int) -> int: ...


class TimeSource(Protocol):
    """The device whose ``mtime`` the ``time`` CSR reads (the CLINT)."""

    def mtime(self) -> int: ...


TRAP_REGISTERS = {
    1: (rv.UC_RISCV_REG_STVEC, rv.UC_RISCV_REG_SSTATUS, rv.UC_RISCV_REG_SEPC,
        rv.UC_RISCV_REG_SCAUSE, rv.UC_RISCV_REG_STVAL, 1, 5, 8, 0b1),
    3: (rv.UC_RISCV_REG_MTVEC, rv.UC_RISCV_REG_MSTATUS, rv.UC_RISCV_REG_MEPC,
        rv.UC_RISCV_REG_MCAUSE, rv.UC_RISCV_REG_MTVAL, 3, 7, 11, 0b11),
}  # fmt: skip
"""For a trap taken to S-mode (1) or M-mode (3): its tvec, status, epc, cause and tval
registers, and the status bits for interrupt-enable (SIE/MIE), previous interrupt-enable
(SPIE/MPIE) and previous privilege (SPP/MPP: where, and its one or two bits)."""


LINES = 1 << MSI | 1 << MTI | 1 << MEI | 1 << SEI
"""The ``mip`` bits that are wires from the interrupt controllers."""
MACHINE_LINES = 1 << MSI | 1 << MTI | 1 << MEI
SPIN_POLL_NS, SPIN_POLL_MAX_NS = 1_000_000, 64_000_000
"""How long a hart spinning on ``wfi`` with a masked interrupt pending waits before it
looks again: at first, and at most (see :meth:`RiscvHart.deliver`)."""


class RiscvHart(Core):
    """One hart: reset state, trap and interrupt entry. Its interrupt controllers add
    themselves to :attr:`sources`; the CLINT makes itself the :attr:`clock`."""

    STATE = (*Core.STATE, "_lines", "_poked", "_spin")
    PC = rv.UC_RISCV_REG_PC
    WAITS = (WFI.to_bytes(4, "little"),)
    UNTIL = (1 << 64) - 1

    def __init__(self, ctx: CoreContext) -> None:
        arch = ctx.obj.info.arch_info
        self.xlen = arch.bits if arch is not None else 64
        mode = UC_MODE_RISCV64 if self.xlen == 64 else UC_MODE_RISCV32
        super().__init__(ctx, Uc(UC_ARCH_RISCV, mode))
        self.UNTIL = (1 << self.xlen) - 1  # type: ignore[misc]
        obj = ctx.obj
        self.uc.hook_add(UC_HOOK_INTR, self._on_exception)
        self.hartid = obj.get("hartid")
        self.hart = HartState(self.uc, self.xlen)
        self._lines = 0  # the interrupt lines the controllers drive, as mip has them
        self._poked = False  # a controller told it something since it last ran
        self._poll: Any = None  # the timer event that lets a spinning hart look again
        self._spin = (0, 0)  # where it spins, and how long it waits before looking again
        self.sources: list[InterruptSource] = []
        self.clock: TimeSource | None = None  # whose mtime the time CSR reads
        self._time_reads: dict[int, Any] = {}  # pc -> (high, rd) of an rdtime, or None
        self._fast = FastRegisters(self.uc)

    # --- set-up ---------------------------------------------------------------------

    def reset(self, entry: int, dtb: int = 0) -> None:
        self.pc = entry
        self.uc.reg_write(rv.UC_RISCV_REG_PC, entry)
        self.uc.reg_write(rv.UC_RISCV_REG_A0, self.hartid)
        self.uc.reg_write(rv.UC_RISCV_REG_A1, dtb)
        if self.hartid:  # every engine's mhartid is 0
            self.hart.set_mhartid(self.hartid)

    # --- checkpoints ------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """As :meth:`Core.state`, with ``fcsr``: the FPU's accrued exception flags live
        outside the part of the CPU state Unicorn's context holds."""
        poll = self._poll.when if self._poll is not None else None
        return {**super().state(), "fcsr": self._with_fpu(lambda: self._csr_read(FCSR)),
                "poll_at": poll}  # fmt: skip

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)
        fcsr = int(state["fcsr"])
        self._with_fpu(lambda: self._csr_write(FCSR, fcsr))
        if state.get("poll_at") is not None:  # a hart in wfi looks again then
            self._poll = self.ctx.clock.at(int(state["poll_at"]), self._wake)

    def _with_fpu(self, action: Any) -> Any:
        """``action()`` with the FPU on (``mstatus.FS``), as it was around it."""
        mstatus = self._csr_read(rv.UC_RISCV_REG_MSTATUS)
        if not mstatus & FS:
            self._csr_write(rv.UC_RISCV_REG_MSTATUS, mstatus | FS_INITIAL)
        try:
            return action()
        finally:
            if not mstatus & FS:
                self._csr_write(rv.UC_RISCV_REG_MSTATUS, mstatus)

    # --- CSRs at M level ------------------------------------------------------------

    def _csr_read(self, reg: int) -> int:
        priv = self.uc.reg_read(rv.UC_RISCV_REG_PRIV)
        if priv != 3:
            self.uc.reg_write(rv.UC_RISCV_REG_PRIV, 3)
        value = self.uc.reg_read(reg)
        if priv != 3:
            self.uc.reg_write(rv.UC_RISCV_REG_PRIV, priv)
        return int(value)

    def _csr_write(self, reg: int, value: int) -> None:
        priv = self.uc.reg_read(rv.UC_RISCV_REG_PRIV)
        if priv != 3:
            self.uc.reg_write(rv.UC_RISCV_REG_PRIV, 3)
        self.uc.reg_write(reg, value)
        if priv != 3:
            self.uc.reg_write(rv.UC_RISCV_REG_PRIV, priv)

    # --- traps ---------------------------------------------------------------------

    def _on_exception(self, uc: Uc, intno: int, user_data: object) -> None:
        # pc is past the instruction; never raise into C (house rule 8)
        try:
            pc = self._fast.read(rv.UC_RISCV_REG_PC) - 4  # Unicorn adds 4, even to a C insn
            self.exception_at(pc)
            if intno == 2 and self._read_time(uc, pc):
                return
            priv = uc.reg_read(rv.UC_RISCV_REG_PRIV)
            cause = {8: 8, 9: 9, 11: 11}.get(intno, intno)
            if intno == 8:  # Unicorn says 8 for every ecall
                cause = {0: 8, 1: 9, 3: 11}.get(priv, 8)
            if not self._trap(cause, pc):
                self.fault = self.fault_report(CAUSES.get(cause, f"exception {cause}") +
                                         " with no trap handler (mtvec is 0)", pc)  # fmt: skip
                uc.emu_stop()
        except Exception as exc:  # recorded, raised after emu_start returns
            self.fault = self.fault_report(f"internal error in the trap hook: {exc!r}")
            uc.emu_stop()

    def _read_time(self, uc: Uc, pc: int) -> bool:
        """Execute ``rdtime``/``rdtimeh`` (Zicntr), which Unicorn leaves undefined: the
        value is the CLINT's mtime. False if the instruction is something else.

        Firmware polls the time in tight loops, so this path is kept short: instructions
        are decoded once per address, registers go through the engine directly."""
        decoded = self._time_reads.get(pc, -1)
        if decoded == -1:
            insn = int.from_bytes(uc.mem_read(pc, 4), "little")
            csr = insn >> 20
            ok = insn & 0xFFFFF07F == 0x00002073 | (csr << 20) and csr in (0xC01, 0xC81)
            decoded = ((csr == 0xC81), (insn >> 7) & 31) if ok else None
            self._time_reads[pc] = decoded
        if decoded is None or self.clock is None:
            return False
        high, rd = decoded
        self.note_time_read(pc)
        mtime = self.clock.mtime()
        value = mtime >> 32 if high else mtime & ((1 << self.xlen) - 1)
        if rd:
            self._fast.write(rv.UC_RISCV_REG_X0 + rd, value)
        self._fast.write(rv.UC_RISCV_REG_PC, pc + 4)
        return True

    def trace_interrupts(self) -> None:
        """Show the interrupts the engine takes itself in the ``int`` trace: a block that
        starts at a trap vector while the cause register holds an interrupt is its entry
        (exceptions are shown by :meth:`_trap`)."""
        from unicorn import UC_HOOK_BLOCK

        top = 1 << (self.xlen - 1)

        def on_block(uc: Any, pc: int, size: int, user: object) -> None:
            for level in (3, 1):
                tvec_reg, _, epc_reg, cause_reg = TRAP_REGISTERS[level][:4]
                cause = self._csr_read(cause_reg)
                if not cause & top:
                    continue
                code = cause & ~top
                tvec = self._csr_read(tvec_reg)
                if pc == (tvec & ~3) + (4 * code if tvec & 1 else 0):
                    epc = self._csr_read(epc_reg)
                    self.entered(f"interrupt {code} ({INTERRUPTS.get(code)}) at {epc:#x} -> "
                                 f"{pc:#x} ({'MS'[level == 1]}-mode)")  # fmt: skip
                    return

        self.trace_hooks.append(on_block)
        self.uc.hook_add(UC_HOOK_BLOCK, on_block)

    def _trap(self, cause: int, epc: int) -> bool:
        """Enter the trap handler for exception ``cause`` as the hardware would; False if
        the guest has none."""
        priv = self.uc.reg_read(rv.UC_RISCV_REG_PRIV)
        deleg = self._csr_read(rv.UC_RISCV_REG_MEDELEG)
        level = 1 if priv <= 1 and deleg >> cause & 1 else 3  # delegated to S-mode, or M
        regs = TRAP_REGISTERS[level]
        tvec_reg, status_reg, epc_reg, cause_reg, tval_reg, ie, pie, pp, pp_mask = regs
        tvec = self._csr_read(tvec_reg)
        if tvec == 0:
            return False
        status = self._csr_read(status_reg)
        enabled = status >> ie & 1
        status = (status & ~((1 << ie) | (1 << pie) | (pp_mask << pp))) | (enabled << pie)
        status |= priv << pp
        self._csr_write(epc_reg, epc)
        self._csr_write(cause_reg, cause)
        self._csr_write(tval_reg, 0)
        self._csr_write(status_reg, status)
        self.uc.reg_write(rv.UC_RISCV_REG_PRIV, level)
        target = tvec & ~3  # exceptions are never vectored
        self.uc.reg_write(rv.UC_RISCV_REG_PC, target)
        self.pc = target
        if self.trace is not None:
            self.entered(f"exception {cause} ({CAUSES.get(cause)}) at "
                         f"{epc:#x} -> {target:#x} ({'MS'[level == 1]}-mode)")  # fmt: skip
        return True

    def pending(self) -> int:
        """The ``mip`` bits the hart's interrupt controllers assert now."""
        pending = 0
        for source in self.sources:
            pending |= source.pending_for(self.hartid)
        return pending

    def set_lines(self, lines: int) -> None:
        """Drive the interrupt lines (MSIP, MTIP, MEIP, SEIP) to ``lines``: into ``mip``,
        where the guest reads them and from where Unicorn takes an enabled one at the next
        translated block. Callable while the hart runs (from a device's register write)."""
        lines &= LINES
        if lines == self._lines:
            return
        seip = (lines ^ self._lines) & 1 << SEI  # SEIP is also software's: only its edges
        mip = self.hart.set_mip(MACHINE_LINES | seip, lines)
        # a write through the API makes the engine look at mip again (the S bits as they
        # are: only those are writable that way)
        self._csr_write(rv.UC_RISCV_REG_MIP, mip)
        self._lines = lines

    def interrupts_changed(self) -> None:
        """A controller's output for this hart may have changed (or was written again, as
        an IPI's msip is), usually from a register write the guest is making: lines that
        fell drop now (a handler that cleared its source must not take it again); lines
        that rose are driven between slices (:meth:`deliver`), and the slice ends at the
        next block for that. So an interrupt a store raises is taken at the next
        translated block, as QEMU takes it, on every engine (stock Unicorn would
        otherwise take it right after the store, the store-fix engine at the next
        block); and a waiting hart looks again."""
        pending = self.pending() & LINES
        if pending & ~self._lines:
            self.ctx.run.cut_slice()
        self.set_lines(self._lines & pending)
        self._poked = True

    def run(self, budget: int) -> None:
        self._poked = False
        super().run(budget)

    def takeable(self, live: int) -> bool:
        """Whether one of the ``live`` interrupts (pending and enabled in ``mie``) would be
        taken now: mstatus.MIE in M-mode (any interrupt in a lower mode), SIE in S-mode for
        those ``mideleg`` sends there."""
        priv = self.uc.reg_read(rv.UC_RISCV_REG_PRIV) & 3
        status = self._csr_read(rv.UC_RISCV_REG_MSTATUS)
        to_s = live & self._csr_read(rv.UC_RISCV_REG_MIDELEG)
        to_m = live & ~to_s
        m_on = priv < 3 or status >> 3 & 1
        s_on = priv < 1 or (priv == 1 and status >> 1 & 1)
        return bool((to_m and m_on) or (to_s and s_on and priv <= 1))

    def deliver(self) -> None:
        """Between slices: drive the lines the controllers assert (Unicorn takes what is
        enabled), and wake the hart from ``wfi`` when an interrupt is pending and enabled
        in ``mie``, as ``wfi`` does whatever ``mstatus`` says.

        A ``wfi`` that returns at once because such an interrupt is pending but masked
        (firmware waiting in M-mode with interrupts off, OpenSBI's parked harts) makes a
        loop that spins at full speed until memory changes. Such a hart is woken when a
        controller tells it something (an IPI) and otherwise looks again after
        :data:`SPIN_POLL_NS` of virtual time, so that it does not keep the other CPUs from
        running alone (long slices, skipped delays). When it looks and finds nothing (it
        comes back to the same ``wfi``), it waits twice as long, up to
        :data:`SPIN_POLL_MAX_NS`."""
        self.set_lines(self.pending())
        if not self.waiting:
            return
        live = self.hart.mip() & self._csr_read(rv.UC_RISCV_REG_MIE)
        if not live:
            return
        if self._poked or self.takeable(live):
            self._spin = (0, 0)
            self._wake()
        elif self._poll is None:
            # looking again found nothing new (the same wfi): look half as often, up to
            # SPIN_POLL_MAX_NS apart
            pc, wait = self._spin
            wait = min(2 * wait, SPIN_POLL_MAX_NS) if pc == self.pc else SPIN_POLL_NS
            self._spin = (self.pc, wait)
            self._poll = self.ctx.clock.at(self.ctx.clock.now() + wait, self._wake)

    def _wake(self) -> None:
        self.waiting = False
        if self._poll is not None:
            self._poll.cancelled = True
            self._poll = None
