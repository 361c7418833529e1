"""AArch64 cores on Unicorn.

The core starts at EL1 at its program's entry with x0 = the device tree address (0 without
one). Unicorn runs the guest and takes IRQs itself, but hands every synchronous exception
to a hook instead of taking it: qconf enters them as the architecture says
(:mod:`qconf.arch.aarch64.exceptions`): ``svc``, ``brk``, undefined instructions (Linux
emulates EL0 reads of ID registers this way) and the MMU's translation, access flag and
permission faults, with ``ESR_EL1``, ``FAR_EL1``, ``ELR_EL1``, ``SPSR_EL1``, the vector
offset by source EL and stack, and the banked stack pointers. ``hvc``/``smc`` reach the
hook as undefined instructions at EL1 (Unicorn has no EL2/EL3 firmware): qconf answers
them as the PSCI firmware QEMU's ``virt`` board emulates (:mod:`qconf.arch.aarch64.psci`):
version, features, ``CPU_ON``/``CPU_OFF``/``AFFINITY_INFO`` for several cores,
``SYSTEM_OFF``, ``SYSTEM_RESET``.

The generic timer is qconf's: Unicorn's counters follow the host clock, so every access to
``CNTFRQ``, ``CNTVCT``/``CNTPCT`` and the virtual and physical EL1 timers is intercepted
(:mod:`qconf.arch.aarch64.sysregs`) and served from virtual time. Interrupts from the GIC
reach the core through the virtual IRQ line: ``SCR_EL3 = RW | NS`` and ``HCR_EL2 = RW |
IMO`` once, then ``HCR_EL2.VI`` follows the GIC's IRQ output; Unicorn takes the IRQ at
``VBAR_EL1`` + 0x280 (or 0x480 from EL0) as hardware would, at the next block boundary
(an unmask by ``msr daifclr`` or ``msr daif`` ends its block).
"""

from __future__ import annotations

import ctypes
from typing import Any

from unicorn import UC_ARCH_ARM64, UC_HOOK_INTR, UC_MODE_ARM, Uc, UcError
from unicorn import arm64_const as a64

from qconf.arch.aarch64 import engine as stock_engine
from qconf.arch.aarch64 import exceptions, features, psci
from qconf.arch.aarch64.mmu import install
from qconf.arch.aarch64.stores import REFUSALS, set_map
from qconf.arch.aarch64.sysregs import CpReg
from qconf.arch.aarch64.sysregs import install as install_sysregs
from qconf.emu.context import CoreContext
from qconf.emu.core import UC_ERRORS, Core, FastRegisters
from qconf.emu.counting import read_code
from qconf.emu.vtime import wake

__all__ = ("Aarch64Core",)

MODELS = {"cortex-a53": a64.UC_CPU_ARM64_A53, "cortex-a57": a64.UC_CPU_ARM64_A57,
          "cortex-a72": a64.UC_CPU_ARM64_A72, "max": a64.UC_CPU_ARM64_MAX}  # fmt: skip
WFI, WFE = 0xD503207F, 0xD503205F
PAGE_SIZE = 4096
"""Unicorn's AArch64 TLB page (1 KiB by default): a ``tlbi`` by address invalidates one
of them, so it must be the guest's granule."""
SCR_EL3 = (1, 1, 3, 6, 0)  # CRn, CRm, op0, op1, op2 (Unicorn's CP_REG order)
HCR_EL2 = (1, 1, 3, 4, 0)
HCR_RW, HCR_IMO, HCR_VI = 1 << 31, 1 << 4, 1 << 7
VIRTUAL_TIMER, PHYSICAL_TIMER = 27, 30  # their GIC INTIDs (PPIs)
XZR = a64.UC_ARM64_REG_XZR


