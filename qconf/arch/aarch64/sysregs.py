"""The system register and maintenance instruction hooks of an AArch64 core.

Unicorn calls an instruction hook on every ``MRS``, ``MSR`` and ``SYS`` when one is
installed, and Linux runs them constantly (``mrs x, sp_el0`` is how it finds the running
task: ten million times on the way to the installer). The filters below pass to the core
only what qconf serves itself and let Unicorn carry out the rest:

- ``MRS``/``MSR`` of the generic timer (op1 3, CRn 14): served from virtual time;
  ``MRS`` of the ID registers (op1 0, CRn 0): what the core advertises
  (:mod:`qconf.arch.aarch64.features`);
- ``MSR`` of ``SCTLR_EL1``, ``TCR_EL1``, ``TTBR0/1_EL1``: noted for the page-table walk
  (:mod:`qconf.arch.aarch64.mmu`), which forgets what a change of regime invalidates;
- ``SYS``: ``tlbi`` forgets the translations it names (on every core when broadcast);
  ``ic`` (instruction cache invalidation: code was changed) makes the other cores drop
  their translated code before they run again (each engine sees its own stores, not
  another's).

The filters are C (``native_hooks.c``) where the extension is built, else the Python
functions here, which do the same.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

from unicorn import UC_HOOK_INSN
from unicorn import arm64_const as a64

from qconf.arch.aarch64.mmu import Translator
from qconf.emu import native

__all__ = ("CpReg", "Served", "install")

Served = Callable[[int, Any], int]
"""A core's answer to an access it serves: (register, cp) -> 1 (done) or 0 (Unicorn's)."""

_SYS_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_uint32, ctypes.c_void_p, ctypes.c_int,
                                 ctypes.c_void_p, ctypes.c_void_p)  # fmt: skip


class CpReg(ctypes.Structure):
    """``uc_arm64_cp_reg``: a system register by its encoding, and a value."""

    _fields_ = [("crn", ctypes.c_uint32), ("crm", ctypes.c_uint32),
                ("op0", ctypes.c_uint32), ("op1", ctypes.c_uint32),
                ("op2", ctypes.c_uint32), ("val", ctypes.c_uint64)]  # fmt: skip


def served_read(cp: Any) -> bool:
    """Whether an ``MRS`` goes to the core (the timer, the ID registers)."""
    timer = cp.op1 == 3 and cp.crn == 14
    return bool(cp.op0 == 3 and (timer or (cp.op1 == 0 and cp.crn == 0)))


def note_write(mmu: Translator, cp: Any) -> bool:
    """An ``MSR`` the page-table walk follows (``qc_a64_msr``); whether it was one."""
    if cp.op0 != 3 or cp.op1 != 0 or cp.crm != 0:
        return False
    st, value = mmu.state, int(cp.val)
    if cp.crn == 2 and cp.op2 <= 2:
        if cp.op2 == 0:
            st.ttbr0 = value
        elif cp.op2 == 1:
            st.ttbr1 = value
        else:
            if st.tcr != value:
                mmu.drop_all()
            st.tcr = value
        return True
    if cp.crn == 1 and cp.op2 == 0:
        if (st.sctlr ^ value) & ((1 << 0) | (1 << 19)):
            mmu.drop_all()
        st.sctlr = value
        return True
    return False


def maintenance(mmu: Translator, cp: Any) -> None:
    """A ``SYS`` instruction (``qc_a64_sys``): ``tlbi`` and ``ic``."""
    mmu.state.sys += 1
    if cp.crn == 8:
        mmu.state.tlbi += 1
        mmu.tlbi(cp.op1, cp.crm, cp.op2, int(cp.val))
    elif cp.crn == 7 and cp.crm in (1, 5):
        for peer in mmu.peers:
            peer.state.flush_pending |= 2


def install(uc: Any, mmu: Translator, read: Served, write: Served) -> None:
    """Hook ``MRS``, ``MSR`` and ``SYS`` on ``uc``: the core serves ``read`` and
    ``write`` for the registers the filters pass (natively where ``mmu`` fills natively:
    the two share the table ``tlbi`` invalidates)."""
    st = mmu.state
    hooks = native.hooks() if mmu.table is not None else None
    if hooks is None:

        def on_mrs(uc: Any, reg: int, cp: Any, user_data: object) -> int:
            st.mrs += 1
            return read(reg, cp) if served_read(cp) else 0

        def on_msr(uc: Any, reg: int, cp: Any, user_data: object) -> int:
            st.msr += 1
            if note_write(mmu, cp):
                return 0
            return write(reg, cp) if cp.op0 == 3 and cp.op1 == 3 and cp.crn == 14 else 0

        def on_sys(uc: Any, reg: int, cp: Any, user_data: object) -> int:
            maintenance(mmu, cp)
            return 0

        uc.hook_add(UC_HOOK_INSN, on_mrs, None, 1, 0, a64.UC_ARM64_INS_MRS)
        uc.hook_add(UC_HOOK_INSN, on_msr, None, 1, 0, a64.UC_ARM64_INS_MSR)
        uc.hook_add(UC_HOOK_INSN, on_sys, None, 1, 0, a64.UC_ARM64_INS_SYS)
        return

    def c_read(handle: object, reg: int, cp: int, user: object) -> int:
        return read(reg, CpReg.from_address(cp))

    def c_write(handle: object, reg: int, cp: int, user: object) -> int:
        return write(reg, CpReg.from_address(cp))

    mrs, msr = _SYS_CALLBACK(c_read), _SYS_CALLBACK(c_write)
    st.python_mrs = ctypes.cast(mrs, ctypes.c_void_p).value
    st.python_msr = ctypes.cast(msr, ctypes.c_void_p).value
    for name, insn in (("a64_mrs", a64.UC_ARM64_INS_MRS), ("a64_msr", a64.UC_ARM64_INS_MSR),
                       ("a64_sys", a64.UC_ARM64_INS_SYS)):  # fmt: skip
        native.hook_add(uc, UC_HOOK_INSN, hooks[name], st, ctypes.c_int(insn), keep=(mrs, msr))
