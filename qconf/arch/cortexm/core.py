"""Cortex-M cores on Unicorn, with the exception model Unicorn leaves to its user.

Unicorn has no NVIC and does not take exceptions by itself: at reset this module reads
the vector table (SP, then the reset handler), and between quanta it enters the highest
pending exception the NVIC model offers (pushing the 8-word frame, LR = EXC_RETURN,
IPSR = the exception number, pc = its vector). Exception return (``bx lr`` to
0xFFFFFFF9) reaches ``UC_HOOK_INTR``, where the frame is popped. Entry and return are
:mod:`qconf.arch.cortexm.exceptions`' (native where the extension is built). Semihosting
(``bkpt 0xab``) handles SYS_EXIT, SYS_EXIT_EXTENDED, SYS_WRITEC and SYS_WRITE0, as
QEMU's ``-semihosting`` does, so test programs can end the run with a status.
"""

from __future__ import annotations

import struct
import sys
from typing import Any

from unicorn import UC_ARCH_ARM, UC_MODE_MCLASS, UC_MODE_THUMB, Uc, UcError
from unicorn import arm_const as arm

from qconf.arch.cortexm.exceptions import ERROR, EXCEPTION_EXIT, SVCALL, SWI, make_exceptions
from qconf.emu.context import CoreContext
from qconf.emu.core import Core
from qconf.emu.counting import NativeCounter

__all__ = ("CortexM",)

MODELS = {"cortex-m0": "UC_CPU_ARM_CORTEX_M0", "cortex-m3": "UC_CPU_ARM_CORTEX_M3",
          "cortex-m4": "UC_CPU_ARM_CORTEX_M4"}  # fmt: skip
BKPT = 7
ENGINE_REGS = (arm.UC_ARM_REG_XPSR, arm.UC_ARM_REG_CONTROL, arm.UC_ARM_REG_MSP,
               arm.UC_ARM_REG_PSP, arm.UC_ARM_REG_PRIMASK, arm.UC_ARM_REG_BASEPRI,
               arm.UC_ARM_REG_FAULTMASK,
               *(getattr(arm, f"UC_ARM_REG_R{n}") for n in range(13)),
               arm.UC_ARM_REG_LR, arm.UC_ARM_REG_PC, arm.UC_ARM_REG_FPSCR,
               *(getattr(arm, f"UC_ARM_REG_S{n}") for n in range(32)))  # fmt: skip
"""A checkpoint's Cortex-M registers, in the order they are written back."""
ADP_STOPPED_APPLICATION_EXIT = 0x20026

EXCEPTION_NAMES = {2: "NMI", 3: "HardFault", 4: "MemManage", 5: "BusFault", 6: "UsageFault",
                   11: "SVCall", 12: "DebugMonitor", 14: "PendSV", 15: "SysTick"}  # fmt: skip


