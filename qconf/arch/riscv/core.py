"""RISC-V harts on Unicorn, with the trap entry Unicorn leaves to its user.

``rdtime`` is undefined in Unicorn (no Zicntr): it is executed here from the CLINT's
``mtime``, as hardware would, instead of trapping to firmware on every read.

Unicorn does not deliver synchronous exceptions (it reports them through
``UC_HOOK_INTR`` with pc already advanced) nor machine-level interrupts (MTIP, MSIP and
MEIP writes to ``mip`` are dropped): this module enters the trap itself, honouring
``medeleg``, and writes the CSRs a real hart would. Host access to M-mode CSRs while the
guest runs in S or U mode is refused by Unicorn, so the privilege pseudo-register is
raised to M around each access.
"""

from __future__ import annotations

from typing import Any, Protocol

from unicorn import UC_ARCH_RISCV, UC_HOOK_INTR, UC_MODE_RISCV32, UC_MODE_RISCV64, Uc
from unicorn import riscv_const as rv

from qconf.arch.riscv import MEI, MSI, MTI, SEI
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


class RiscvHart(Core):
    """One hart: reset state, trap and interrupt entry. Its interrupt controllers add
    themselves to :attr:`sources`; the CLINT makes itself the :attr:`clock`."""

    STATE = (*Core.STATE, "_seip")
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
        self._seip = 0
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
        self._csr_write(rv.UC_RISCV_REG_MHARTID, self.hartid)

    # --- checkpoints ------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """As :meth:`Core.state`, with ``fcsr``: the FPU's accrued exception flags live
        outside the part of the CPU state Unicorn's context holds."""
        return {**super().state(), "fcsr": self._with_fpu(lambda: self._csr_read(FCSR))}

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)
        fcsr = int(state["fcsr"])
        self._with_fpu(lambda: self._csr_write(FCSR, fcsr))

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
            if not self._trap(cause, pc, interrupt=False):
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

    def _trap(self, cause: int, epc: int, *, interrupt: bool) -> bool:
        """Enter the trap handler for ``cause`` as the hardware would; False if the guest
        has none."""
        priv = self.uc.reg_read(rv.UC_RISCV_REG_PRIV)
        deleg = self._csr_read(rv.UC_RISCV_REG_MIDELEG if interrupt else rv.UC_RISCV_REG_MEDELEG)
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
        top = 1 << (self.xlen - 1)
        self._csr_write(epc_reg, epc)
        self._csr_write(cause_reg, cause | (top if interrupt else 0))
        self._csr_write(tval_reg, 0)
        self._csr_write(status_reg, status)
        self.uc.reg_write(rv.UC_RISCV_REG_PRIV, level)
        base = tvec & ~3
        target = base + 4 * cause if interrupt and tvec & 3 == 1 else base
        self.uc.reg_write(rv.UC_RISCV_REG_PC, target)
        self.pc = target
        if self.trace is not None:
            name = INTERRUPTS.get(cause) if interrupt else CAUSES.get(cause)
            self.entered(f"{'interrupt' if interrupt else 'exception'} {cause} ({name}) at "
                         f"{epc:#x} -> {target:#x} ({'MS'[level == 1]}-mode)")  # fmt: skip
        return True

    def deliver(self) -> None:
        """Between quanta: take the highest machine-level interrupt the controllers assert
        (``mip`` bits) that the hart accepts, and wake it from wfi if any is enabled."""
        pending = 0
        for source in self.sources:
            pending |= source.pending_for(self.hartid)
        # SEIP is a line Unicorn takes natively (delegation, masking, sret): drive it
        seip = pending >> SEI & 1
        if seip != self._seip:
            mip = self._csr_read(rv.UC_RISCV_REG_MIP)
            self._csr_write(rv.UC_RISCV_REG_MIP, mip | (1 << SEI) if seip else mip & ~(1 << SEI))
            self._seip = seip
        pending &= ~(1 << SEI)
        if not pending:
            return
        mie = self._csr_read(rv.UC_RISCV_REG_MIE)
        live = pending & mie
        if live:
            self.waiting = False
        else:
            return
        priv = self.uc.reg_read(rv.UC_RISCV_REG_PRIV)
        enabled = priv < 3 or self._csr_read(rv.UC_RISCV_REG_MSTATUS) >> 3 & 1
        if not enabled:
            return
        for cause in (MEI, MSI, MTI):
            if live >> cause & 1:
                self._trap(cause, self.pc, interrupt=True)
                return
