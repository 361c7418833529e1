"""AArch64 cores on Unicorn.

The core starts at EL1 at its program's entry with x0 = the device tree address (0 until
device trees exist). ``hvc``/``smc`` reach ``UC_HOOK_INTR`` as undefined instructions at
EL1 (Unicorn has no EL2/EL3 firmware): qconf answers them as the PSCI firmware QEMU's
``virt`` board emulates (``PSCI_VERSION``, ``SYSTEM_OFF``, ``SYSTEM_RESET``), so a guest
powers off the way it would on QEMU. Other exceptions stop the run with a report;
interrupts (GIC, generic timer) come later.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from unicorn import UC_ARCH_ARM64, UC_HOOK_INTR, UC_MODE_ARM, Uc, UcError
from unicorn import arm64_const as a64

from qconf.emu.faults import GuestFault, disassemble
from qconf.emu.riscv import UC_ERRORS, _errname
from qconf.emu.slices import make_budget, run_slice
from qconf.model.objects import Object

if TYPE_CHECKING:
    from qconf.emu.emulator import Emulation

__all__ = ("Aarch64Core",)

MODELS = {"cortex-a53": a64.UC_CPU_ARM64_A53, "cortex-a57": a64.UC_CPU_ARM64_A57,
          "cortex-a72": a64.UC_CPU_ARM64_A72, "max": a64.UC_CPU_ARM64_MAX}  # fmt: skip
HVC0, SMC0, WFI = 0xD4000002, 0xD4000003, 0xD503207F
PSCI_VERSION, SYSTEM_OFF, SYSTEM_RESET = 0x84000000, 0x84000008, 0x84000009
PSCI_NOT_SUPPORTED = (1 << 64) - 1
EXCEPTIONS = {1: "undefined instruction", 2: "supervisor call (svc) with no handler",
              3: "instruction abort (prefetch)", 4: "data abort", 7: "breakpoint"}  # fmt: skip


class Aarch64Core:
    """One AArch64 core."""

    arch = "aarch64"

    def __init__(self, obj: Object, emu: Emulation) -> None:
        self.obj = obj
        self.emu = emu
        self.uc = Uc(UC_ARCH_ARM64, UC_MODE_ARM)
        self.uc.ctl_set_cpu_model(MODELS.get(obj.get("model"), a64.UC_CPU_ARM64_A57))
        self.uc.hook_add(UC_HOOK_INTR, self._on_exception)
        self.freq: int = obj.get("freq")
        self.hartid = 0
        self.waiting = False
        self.instructions = 0
        self.fault: GuestFault | None = None
        self.pc = 0
        self.budget = make_budget(self.uc, emu)

    def reset(self, entry: int, dtb: int = 0) -> None:
        self.pc = entry
        self.uc.reg_write(a64.UC_ARM64_REG_PC, entry)
        self.uc.reg_write(a64.UC_ARM64_REG_X0, dtb)

    def close(self) -> None:
        del self.uc

    def run(self, budget: int) -> None:
        try:
            early = run_slice(self, self.pc, (1 << 64) - 1, budget)
        except UcError as exc:
            self.pc = self.uc.reg_read(a64.UC_ARM64_REG_PC)
            raise self._fault(UC_ERRORS.get(_errname(exc), str(exc))) from None
        self.pc = self.uc.reg_read(a64.UC_ARM64_REG_PC)
        if self.fault is not None:
            fault, self.fault = self.fault, None
            raise fault
        if self.emu.stopping or not early:
            return
        try:
            last = int.from_bytes(self.uc.mem_read(self.pc - 4, 4), "little")
        except UcError:
            last = 0
        if last == WFI:
            self.waiting = True

    def deliver(self, pending: int | None = None) -> None:
        """No interrupt controller is connected to AArch64 cores yet."""

    def _on_exception(self, uc: Uc, intno: int, user_data: object) -> None:
        try:
            pc = uc.reg_read(a64.UC_ARM64_REG_PC)
            insn = int.from_bytes(uc.mem_read(pc, 4), "little")
            if intno == 1 and insn in (HVC0, SMC0):
                self._psci(uc)
                uc.reg_write(a64.UC_ARM64_REG_PC, pc + 4)
                return
            self.fault = self._fault(EXCEPTIONS.get(intno, f"exception {intno}"), pc)
            uc.emu_stop()
        except Exception as exc:  # recorded, raised after emu_start returns
            self.fault = self._fault(f"internal error in the exception hook: {exc!r}")
            uc.emu_stop()

    def _psci(self, uc: Uc) -> None:
        function = uc.reg_read(a64.UC_ARM64_REG_X0)
        if function == PSCI_VERSION:
            uc.reg_write(a64.UC_ARM64_REG_X0, 0x10001)  # PSCI 1.1
        elif function == SYSTEM_OFF:
            self.emu.request_stop(0, f"{self.obj.key}: guest powered off (PSCI SYSTEM_OFF)")
            uc.emu_stop()
        elif function == SYSTEM_RESET:
            self.emu.request_stop(0, f"{self.obj.key}: guest asked for a reset (PSCI)")
            uc.emu_stop()
        else:
            uc.reg_write(a64.UC_ARM64_REG_X0, PSCI_NOT_SUPPORTED)

    def _fault(self, cause: str, pc: int | None = None) -> GuestFault:
        pc = self.pc if pc is None else pc
        try:
            code = bytes(self.uc.mem_read(pc, 4))
        except UcError:
            code = b""
        regs = {"pc": pc, "sp": int(self.uc.reg_read(a64.UC_ARM64_REG_SP)),
                "x30": int(self.uc.reg_read(a64.UC_ARM64_REG_X30))}  # fmt: skip
        for i in range(8):
            regs[f"x{i}"] = int(self.uc.reg_read(a64.UC_ARM64_REG_X0 + i))
        return GuestFault(self.obj.path, self.arch, pc, cause, disassemble(self.arch, code, pc),
                          regs, self.emu.time.now)  # fmt: skip