class CortexM(Core):
    """One Cortex-M core (thread mode on the main stack)."""

    PC = arm.UC_ARM_REG_PC
    WAITS = (b"\x30\xbf", b"\x20\xbf")  # wfi, wfe
    UNTIL = 0xFFFFFFFF
    STATE = (*Core.STATE, "active")

    def __init__(self, ctx: CoreContext) -> None:
        import unicorn

        obj = ctx.obj
        model = getattr(unicorn.arm_const, MODELS.get(obj.info.name, "UC_CPU_ARM_CORTEX_M3"))
        super().__init__(ctx, Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS), model)
        self.vtor: int = obj.get("vtor") or 0
        counter = self.counting
        native = counter.state if isinstance(counter, NativeCounter) else None
        self.exceptions = make_exceptions(self.uc, self.vtor, native)
        self.exceptions.hook(self._on_exception, self.trace is not None)
        self._nvic: Any = None

    @property
    def nvic(self) -> Any:
        """The NVIC serving this core (it connects itself), or None."""
        return self._nvic

    @nvic.setter
    def nvic(self, nvic: Any) -> None:
        self._nvic = nvic
        self.exceptions.nvic = None if nvic is None else nvic.state_struct

    @property
    def active(self) -> list[int]:
        """The exceptions being handled, the innermost last."""
        return self.exceptions.active

    @active.setter
    def active(self, numbers: list[int]) -> None:
        self.exceptions.active = numbers

    @property
    def trace(self) -> Any:
        return self.__dict__.get("_trace")

    @trace.setter
    def trace(self, tracer: Any) -> None:
        # a tracer shows every entry: the native hook then hands every exception to Python
        self.__dict__["_trace"] = tracer
        exceptions = self.__dict__.get("exceptions")
        if exceptions is not None:
            exceptions.set_all_python(tracer is not None)

    def reset(self, entry: int | None, dtb: int = 0) -> None:
        sp, vector = struct.unpack("<II", bytes(self.uc.mem_read(self.vtor, 8)))
        start = self.obj.get("reset_vector")
        self.pc = (start if start is not None else vector) & ~1
        self.uc.reg_write(arm.UC_ARM_REG_SP, sp)
        self.uc.reg_write(arm.UC_ARM_REG_LR, 0xFFFFFFFF)

    def start_address(self) -> int:
        return self.pc | 1  # Thumb

    def engine_state(self) -> bytes:
        """The registers, by name: on M-profile cores Unicorn's context also holds the
        MPU's heap pointers (PMSAv7/v8, SAU), which must not travel to another engine."""
        return struct.pack(f"<{len(ENGINE_REGS)}I",
                           *(self.uc.reg_read(r) & 0xFFFFFFFF for r in ENGINE_REGS))  # fmt: skip

    def load_engine_state(self, data: bytes) -> None:
        """Put the registers back: xPSR first (its IPSR says handler or thread mode), then
        CONTROL (SPSEL) and both stack pointers, which then land in their own banks."""
        from qconf.emu.state import StateError

        if len(data) != 4 * len(ENGINE_REGS):
            raise StateError(f"Cortex-M registers of {len(data)} bytes, not {4 * len(ENGINE_REGS)}")
        for reg, value in zip(ENGINE_REGS, struct.unpack(f"<{len(ENGINE_REGS)}I", data),
                              strict=True):  # fmt: skip
            self.uc.reg_write(reg, value)
        self.uc.ctl_flush_tb()

    # --- exceptions -----------------------------------------------------------------

    def execution_priority(self, primask: bool = True) -> int:
        """The priority the core runs at: its active exceptions', lowered by BASEPRI,
        PRIMASK (unless ``primask`` is false) and FAULTMASK; 256 in thread mode with
        nothing masked."""
        return self.exceptions.execution_priority(primask)

    def takeable(self, number: int | None = None, primask: bool = True) -> int | None:
        """The pending exception (``number``, else the NVIC's most urgent) if it would
        preempt what runs now."""
        return self.exceptions.takeable(number, primask)

    def masked(self) -> bool:
        """Whether an exception is pending that only BASEPRI, PRIMASK or FAULTMASK keep
        from preempting: an unmask would make it takeable at once."""
        return self.exceptions.masked()

    def run(self, budget: int) -> None:
        """As :meth:`Core.run`; while an exception waits only for an unmask, one block at a
        time, so that it is taken before the instruction after the unmask. Unicorn ends a
        translated block after ``msr basepri``/``primask``/``faultmask`` and ``cps``, and
        the counter's block hook ends the slice at the next block's start."""
        self.exceptions.pc = self.pc  # what core.pc holds until an entry or return
        if not self.masked():
            super().run(budget)
            return
        start = self.instructions
        while True:
            super().run(1)  # one block (exact timing: one instruction)
            done = self.instructions - start
            if (done >= budget or self.waiting or self.ctx.run.stopping
                    or self.takeable() is not None):  # fmt: skip
                return  # the scheduler delivers it, before the next instruction
            if not self.masked():  # (a handler that ran cleared it, or it was taken)
                super().run(budget - done)
                return

    def deliver(self) -> None:
        """Enter the exception the NVIC offers, if its priority preempts the core's."""
        exceptions = self.exceptions
        number = exceptions.pending()
        if number is None:
            return
        if self.waiting and exceptions.takeable(number, primask=False) is not None:
            self.waiting = False  # wfi wakes for what could preempt, PRIMASK aside
        if exceptions.takeable(number) is not None:
            self._enter(number, self.pc)

    def _enter(self, number: int, return_pc: int) -> None:
        """Enter exception ``number`` (:meth:`Exceptions.enter`), returning to
        ``return_pc``."""
        self.exceptions.enter(number, return_pc)
        self.pc = self.exceptions.pc
        self.waiting = False
        if self.trace is not None:
            name = EXCEPTION_NAMES.get(number) or f"IRQ {number - 16}"
            self.entered(f"exception {number} ({name}) at {return_pc:#x} -> {self.pc:#x}")

    def _return(self, exc_return: int) -> None:
        """Exception return; a pending exception that now preempts is taken at once
        (tail-chaining)."""
        exceptions = self.exceptions
        exceptions.unstack(exc_return)
        self.pc = exceptions.pc
        number = exceptions.takeable()
        if number is not None:  # tail-chain
            self._enter(number, self.pc)

    def _on_exception(self, intno: int) -> None:
        """The interrupt hook's work (all of it in Python; what the native hook leaves)."""
        uc = self.uc
        try:
            if intno & ERROR:  # the native hook's entry or return could not access memory
                self.pc = self.exceptions.pc
                raise UcError(intno & ~ERROR)
            if intno == EXCEPTION_EXIT:
                self._return(self._registers.read(arm.UC_ARM_REG_PC) | 1)
                return
            pc = self._registers.read(arm.UC_ARM_REG_PC)
            self.exception_at(pc - 2 if intno == SWI else pc)  # svc: pc is past it
            if intno == SWI and self.nvic is not None:  # svc: pc is past it already
                if self.takeable(SVCALL) is None:
                    self.fault = self.fault_report(
                        "svc with SVCall masked or not above the running priority (a "
                        "HardFault on hardware)", pc - 2)  # fmt: skip
                    uc.emu_stop()
                    return
                self._enter(SVCALL, pc)
                return
            insn = int.from_bytes(uc.mem_read(pc, 2), "little")
            if intno == BKPT and insn == 0xBEAB:
                self._semihost(uc)
                uc.reg_write(arm.UC_ARM_REG_PC, (pc + 2) | 1)
                return
            self.fault = self.fault_report(f"exception {intno} the core cannot take", pc)
            uc.emu_stop()
        except Exception as exc:  # recorded, raised after emu_start returns
            self.fault = self.fault_report(f"internal error in the exception hook: {exc!r}")
            uc.emu_stop()

    def _semihost(self, uc: Uc) -> None:
        op, arg = uc.reg_read(arm.UC_ARM_REG_R0), uc.reg_read(arm.UC_ARM_REG_R1)
        if op == 0x18:  # SYS_EXIT
            code = 0 if arg == ADP_STOPPED_APPLICATION_EXIT else 1
            self.ctx.run.request_stop(code, f"{self.obj.key}: semihosting exit (status {code})")
            uc.emu_stop()
        elif op == 0x20:  # SYS_EXIT_EXTENDED
            reason, code = struct.unpack("<II", bytes(uc.mem_read(arg, 8)))
            status = code & 0xFF if reason == ADP_STOPPED_APPLICATION_EXIT else 1
            self.ctx.run.request_stop(status, f"{self.obj.key}: semihosting exit (status {status})")
            uc.emu_stop()
        elif op == 0x03:  # SYS_WRITEC
            self._output(chr(uc.mem_read(arg, 1)[0]))
        elif op == 0x04:  # SYS_WRITE0
            text = bytearray()
            while (b := uc.mem_read(arg + len(text), 1)[0]) != 0:
                text.append(b)
            self._output(text.decode("latin-1"))
        else:
            uc.reg_write(arm.UC_ARM_REG_R0, 0xFFFFFFFF)

    def _output(self, text: str) -> None:
        write = self.ctx.output or sys.stdout.write
        write(text)
