"""Synchronous exceptions of an AArch64 core, entered as the architecture says
(Arm ARM D1.10, "Exception entry").

Unicorn hands ``svc``, ``brk``, undefined instructions, ``hvc``/``smc`` and alignment
faults to ``UC_HOOK_INTR`` with an exception number and no syndrome, and stops with an
error on an MMU fault; it takes none of them. qconf does what the hardware would, into
EL1 (the guest's highest level):

- ``ESR_EL1`` = EC (``svc`` 0x15, ``brk`` 0x3C, an undefined instruction 0x00; an
  instruction abort 0x20/0x21 and a data abort 0x24/0x25, from a lower or the same EL),
  IL, and the ISS (the immediate; the fault status code and WnR);
- ``FAR_EL1``: for aborts, the faulting address (to its 4 KiB page: Unicorn's fill hook
  sees no more; the pc itself for an instruction abort on the pc's page);
- ``ELR_EL1``: the preferred return address (after an ``svc``, at anything else);
- ``SPSR_EL1`` = PSTATE; then PSTATE = EL1h with D, A, I, F masked (and PAN set when the
  core has it and ``SCTLR_EL1.SPAN`` is clear);
- the stack pointers: from EL0 (or EL1t) the running SP is ``SP_EL0``: it is saved there
  and ``SP_EL1`` becomes the SP (writing PSTATE does neither in Unicorn); then a system
  register is written through Unicorn, which rebuilds its cached EL and stack selection;
- pc = ``VBAR_EL1`` + 0x000 (EL1t), 0x200 (EL1h) or 0x400 (from EL0, AArch64).

``hvc`` and ``smc`` are the firmware's (PSCI, :mod:`qconf.arch.aarch64.psci`). A 32-bit
EL0 (vectors at +0x600) is not modelled: the cores do not advertise AArch32
(:mod:`qconf.arch.aarch64.features`). Unicorn never traps floating-point and SIMD
instructions on ``CPACR_EL1.FPEN`` (its ``fp_exception_el`` is a stub): Linux keeps them
enabled at EL0 and never relies on that trap (its handler only warns).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from unicorn import arm64_const as a64

__all__ = ("enter", "synchronous", "take_abort")

EXCP_UDEF, EXCP_SWI, EXCP_PREFETCH_ABORT, EXCP_DATA_ABORT = 1, 2, 3, 4
EXCP_BKPT, EXCP_HVC, EXCP_SMC = 7, 11, 13  # QEMU's exception numbers, as Unicorn passes them
EC_UNKNOWN, EC_SVC, EC_IABT_LOWER, EC_DABT_LOWER, EC_BRK = 0x00, 0x15, 0x20, 0x24, 0x3C
IMM16_OPCODE = 0xFFE0001F  # an exception-generating instruction without its immediate
SVC, HVC, SMC, BRK = 0xD4000001, 0xD4000002, 0xD4000003, 0xD4200000
UC_MEM_WRITE, UC_MEM_FETCH = 17, 18
STOPS = {EXCP_PREFETCH_ABORT: "instruction abort Unicorn raised itself (alignment?)",
         EXCP_DATA_ABORT: "data abort Unicorn raised itself (an alignment fault)"}  # fmt: skip
SPSR_EL1 = (4, 0, 3, 0, 0)  # CRn, CRm, op0, op1, op2
PSTATE_EL1H_MASKED = 0x3C5  # D, A, I, F masked; EL1, SP_EL1
PSTATE_PAN = 1 << 22
SCTLR_SPAN = 1 << 23


def synchronous(core: Any, intno: int, psci: Callable[[Any], bool]) -> bool:
    """Take the exception Unicorn reports as ``intno`` in the guest; False if the run
    must stop (``core.fault`` then says why, or the guest asked for it)."""
    regs = core.regs
    pc = regs.read(a64.UC_ARM64_REG_PC)
    at = pc - 4 if intno in (EXCP_SWI, EXCP_HVC, EXCP_SMC) else pc  # Unicorn moved past those
    core.exception_at(at)
    insn = core.read_insn(at)
    if insn is None:
        core.fault = core.fault_report(f"exception {intno} at an unreadable instruction", at)
        return False
    if insn & IMM16_OPCODE in (HVC, SMC):
        core.stats["psci"] += 1
        regs.write(a64.UC_ARM64_REG_PC, at + 4)
        return psci(core)
    pstate = regs.read(a64.UC_ARM64_REG_PSTATE)
    if intno == EXCP_SWI and insn & IMM16_OPCODE == SVC:
        core.stats["svc"] += 1
        enter(core, EC_SVC, (insn >> 5) & 0xFFFF, at + 4, pstate)
    elif intno == EXCP_BKPT and insn & IMM16_OPCODE == BRK:
        core.stats["brk"] += 1
        enter(core, EC_BRK, (insn >> 5) & 0xFFFF, at, pstate)
    elif intno == EXCP_UDEF:
        core.stats["undefined"] += 1
        enter(core, EC_UNKNOWN, 0, at, pstate)
    else:
        core.fault = core.fault_report(STOPS.get(intno, f"exception {intno}"), at)
        return False
    return True


def take_abort(core: Any, address: int, status: int, access: int) -> None:
    """Enter the guest's synchronous vector for a fault of the page-table walk at
    ``address`` (fault status code ``status``, Unicorn's access type ``access``); the
    core's pc is the faulting instruction."""
    core.stats["aborts"] += 1
    pc = core.pc
    pstate = core.regs.read(a64.UC_ARM64_REG_PSTATE)
    same = 1 if (pstate >> 2) & 3 else 0
    if access == UC_MEM_FETCH:
        far = pc if pc >> 12 == address >> 12 else address
        enter(core, EC_IABT_LOWER + same, status, pc, pstate, far)
    else:
        wnr = 1 << 6 if access == UC_MEM_WRITE else 0
        enter(core, EC_DABT_LOWER + same, status | wnr, pc, pstate, address)


def enter(core: Any, ec: int, iss: int, elr: int, pstate: int, far: int | None = None) -> None:
    """Take a synchronous exception to EL1 from the state ``pstate``."""
    regs = core.regs
    if pstate & 0x10:
        raise RuntimeError("an exception from AArch32 state is not modelled")
    el = (pstate >> 2) & 3
    offset = 0x400 if el == 0 else 0x200 if pstate & 1 else 0x000
    regs.write(a64.UC_ARM64_REG_ESR_EL1, (ec << 26) | (1 << 25) | iss)
    if far is not None:
        regs.write(a64.UC_ARM64_REG_FAR_EL1, far)
    regs.write(a64.UC_ARM64_REG_ELR_EL1, elr)
    new = PSTATE_EL1H_MASKED
    if core.pan and not core.mmu.state.sctlr & SCTLR_SPAN:
        new |= PSTATE_PAN
    on_sp_el0 = not pstate & 1
    if on_sp_el0:
        regs.write(a64.UC_ARM64_REG_SP_EL0, regs.read(a64.UC_ARM64_REG_SP))
    regs.write(a64.UC_ARM64_REG_PSTATE, new)
    if on_sp_el0:
        regs.write(a64.UC_ARM64_REG_SP, regs.read(a64.UC_ARM64_REG_SP_EL1))
    core._cp_write(SPSR_EL1, pstate)  # Unicorn rebuilds its EL and SP flags on this write
    vector = regs.read(a64.UC_ARM64_REG_VBAR_EL1) + offset
    regs.write(a64.UC_ARM64_REG_PC, vector)
    core.pc = vector
    if core.trace is not None:
        core.entered(f"{_describe(ec, iss, far)} at {elr:#x}"
                     f"{'' if far is None else f', address {far:#x}'} -> {vector:#x}")  # fmt: skip


_NAMES = {0x00: "undefined instruction", 0x15: "svc", 0x3C: "brk"}
_FAULTS = {0x04: "translation", 0x08: "access flag", 0x0C: "permission"}


def _describe(ec: int, iss: int, far: int | None) -> str:
    """An exception as the ``int`` trace names it: ``data abort (translation fault,
    level 1)``, ``svc``, or its EC and ISS."""
    if ec in (0x20, 0x21, 0x24, 0x25) and far is not None:
        kind = _FAULTS.get(iss & 0x3C, f"status {iss & 0x3F:#x}")
        what = "instruction" if ec < 0x24 else "data"
        return f"{what} abort ({kind} fault, level {iss & 3})"
    name = _NAMES.get(ec)
    return f"{name} (ISS {iss & 0xFFFF:#x})" if name else f"exception EC {ec:#x} ISS {iss:#x}"