class Aarch64Core(Core):
    """One AArch64 core."""

    PC = a64.UC_ARM64_REG_PC
    WAITS = (WFI.to_bytes(4, "little"), WFE.to_bytes(4, "little"))
    UNTIL = (1 << 64) - 1
    STATE = (*Core.STATE, "timers", "_vi", "off", "stats")

    def __init__(self, ctx: CoreContext) -> None:
        obj = ctx.obj
        uc = Uc(UC_ARCH_ARM64, UC_MODE_ARM)
        uc.ctl_set_cpu_model(MODELS.get(obj.get("model"), a64.UC_CPU_ARM64_A57))
        uc.ctl_set_page_size(PAGE_SIZE)  # before anything starts the engine
        super().__init__(ctx, uc)
        self.regs = FastRegisters(uc)
        from unicorn.unicorn_py3 import unicorn as binding

        self._cp, self._reg_write = CpReg(), binding.uclib.uc_reg_write
        self.mmu = install(
            self, ctx.python_hooks
        )  # page tables walked by qconf (see qconf.arch.aarch64.mmu)
        install_sysregs(uc, self.mmu, self._read_sysreg, self._write_sysreg)
        uc.hook_add(UC_HOOK_INTR, self._on_exception)
        ids = {key: self._cp_read((0, key[0], 3, 0, key[1])) for key in features.READ}
        self.ids = features.id_overrides(ids)
        self.mpidr: int = obj.get("mpidr")
        self.ids[(0, 5)] = self.mpidr | (1 << 31)  # MPIDR_EL1 (bit 31 RES1): this core's
        self.pan = features.has_pan(self._cp_read((0, 7, 3, 0, 1)))
        self.cntfrq: int = obj.get("cntfrq")
        # timers[kind] = [ctl, cval] for kind 2 (physical EL1) and 3 (virtual)
        self.timers = {2: [0, 0], 3: [0, 0]}
        self.gic: Any = None  # the GIC's interface serving this core (it connects itself)
        self.off = False  # powered off (PSCI): waits for CPU_ON
        # what reached Python, for bench/linux.py
        self.stats = dict.fromkeys(("svc", "undefined", "brk", "aborts", "psci",
                                    "timer_reads"), 0)  # fmt: skip
        self._vi = False

    # --- reset and power ----------------------------------------------------------------

    def reset(self, entry: int, dtb: int = 0) -> None:
        self.pc = entry
        uc = self.uc
        uc.reg_write(a64.UC_ARM64_REG_PC, entry)
        uc.reg_write(a64.UC_ARM64_REG_X0, dtb)
        uc.reg_write(a64.UC_ARM64_REG_CP_REG, (*SCR_EL3, (1 << 10) | 1))
        uc.reg_write(a64.UC_ARM64_REG_CP_REG, (*HCR_EL2, HCR_RW | HCR_IMO))
        self.mmu.load_registers()
        self.mmu.set_memory(self.ram)
        set_map(self.mmu, uc)
        self.mmu.connect([p.mmu for p in self.peers if isinstance(p, Aarch64Core)])

    def memory_changed(self) -> None:
        set_map(self.mmu, self.uc)

    def skip_access_checks(self, skip: bool) -> bool:
        """As :meth:`Core.skip_access_checks`; on stock Unicorn through its engine
        structure (:mod:`qconf.arch.aarch64.engine`), stores it would refuse being refused
        by the TLB fill (:mod:`qconf.arch.aarch64.stores`)."""
        if super().skip_access_checks(skip):
            return True
        if skip:
            return stock_engine.skip_access_checks(self.uc)
        stock_engine.check_every_access(self.uc)
        return True

    def power_off(self) -> None:
        """Powered off until another core's PSCI ``CPU_ON`` (a secondary CPU)."""
        self.off = self.waiting = True

    def power_on(self, entry: int, context: int) -> None:
        """PSCI ``CPU_ON``: start at ``entry`` in EL1 with x0 = ``context``, the MMU off and
        every exception masked."""
        regs = self.regs
        regs.write(a64.UC_ARM64_REG_PSTATE, 0x3C5)
        sctlr = self._cp_read((1, 0, 3, 0, 0))
        self._cp_write((1, 0, 3, 0, 0), sctlr & ~1)  # MMU off; rebuilds Unicorn's flags
        regs.write(a64.UC_ARM64_REG_X0, context)
        regs.write(a64.UC_ARM64_REG_PC, entry)
        self.pc = entry
        self.mmu.load_registers()
        self.uc.ctl_flush_tb()
        self.off = self.waiting = False

    # --- system registers (Unicorn's CP_REG, without the binding's per-call set-up) -----

    def _cp_read(self, key: tuple[int, int, int, int, int]) -> int:
        cp = self._cp
        cp.crn, cp.crm, cp.op0, cp.op1, cp.op2 = key
        cp.val = 0
        from unicorn.unicorn_py3 import unicorn as binding

        binding.uclib.uc_reg_read(self.uc._uch, a64.UC_ARM64_REG_CP_REG, ctypes.byref(cp))
        return int(cp.val)

    def _cp_write(self, key: tuple[int, int, int, int, int], value: int) -> None:
        """Write a system register through Unicorn's register interface, which also
        rebuilds its cached execution state (EL, SP selection) from PSTATE."""
        cp = self._cp
        cp.crn, cp.crm, cp.op0, cp.op1, cp.op2 = key
        cp.val = value
        self._reg_write(self.uc._uch, a64.UC_ARM64_REG_CP_REG, ctypes.byref(cp))

    def el(self) -> int:
        """The current exception level."""
        return (self.regs.read(a64.UC_ARM64_REG_PSTATE) >> 2) & 3

    def state(self) -> dict[str, Any]:
        """As :meth:`Core.state`, with the translations the page-table walk remembers
        (a stale one the guest has not invalidated yet is what it would use)."""
        return {**super().state(), "translations": self.mmu.saved()}

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)
        self.mmu.load_saved(state["translations"])

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
                self.ctx.clock.at(when, wake)  # wake a waiting core then

    def _read_sysreg(self, reg: int, cp: Any) -> int:
        """``MRS`` of a register qconf serves: the timer, the ID registers (EL1 only: at
        EL0 Unicorn raises the undefined instruction Linux emulates)."""
        if cp.op1 == 0:
            value = self.ids.get((cp.crm, cp.op2))
            if value is None or self.el() == 0:
                return 0
        elif cp.crm == 0:
            self.stats["timer_reads"] += 1
            if cp.op2 != 0:  # a counter: a loop reading it may be a busy-wait
                self.note_time_read(self.regs.read(a64.UC_ARM64_REG_PC))
            value = self.cntfrq if cp.op2 == 0 else self.counter()
        elif cp.crm in self.timers:
            ctl, cval = self.timers[cp.crm]
            if cp.op2 == 0:  # TVAL: signed 32-bit distance to CVAL
                value = (cval - self.counter()) & 0xFFFFFFFF
            elif cp.op2 == 1:
                value = ctl | (4 if self.counter() >= cval and ctl & 1 else 0)  # ISTATUS
            else:
                value = cval
        else:
            return 0
        if reg != XZR:
            self.regs.write(reg, value)
        return 1

    def _write_sysreg(self, reg: int, cp: Any) -> int:
        if cp.crm not in self.timers:
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

    # --- running ------------------------------------------------------------------------

    def deliver(self) -> None:
        """Drive the virtual IRQ line from the GIC; a raised line wakes a waiting core (one
        powered off waits for ``CPU_ON``)."""
        if self.update_irq() and not self.off:
            self.waiting = False

    def run(self, budget: int) -> None:
        st = self.mmu.state
        if st.flush_pending:  # another core's broadcast tlbi, or code it changed
            if st.flush_pending & 1:
                from unicorn.unicorn_const import UC_CTL_IO_WRITE, UC_CTL_TLB_FLUSH

                self.uc.ctl(UC_CTL_TLB_FLUSH, UC_CTL_IO_WRITE)
            if st.flush_pending & 2:
                self.uc.ctl_flush_tb()
            st.flush_pending = 0
        self.mmu.fault()  # a probe's (uc_vmem_read) refusal is no fault of the guest
        st.refused_store = 0
        super().run(budget)

    def engine_error(self, error: UcError) -> bool:
        """A fault the page-table walk found: raise it in the guest. A store the fill
        refused (:mod:`qconf.arch.aarch64.stores`) is reported as Unicorn would have."""
        abort = self.mmu.fault()
        if abort is None:
            refused, self.mmu.state.refused_store = self.mmu.state.refused_store, 0
            if refused and not self.ctx.run.stopping:
                raise self.fault_report(UC_ERRORS[REFUSALS[refused]]) from None
            return False
        exceptions.take_abort(self, *abort)
        return True

    def update_irq(self) -> bool:
        """Set ``HCR_EL2.VI`` to the GIC's IRQ output now (also called from the GIC and the
        timer registers, so that an acknowledged or re-armed interrupt drops at once)."""
        level = self.gic is not None and self.gic.irq_level()
        if level != self._vi:
            self._vi = level
            if self.trace is not None:
                self.entered("IRQ line up (virtual IRQ: taken at VBAR_EL1 + 0x280 once "
                             "unmasked)" if level else "IRQ line down")  # fmt: skip
            self._cp_write(HCR_EL2, HCR_RW | HCR_IMO | (HCR_VI if level else 0))
        return bool(level)

    def read_insn(self, address: int) -> int | None:
        """The instruction at virtual ``address`` (through the MMU), None if unmapped."""
        code = read_code(self.uc, address, 4)
        return None if code is None else int.from_bytes(code, "little")

    def _on_exception(self, uc: Uc, intno: int, user_data: object) -> None:
        try:
            if not exceptions.synchronous(self, intno, psci.call):
                uc.emu_stop()
        except Exception as exc:  # recorded, raised after emu_start returns
            self.fault = self.fault_report(f"internal error in the exception hook: {exc!r}")
            uc.emu_stop()
