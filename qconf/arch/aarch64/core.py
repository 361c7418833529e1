"""AArch64 cores on Unicorn.

The core starts at EL1 at its program's entry with x0 = the device tree address (0 until
device trees exist). ``hvc``/``smc`` reach ``UC_HOOK_INTR`` as undefined instructions at
EL1 (Unicorn has no EL2/EL3 firmware): qconf answers them as the PSCI firmware QEMU's
``virt`` board emulates (``PSCI_VERSION``, ``SYSTEM_OFF``, ``SYSTEM_RESET``), so a guest
powers off the way it would on QEMU. Other exceptions stop the run with a report.

The generic timer is qconf's: Unicorn's counters follow the host clock, so every access to
``CNTFRQ``, ``CNTVCT``/``CNTPCT`` and the virtual and physical EL1 timers is intercepted
(``UC_HOOK_INSN`` on MRS/MSR) and served from virtual time. Interrupts from the GIC reach
the core through the virtual IRQ line: ``SCR_EL3 = RW | NS`` and ``HCR_EL2 = RW | IMO``
once, then ``HCR_EL2.VI`` follows the GIC's IRQ output between slices; the core takes the
IRQ at ``VBAR_EL1`` + 0x280 (or 0x480 from EL0) as hardware would.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

from unicorn import UC_ARCH_ARM64, UC_HOOK_INSN, UC_HOOK_INTR, UC_MODE_ARM, Uc
from unicorn import arm64_const as a64

from qconf.arch.aarch64.mmu import install
from qconf.emu import native
from qconf.emu.context import CoreContext
from qconf.emu.core import Core
from qconf.emu.faults import GuestFault

__all__ = ("Aarch64Core",)

MODELS = {"cortex-a53": a64.UC_CPU_ARM64_A53, "cortex-a57": a64.UC_CPU_ARM64_A57,
          "cortex-a72": a64.UC_CPU_ARM64_A72, "max": a64.UC_CPU_ARM64_MAX}  # fmt: skip
HVC0, SMC0, WFI, WFE = 0xD4000002, 0xD4000003, 0xD503207F, 0xD503205F
PSCI_VERSION, SYSTEM_OFF, SYSTEM_RESET = 0x84000000, 0x84000008, 0x84000009
PSCI_NOT_SUPPORTED = (1 << 64) - 1
SCR_EL3 = (1, 1, 3, 6, 0)  # CRn, CRm, op0, op1, op2 (Unicorn's CP_REG order)
HCR_EL2 = (1, 1, 3, 4, 0)
TRANSLATION_REGS = {(3, 0, 1), (3, 0, 2)}  # (op0, op1, CRn) of SCTLR_EL1, TTBR0/1_EL1, TCR_EL1
SPSR_EL1 = (4, 0, 3, 0, 0)
HCR_RW, HCR_IMO, HCR_VI = 1 << 31, 1 << 4, 1 << 7
VIRTUAL_TIMER, PHYSICAL_TIMER = 27, 30  # their GIC INTIDs (PPIs)
EXCEPTIONS = {1: "undefined instruction", 2: "supervisor call (svc) with no handler",
              3: "instruction abort (prefetch)", 4: "data abort", 7: "breakpoint"}  # fmt: skip


class Aarch64Core(Core):
    """One AArch64 core."""

    PC = a64.UC_ARM64_REG_PC
    WAITS = (WFI.to_bytes(4, "little"), WFE.to_bytes(4, "little"))
    UNTIL = (1 << 64) - 1
    DECODE = "fixed4"

    def __init__(self, ctx: CoreContext) -> None:
        obj = ctx.obj
        model = MODELS.get(obj.get("model"), a64.UC_CPU_ARM64_A57)
        super().__init__(ctx, Uc(UC_ARCH_ARM64, UC_MODE_ARM), model)
        self.mmu = install(self)  # page tables walked by qconf (see qconf.arch.aarch64.mmu)
        self.uc.hook_add(UC_HOOK_INTR, self._on_exception)
        self.uc.hook_add(UC_HOOK_INSN, self._on_mrs, None, 1, 0, a64.UC_ARM64_INS_MRS)
        self.uc.hook_add(UC_HOOK_INSN, self._on_msr, None, 1, 0, a64.UC_ARM64_INS_MSR)
        _hook_tlbi(self.uc, self.mmu.invalidate)
        self.cntfrq: int = obj.get("cntfrq")
        # timers[kind] = [ctl, cval] for kind 2 (physical EL1) and 3 (virtual)
        self.timers = {2: [0, 0], 3: [0, 0]}
        self.gic: Any = None  # the GIC serving this core (it connects itself)
        self._vi = False

    def reset(self, entry: int, dtb: int = 0) -> None:
        self.pc = entry
        self.uc.reg_write(a64.UC_ARM64_REG_PC, entry)
        self.uc.reg_write(a64.UC_ARM64_REG_X0, dtb)
        self.uc.reg_write(a64.UC_ARM64_REG_CP_REG, (*SCR_EL3, (1 << 10) | 1))
        self.uc.reg_write(a64.UC_ARM64_REG_CP_REG, (*HCR_EL2, HCR_RW | HCR_IMO))

    # --- the generic timer on virtual time ----------------------------------------------

    def counter(self) -> int:
        return self.ctx.clock.now() * self.cntfrq // 1_000_000_000

    def timer_level(self, intid: int) -> bool:
        kind = 3 if intid == VIRTUAL_TIMER else 2 if intid == PHYSICAL_TIMER else 0
        if kind == 0:
            return False
        ctl, cval = self.timers[kind]
        return ctl & 3 == 1 and self.counter() >= cval  # ENABLE and not IMASK

    def _timer_changed(self, kind: int) -> None:
        ctl, cval = self.timers[kind]
        if ctl & 1:
            when = -(-cval * 1_000_000_000 // self.cntfrq)
            if when < 2**62:
                self.ctx.clock.at(when, lambda: None)  # wake a waiting core then

    def _on_mrs(self, uc: Uc, reg: int, cp: Any, user_data: object) -> int:
        if cp.op0 != 3 or cp.op1 != 3 or cp.crn != 14:
            return 0  # not a timer register: Unicorn handles it
        kind, op2 = cp.crm, cp.op2
        if kind == 0:
            if op2 != 0:  # a counter: a loop reading it may be a busy-wait
                self.note_time_read(int(uc.reg_read(a64.UC_ARM64_REG_PC)))
            value = self.cntfrq if op2 == 0 else self.counter()
        elif kind in self.timers:
            ctl, cval = self.timers[kind]
            if op2 == 0:  # TVAL: signed 32-bit distance to CVAL
                value = (cval - self.counter()) & 0xFFFFFFFF
            elif op2 == 1:
                value = ctl | (4 if self.counter() >= cval and ctl & 1 else 0)  # ISTATUS
            else:
                value = cval
        else:
            return 0
        uc.reg_write(reg, value)
        return 1

    def _on_msr(self, uc: Uc, reg: int, cp: Any, user_data: object) -> int:
        if (cp.op0, cp.op1, cp.crn) in TRANSLATION_REGS and cp.crm == 0:
            self.mmu.invalidate()  # SCTLR_EL1, TTBR0/1_EL1, TCR_EL1: a new translation
            return 0
        if cp.op0 != 3 or cp.op1 != 3 or cp.crn != 14 or cp.crm not in self.timers:
            return 0
        timer = self.timers[cp.crm]
        value = int(cp.val)
        if cp.op2 == 0:  # TVAL
            signed = value & 0xFFFFFFFF
            signed -= (signed & 0x80000000) << 1
            timer[1] = self.counter() + signed
        elif cp.op2 == 1:
            timer[0] = value & 3
        else:
            timer[1] = value
        self._timer_changed(cp.crm)
        self.update_irq()
        return 1

    def deliver(self) -> None:
        """Drive the virtual IRQ line from the GIC; a raised line wakes a waiting core."""
        if self.update_irq():
            self.waiting = False

    def run(self, budget: int) -> None:
        """As :meth:`Core.run`, but a translation fault the page-table walk refused is
        raised in the guest (Unicorn stops instead)."""
        self.mmu.abort = None
        try:
            super().run(budget)
        except GuestFault:
            if self.mmu.abort is None:
                raise
            self._take_abort(*self.mmu.abort)

    def _take_abort(self, address: int, level: int, access: int) -> None:
        """Enter the synchronous exception vector as the hardware would for an abort."""
        from unicorn import UC_MEM_FETCH, UC_MEM_WRITE

        self.mmu.abort = None
        uc = self.uc
        pc = int(uc.reg_read(a64.UC_ARM64_REG_PC))
        pstate = int(uc.reg_read(a64.UC_ARM64_REG_PSTATE))
        from_el0 = (pstate >> 2) & 3 == 0
        fetch = access == UC_MEM_FETCH
        ec = (0x20 if fetch else 0x24) + (0 if from_el0 else 1)
        iss = 0x04 + level  # translation fault, at the level the walk stopped
        if access == UC_MEM_WRITE:
            iss |= 1 << 6  # WnR
        uc.reg_write(a64.UC_ARM64_REG_ESR_EL1, (ec << 26) | (1 << 25) | iss)
        uc.reg_write(a64.UC_ARM64_REG_FAR_EL1, address)
        uc.reg_write(a64.UC_ARM64_REG_ELR_EL1, pc)
        uc.reg_write(a64.UC_ARM64_REG_CP_REG, (*SPSR_EL1, pstate))
        offset = 0x400 if from_el0 else (0x200 if pstate & 1 else 0x0)
        uc.reg_write(a64.UC_ARM64_REG_PSTATE, (pstate & ~0xF) | 0x5 | 0x3C0)  # EL1h, masked
        vector = int(uc.reg_read(a64.UC_ARM64_REG_VBAR_EL1)) + offset
        uc.reg_write(a64.UC_ARM64_REG_PC, vector)
        self.pc = vector
        if self.trace is not None:
            kind = "instruction" if fetch else "data"
            self.entered(f"{kind} abort (translation fault, level {level}) at {pc:#x}, "
                         f"address {address:#x} -> {vector:#x}")  # fmt: skip

    def update_irq(self) -> bool:
        """Set ``HCR_EL2.VI`` to the GIC's IRQ output now (also called from the GIC and the
        timer registers, so that an acknowledged or re-armed interrupt drops at once)."""
        level = self.gic is not None and self.gic.irq_level()
        if level != self._vi:
            self._vi = level
            if self.trace is not None:
                self.entered("IRQ line up (virtual IRQ: taken at VBAR_EL1 + 0x280 once "
                             "unmasked)" if level else "IRQ line down")  # fmt: skip
            self.uc.reg_write(a64.UC_ARM64_REG_CP_REG,
                              (*HCR_EL2, HCR_RW | HCR_IMO | (HCR_VI if level else 0)))  # fmt: skip
        return bool(level)

    def _on_exception(self, uc: Uc, intno: int, user_data: object) -> None:
        try:
            pc = uc.reg_read(a64.UC_ARM64_REG_PC)
            self.exception_at(pc)
            insn = int.from_bytes(uc.mem_read(pc, 4), "little")
            if intno == 1 and insn in (HVC0, SMC0):
                self._psci(uc)
                uc.reg_write(a64.UC_ARM64_REG_PC, pc + 4)
                return
            self.fault = self.fault_report(EXCEPTIONS.get(intno, f"exception {intno}"), pc)
            uc.emu_stop()
        except Exception as exc:  # recorded, raised after emu_start returns
            self.fault = self.fault_report(f"internal error in the exception hook: {exc!r}")
            uc.emu_stop()

    def _psci(self, uc: Uc) -> None:
        function = uc.reg_read(a64.UC_ARM64_REG_X0)
        if function == PSCI_VERSION:
            uc.reg_write(a64.UC_ARM64_REG_X0, 0x10001)  # PSCI 1.1
        elif function == SYSTEM_OFF:
            self.ctx.run.request_stop(0, f"{self.obj.key}: guest powered off (PSCI SYSTEM_OFF)")
            uc.emu_stop()
        elif function == SYSTEM_RESET:
            self.ctx.run.request_stop(0, f"{self.obj.key}: guest asked for a reset (PSCI)")
            uc.emu_stop()
        else:
            uc.reg_write(a64.UC_ARM64_REG_X0, PSCI_NOT_SUPPORTED)


class _SysFilter(ctypes.Structure):
    """``qc_sys_filter`` in ``native_hooks.c``: the Python callback ``tlbi`` reaches."""

    _fields_ = [("python", ctypes.c_void_p)]


_SYS_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_uint32, ctypes.c_void_p, ctypes.c_uint32,
                                 ctypes.c_void_p, ctypes.c_void_p)  # fmt: skip


def _hook_tlbi(uc: Uc, invalidate: Callable[[], None]) -> None:
    """Call ``invalidate`` when the guest runs ``tlbi`` (the page-table walk's memory goes
    too). Cache maintenance (``dc``, ``ic``) is a ``SYS`` instruction as well, thousands of
    times per boot: the native filter (``qc_a64_sys``) keeps it out of Python."""

    def on_tlbi(*args: object) -> int:
        invalidate()
        return 0  # Unicorn carries it out

    hooks = native.hooks()
    if hooks is None:

        def on_sys(uc: Uc, reg: int, cp: Any, user_data: object) -> int:
            return on_tlbi() if cp.crn == 8 else 0

        uc.hook_add(UC_HOOK_INSN, on_sys, None, 1, 0, a64.UC_ARM64_INS_SYS)
        return
    callback = _SYS_CALLBACK(on_tlbi)
    target = _SysFilter(ctypes.cast(callback, ctypes.c_void_p).value)
    native.hook_add(uc, UC_HOOK_INSN, hooks["a64_sys"], target,
                    ctypes.c_int(a64.UC_ARM64_INS_SYS), keep=(callback,))  # fmt: skip
