"""Cortex-M cores on Unicorn, with the exception model Unicorn leaves to its user.

Unicorn has no NVIC and does not take exceptions by itself: at reset this module reads
the vector table (SP, then the reset handler), and between quanta it enters the highest
pending exception the NVIC model offers (pushing the 8-word frame, LR = EXC_RETURN,
IPSR = the exception number, pc = its vector). Exception return (``bx lr`` to
0xFFFFFFF9) reaches ``UC_HOOK_INTR``, where the frame is popped. Semihosting
(``bkpt 0xab``) handles SYS_EXIT, SYS_EXIT_EXTENDED, SYS_WRITEC and SYS_WRITE0, as
QEMU's ``-semihosting`` does, so test programs can end the run with a status.
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Sequence
from typing import Any

from unicorn import UC_ARCH_ARM, UC_HOOK_INTR, UC_MODE_MCLASS, UC_MODE_THUMB, Uc
from unicorn import arm_const as arm

from qconf.emu.context import CoreContext
from qconf.emu.core import Core

__all__ = ("CortexM",)

MODELS = {"cortex-m0": "UC_CPU_ARM_CORTEX_M0", "cortex-m3": "UC_CPU_ARM_CORTEX_M3",
          "cortex-m4": "UC_CPU_ARM_CORTEX_M4"}  # fmt: skip
FRAME_REGS = (arm.UC_ARM_REG_R0, arm.UC_ARM_REG_R1, arm.UC_ARM_REG_R2, arm.UC_ARM_REG_R3,
              arm.UC_ARM_REG_R12, arm.UC_ARM_REG_LR)  # fmt: skip
EXC_RETURN = 0xFFFFFFF9  # to thread mode, main stack
EXC_RETURN_PSP = 0xFFFFFFFD  # to thread mode, process stack
EXC_RETURN_HANDLER = 0xFFFFFFF1  # to the preempted handler
SWI, BKPT, EXCEPTION_EXIT = 2, 7, 8
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


class FrameRegisters:
    """The six registers of an exception frame besides pc and xPSR, read or written in
    one call into the engine (``uc_reg_read_batch``): an exception's entry and return
    cost that many register accesses each."""

    def __init__(self, uc: Uc) -> None:
        import ctypes

        from unicorn.unicorn_py3 import unicorn as binding

        self._handle = uc._uch
        self._read = binding.uclib.uc_reg_read_batch
        self._write = binding.uclib.uc_reg_write_batch
        count = len(FRAME_REGS)
        self._values = (ctypes.c_uint64 * count)()
        self._regs = (ctypes.c_int * count)(*FRAME_REGS)
        self._ptrs = (ctypes.c_void_p * count)(
            *(ctypes.addressof(self._values) + 8 * i for i in range(count))
        )
        self._count = count

    def read(self) -> list[int]:
        values = self._values
        for i in range(self._count):
            values[i] = 0  # 32-bit registers fill half of each
        self._read(self._handle, self._regs, self._ptrs, self._count)
        return list(values)

    def write(self, values: Sequence[int]) -> None:
        self._values[:] = list(values)
        self._write(self._handle, self._regs, self._ptrs, self._count)


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
        self.uc.hook_add(UC_HOOK_INTR, self._on_exception)
        self.vtor: int = obj.get("vtor") or 0
        self.nvic: Any = None  # the NVIC serving this core (it connects itself)
        self.active: list[int] = []  # exceptions being handled, the innermost last
        self._frame = FrameRegisters(self.uc)

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
        nvic = self.nvic
        prio = min((nvic.group_priority(n) for n in self.active), default=256)
        regs = self._registers
        basepri = regs.read(arm.UC_ARM_REG_BASEPRI) & 0xFF
        if basepri:
            prio = min(prio, nvic.group_priority_of(basepri))
        if primask and regs.read(arm.UC_ARM_REG_PRIMASK) & 1:
            prio = min(prio, 0)
        if regs.read(arm.UC_ARM_REG_FAULTMASK) & 1:
            prio = min(prio, -1)
        return int(prio)

    def takeable(self, number: int | None = None, primask: bool = True) -> int | None:
        """The pending exception (``number``, else the NVIC's most urgent) if it would
        preempt what runs now."""
        nvic = self.nvic
        if nvic is None:
            return None
        if number is None:
            number = nvic.pending_exception()
        if number is None or nvic.group_priority(number) >= self.execution_priority(primask):
            return None
        return int(number)

    def masked(self) -> bool:
        """Whether an exception is pending that only BASEPRI, PRIMASK or FAULTMASK keep
        from preempting: an unmask would make it takeable at once."""
        nvic = self.nvic
        if nvic is None:
            return False
        number = nvic.pending_exception()
        if number is None:
            return False
        active = min((nvic.group_priority(n) for n in self.active), default=256)
        return bool(nvic.group_priority(number) < active) and self.takeable(number) is None

    def run(self, budget: int) -> None:
        """As :meth:`Core.run`; while an exception waits only for an unmask, one block at a
        time, so that it is taken before the instruction after the unmask. Unicorn ends a
        translated block after ``msr basepri``/``primask``/``faultmask`` and ``cps``, and
        the counter's block hook ends the slice at the next block's start."""
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
        nvic = self.nvic
        if nvic is None:
            return
        number = nvic.pending_exception()
        if number is None:
            return
        if self.waiting and self.takeable(number, primask=False) is not None:
            self.waiting = False  # wfi wakes for what could preempt, PRIMASK aside
        if self.takeable(number) is not None:
            self._enter(number, self.pc)

    def _enter(self, number: int, return_pc: int) -> None:
        """Exception entry as v7-M does it: the 8-word frame on the stack in use (PSP in
        thread mode with CONTROL.SPSEL), then handler mode on the main stack with LR =
        EXC_RETURN (0xFFFFFFF1 from a handler, 0xFFFFFFF9 / 0xFFFFFFFD from thread mode
        on MSP / PSP). The FPU's context is not stacked (no lazy FP stacking)."""
        uc, nvic, regs = self.uc, self.nvic, self._registers
        in_handler = regs.read(arm.UC_ARM_REG_IPSR) != 0
        control = regs.read(arm.UC_ARM_REG_CONTROL)
        on_psp = not in_handler and bool(control & 2)
        sp = regs.read(arm.UC_ARM_REG_SP)
        xpsr = regs.read(arm.UC_ARM_REG_XPSR)
        align = sp & 4
        sp = (sp - 32) & ~7
        frame = [*self._frame.read(), return_pc, xpsr | (align << 7)]
        uc.mem_write(sp, struct.pack("<8I", *frame))
        regs.write(arm.UC_ARM_REG_SP, sp)
        if on_psp:  # onto the main stack (in thread mode, so the engine swaps them)
            regs.write(arm.UC_ARM_REG_CONTROL, control & ~2)
        regs.write(arm.UC_ARM_REG_LR, EXC_RETURN_HANDLER if in_handler else
                     EXC_RETURN_PSP if on_psp else EXC_RETURN)  # fmt: skip
        regs.write(arm.UC_ARM_REG_XPSR, (1 << 24) | number)
        nvic.acknowledge(number)
        self.active.append(number)
        vtor = nvic.vtor if nvic.vtor is not None else self.vtor
        (vector,) = struct.unpack("<I", bytes(uc.mem_read(vtor + 4 * number, 4)))
        self.pc = vector & ~1
        regs.write(arm.UC_ARM_REG_PC, self.pc | 1)
        self.waiting = False
        if self.trace is not None:
            name = EXCEPTION_NAMES.get(number) or f"IRQ {number - 16}"
            self.entered(f"exception {number} ({name}) at {return_pc:#x} -> {self.pc:#x}")

    def _return(self, uc: Uc, exc_return: int) -> None:
        """Exception return: unstack from the stack EXC_RETURN names, back to the mode it
        names; a pending exception that now preempts is taken at once (tail-chaining)."""
        regs = self._registers
        if self.active:
            self.active.pop()
        to_thread, from_psp = bool(exc_return & 8), bool(exc_return & 4)
        sp = regs.read(arm.UC_ARM_REG_PSP if from_psp else arm.UC_ARM_REG_MSP)
        *saved, pc, xpsr = struct.unpack("<8I", bytes(uc.mem_read(sp, 32)))
        self._frame.write(saved)
        regs.write(arm.UC_ARM_REG_XPSR, xpsr & ~(1 << 9))  # the mode it was in
        if to_thread and from_psp:  # back onto the process stack
            control = regs.read(arm.UC_ARM_REG_CONTROL)
            regs.write(arm.UC_ARM_REG_CONTROL, control | 2)
        regs.write(arm.UC_ARM_REG_SP, sp + 32 + (4 if xpsr >> 9 & 1 else 0))
        self.pc = pc & ~1
        regs.write(arm.UC_ARM_REG_PC, pc | 1)
        number = self.takeable()
        if number is not None:  # tail-chain
            self._enter(number, self.pc)

    def _on_exception(self, uc: Uc, intno: int, user_data: object) -> None:
        try:
            if intno == EXCEPTION_EXIT:
                self._return(uc, self._registers.read(arm.UC_ARM_REG_PC) | 1)
                return
            pc = self._registers.read(arm.UC_ARM_REG_PC)
            self.exception_at(pc - 2 if intno == SWI else pc)  # svc: pc is past it
            if intno == SWI and self.nvic is not None:  # svc: pc is past it already
                if self.nvic.group_priority(11) >= self.execution_priority():
                    self.fault = self.fault_report(
                        "svc with SVCall masked or not above the running priority (a "
                        "HardFault on hardware)", pc - 2)  # fmt: skip
                    uc.emu_stop()
                    return
                self._enter(11, pc)
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
