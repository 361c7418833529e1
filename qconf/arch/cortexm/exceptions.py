"""Cortex-M exception entry and return, and the NVIC's choice of what to take.

An exception costs an entry (push the 8-word frame, switch to handler mode, read the
vector) and a return (``UC_HOOK_INTR`` with ``EXCEPTION_EXIT``: pop the frame, then
tail-chain into whatever is pending and preempts). Both are C
(``native_exceptions.c``, :class:`NativeExceptions`) where the extension is built: the
interrupt hook does them without calling Python, and leaves it only what is rare
(semihosting, faults, an svc that cannot be taken). Elsewhere, or with
``QCONF_NO_NATIVE=1``, :class:`PythonExceptions` takes the same steps in the same order
(which the engine's banking of SP on XPSR and CONTROL writes depends on): the same
guest output and instruction counts, only slower.

Both keep their state in the same ctypes structures: :class:`NvicState` (the NVIC's
enable, pending and priority registers and the levels of its inputs, which the NVIC
model reads and writes) and :class:`CoreState` (the core's active exceptions).
"""

from __future__ import annotations

import ctypes
import struct
from collections.abc import Callable, Sequence
from typing import Any

from unicorn import Uc, UcError
from unicorn import arm_const as arm

from qconf.emu import native

__all__ = ("CoreState", "Exceptions", "NvicState", "make_exceptions")

IRQS = 496
"""The most interrupts a v7-M NVIC has (``QC_CM_IRQS``)."""
WORDS = (IRQS + 31) // 32
ACTIVE = 16 + IRQS
REGS = (arm.UC_ARM_REG_R0, arm.UC_ARM_REG_R1, arm.UC_ARM_REG_R2, arm.UC_ARM_REG_R3,
        arm.UC_ARM_REG_R12, arm.UC_ARM_REG_LR, arm.UC_ARM_REG_PC, arm.UC_ARM_REG_SP,
        arm.UC_ARM_REG_MSP, arm.UC_ARM_REG_PSP, arm.UC_ARM_REG_XPSR, arm.UC_ARM_REG_IPSR,
        arm.UC_ARM_REG_CONTROL, arm.UC_ARM_REG_PRIMASK, arm.UC_ARM_REG_BASEPRI,
        arm.UC_ARM_REG_FAULTMASK)  # fmt: skip
"""Unicorn's numbers of ``enum qc_cm_reg``; the frame's six registers come first."""
FRAME = REGS[:6]
EXC_RETURN = 0xFFFFFFF9  # to thread mode, main stack
EXC_RETURN_PSP = 0xFFFFFFFD  # to thread mode, process stack
EXC_RETURN_HANDLER = 0xFFFFFFF1  # to the preempted handler
SWI, EXCEPTION_EXIT = 2, 8
SVCALL = 11
ERROR = 0x80000000
"""Added to a ``uc_err`` the native hook hands Python: an entry's or a return's memory
access failed."""


class NvicState(ctypes.Structure):
    """``qc_nvic`` in ``native_exceptions.h``."""

    _fields_ = [("enabled", ctypes.c_uint32 * WORDS), ("pend", ctypes.c_uint32 * WORDS),
                ("level", ctypes.c_uint32 * WORDS), ("prio", ctypes.c_uint8 * IRQS),
                ("shpr", ctypes.c_uint8 * 12), ("num_irq", ctypes.c_uint32),
                ("prigroup", ctypes.c_uint32), ("systick_pending", ctypes.c_uint32),
                ("pendsv_pending", ctypes.c_uint32), ("vtor", ctypes.c_uint32),
                ("vtor_set", ctypes.c_uint32)]  # fmt: skip


_PYTHON_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_uint32)


class CoreState(ctypes.Structure):
    """``qc_cm`` in ``native_exceptions.h``."""

    _fields_ = [("nvic", ctypes.POINTER(NvicState)), ("counter", ctypes.c_void_p),
                ("python", _PYTHON_CALLBACK), ("reg_read", ctypes.c_void_p),
                ("reg_write", ctypes.c_void_p), ("reg_read_batch", ctypes.c_void_p),
                ("reg_write_batch", ctypes.c_void_p), ("mem_read", ctypes.c_void_p),
                ("mem_write", ctypes.c_void_p), ("regs", ctypes.c_int32 * len(REGS)),
                ("vtor", ctypes.c_uint32), ("pc", ctypes.c_uint32),
                ("all_python", ctypes.c_uint32), ("depth", ctypes.c_uint32),
                ("entries", ctypes.c_uint64), ("active", ctypes.c_uint16 * ACTIVE)]  # fmt: skip


def group_priority_of(nvic: NvicState, value: int) -> int:
    """The part of a priority value that decides preemption (AIRCR.PRIGROUP)."""
    if value < 0:
        return value
    return value & ~((2 << int(nvic.prigroup)) - 1) & 0xFF


def priority(nvic: NvicState, number: int) -> int:
    """An exception's priority: fixed for reset, NMI and HardFault (-3, -2, -1), else
    its SHPR or IPR byte (lower is more urgent)."""
    if number < 4:
        return number - 4
    if number < 16:
        return int(nvic.shpr[number - 4])
    return int(nvic.prio[number - 16]) if number - 16 < nvic.num_irq else 256


def group_priority(nvic: NvicState, number: int) -> int:
    return group_priority_of(nvic, priority(nvic, number))


def pending_exception(nvic: NvicState, active: Sequence[int]) -> int | None:
    """The most urgent pending and enabled exception (lowest priority value, then lowest
    number), whether or not the core can take it now; an interrupt being handled is not
    pending again while its input stays high."""
    best: tuple[int, int] | None = None
    if nvic.pendsv_pending:
        best = (nvic.shpr[10], 14)
    if nvic.systick_pending:
        cand = (nvic.shpr[11], 15)
        best = cand if best is None or cand < best else best
    num_irq = nvic.num_irq
    for w in range((num_irq + 31) // 32):
        bits = (nvic.pend[w] | nvic.level[w]) & nvic.enabled[w]
        while bits:
            low = bits & -bits
            bits ^= low
            n = 32 * w + low.bit_length() - 1
            if n >= num_irq:
                break
            if 16 + n not in active and (best is None or nvic.prio[n] < best[0]):
                best = (nvic.prio[n], 16 + n)
    return None if best is None else best[1]


class Exceptions:
    """One core's exception entry and return (the interface both the native and the
    Python implementations give). ``pc`` is the core's pc after the last entry or
    return; ``active`` the exceptions being handled, the innermost last.

    :param uc: the engine.
    :param vtor: the vector table at reset (the NVIC's VTOR, once written, overrides it).
    """

    def __init__(self, uc: Uc, vtor: int) -> None:
        self.uc = uc
        self.state = CoreState()
        self.state.vtor = vtor
        self.state.regs[:] = list(REGS)
        self._nvic: NvicState | None = None

    @property
    def nvic(self) -> NvicState | None:
        """The state of the NVIC serving the core (None: none does)."""
        return self._nvic

    @nvic.setter
    def nvic(self, nvic: NvicState | None) -> None:
        self._nvic = nvic
        self.state.nvic = ctypes.pointer(nvic) if nvic is not None else None

    @property
    def active(self) -> list[int]:
        s = self.state
        return list(s.active[: s.depth])

    @active.setter
    def active(self, numbers: Sequence[int]) -> None:
        self.state.depth = len(numbers)
        self.state.active[: len(numbers)] = list(numbers)

    @property
    def pc(self) -> int:
        return int(self.state.pc)

    @pc.setter
    def pc(self, pc: int) -> None:
        self.state.pc = pc

    @property
    def entries(self) -> int:
        """Exceptions entered natively (Python counts none)."""
        return int(self.state.entries)

    def pending(self) -> int | None:
        """The NVIC's most urgent pending exception, takeable or not."""
        raise NotImplementedError

    def execution_priority(self, primask: bool = True) -> int:
        """The priority the core runs at: its active exceptions', lowered by BASEPRI,
        PRIMASK (unless ``primask`` is false) and FAULTMASK; 256 in thread mode with
        nothing masked. Needs an NVIC."""
        raise NotImplementedError

    def takeable(self, number: int | None = None, primask: bool = True) -> int | None:
        """The pending exception (``number``, else the most urgent) if it would preempt
        what runs now."""
        raise NotImplementedError

    def masked(self) -> bool:
        """Whether an exception is pending that only BASEPRI, PRIMASK or FAULTMASK keep
        from preempting: an unmask would make it takeable at once."""
        raise NotImplementedError

    def urgent(self) -> bool:
        """Whether a pending exception preempts the active ones: it is takeable, or will
        be once BASEPRI, PRIMASK or FAULTMASK allow. If not, only an exception return can
        make one takeable, and the return takes it (tail-chaining)."""
        raise NotImplementedError

    def enter(self, number: int, return_pc: int) -> None:
        """Exception entry as v7-M does it: the 8-word frame on the stack in use (PSP in
        thread mode with CONTROL.SPSEL), then handler mode on the main stack with LR =
        EXC_RETURN (0xFFFFFFF1 from a handler, 0xFFFFFFF9 / 0xFFFFFFFD from thread mode
        on MSP / PSP), pc = the vector. The FPU's context is not stacked.

        :raises UcError: the stack or the vector table cannot be accessed.
        """
        raise NotImplementedError

    def unstack(self, exc_return: int) -> None:
        """Exception return: unstack from the stack EXC_RETURN names, back to the mode it
        names (the caller tail-chains).

        :raises UcError: the stack cannot be read.
        """
        raise NotImplementedError

    def hook(self, python: Callable[[int], None], all_python: bool) -> None:
        """Install the interrupt hook: it returns from exceptions, tail-chains and enters
        SVCall itself, and calls ``python`` with the interrupt number for the rest (or
        for everything, if ``all_python``: a tracer shows each entry)."""
        raise NotImplementedError

    def set_all_python(self, on: bool) -> None:
        """Whether the hook hands every interrupt to Python."""


class PythonExceptions(Exceptions):
    """The algorithm of ``native_exceptions.c`` in Python (the Python hook does all)."""

    def __init__(self, uc: Uc, vtor: int) -> None:
        from qconf.emu.core import FastRegisters

        super().__init__(uc, vtor)
        self._registers = FastRegisters(uc)
        self._frame = FrameRegisters(uc)

    def pending(self) -> int | None:
        nvic = self._nvic
        return None if nvic is None else pending_exception(nvic, self.active)

    def _active_priority(self, nvic: NvicState) -> int:
        return min((group_priority(nvic, n) for n in self.active), default=256)

    def execution_priority(self, primask: bool = True) -> int:
        nvic = self._nvic
        assert nvic is not None
        prio = self._active_priority(nvic)
        read = self._registers.read
        basepri = read(arm.UC_ARM_REG_BASEPRI) & 0xFF
        if basepri:
            prio = min(prio, group_priority_of(nvic, basepri))
        if primask and read(arm.UC_ARM_REG_PRIMASK) & 1:
            prio = min(prio, 0)
        if read(arm.UC_ARM_REG_FAULTMASK) & 1:
            prio = min(prio, -1)
        return prio

    def takeable(self, number: int | None = None, primask: bool = True) -> int | None:
        nvic = self._nvic
        if nvic is None:
            return None
        if number is None:
            number = self.pending()
        if number is None or group_priority(nvic, number) >= self.execution_priority(primask):
            return None
        return number

    def masked(self) -> bool:
        nvic = self._nvic
        number = self.pending()
        if nvic is None or number is None:
            return False
        active = self._active_priority(nvic)
        return group_priority(nvic, number) < active and self.takeable(number) is None

    def urgent(self) -> bool:
        nvic = self._nvic
        number = self.pending()
        if nvic is None or number is None:
            return False
        return group_priority(nvic, number) < self._active_priority(nvic)

    def enter(self, number: int, return_pc: int) -> None:
        uc, nvic, regs, s = self.uc, self._nvic, self._registers, self.state
        assert nvic is not None
        in_handler = regs.read(arm.UC_ARM_REG_IPSR) != 0
        control = regs.read(arm.UC_ARM_REG_CONTROL)
        on_psp = not in_handler and bool(control & 2)
        sp = regs.read(arm.UC_ARM_REG_SP)
        xpsr = regs.read(arm.UC_ARM_REG_XPSR)
        align = sp & 4
        sp = (sp - 32) & 0xFFFFFFF8
        frame = [*self._frame.read(), return_pc, xpsr | (align << 7)]
        uc.mem_write(sp, struct.pack("<8I", *frame))
        regs.write(arm.UC_ARM_REG_SP, sp)
        if on_psp:  # onto the main stack (in thread mode, so the engine swaps them)
            regs.write(arm.UC_ARM_REG_CONTROL, control & ~2)
        regs.write(arm.UC_ARM_REG_LR, EXC_RETURN_HANDLER if in_handler else
                     EXC_RETURN_PSP if on_psp else EXC_RETURN)  # fmt: skip
        regs.write(arm.UC_ARM_REG_XPSR, (1 << 24) | number)
        if number == 15:  # acknowledged: no longer pending
            nvic.systick_pending = 0
        elif number == 14:
            nvic.pendsv_pending = 0
        elif number >= 16:
            nvic.pend[(number - 16) >> 5] &= ~(1 << ((number - 16) & 31))
        if s.depth < ACTIVE:
            s.active[s.depth] = number
            s.depth += 1
        vtor = nvic.vtor if nvic.vtor_set else s.vtor
        (vector,) = struct.unpack("<I", bytes(uc.mem_read(vtor + 4 * number, 4)))
        s.pc = vector & ~1
        regs.write(arm.UC_ARM_REG_PC, s.pc | 1)

    def unstack(self, exc_return: int) -> None:
        regs, s = self._registers, self.state
        if s.depth:
            s.depth -= 1
        to_thread, from_psp = bool(exc_return & 8), bool(exc_return & 4)
        sp = regs.read(arm.UC_ARM_REG_PSP if from_psp else arm.UC_ARM_REG_MSP)
        *saved, pc, xpsr = struct.unpack("<8I", bytes(self.uc.mem_read(sp, 32)))
        self._frame.write(saved)
        regs.write(arm.UC_ARM_REG_XPSR, xpsr & ~(1 << 9))  # the mode it was in
        if to_thread and from_psp:  # back onto the process stack
            regs.write(arm.UC_ARM_REG_CONTROL, regs.read(arm.UC_ARM_REG_CONTROL) | 2)
        regs.write(arm.UC_ARM_REG_SP, (sp + 32 + (4 if xpsr >> 9 & 1 else 0)) & 0xFFFFFFFF)
        s.pc = pc & ~1
        regs.write(arm.UC_ARM_REG_PC, pc | 1)

    def hook(self, python: Callable[[int], None], all_python: bool) -> None:
        from unicorn import UC_HOOK_INTR

        self.uc.hook_add(UC_HOOK_INTR, lambda uc, intno, data: python(intno))


class NativeExceptions(Exceptions):
    """The functions of ``native_exceptions.c``, called through ctypes between slices and
    installed as the interrupt hook."""

    def __init__(self, uc: Uc, vtor: int, counter: Any, hooks: dict[str, int]) -> None:
        super().__init__(uc, vtor)
        s, h, ref = self.state, hooks, ctypes.byref(self.state)
        s.counter = ctypes.addressof(counter)
        self._counter = counter  # (the hook uses it)
        for name in ("reg_read", "reg_write", "reg_read_batch", "reg_write_batch",
                     "mem_read", "mem_write"):  # fmt: skip
            setattr(s, name, native.address_of(f"uc_{name}"))
        i32, u32, ptr, fn = ctypes.c_int32, ctypes.c_uint32, ctypes.c_void_p, ctypes.CFUNCTYPE
        self._handle, self._ref = uc._uch, ref
        self._pending: Any = fn(i32, ptr)(h["cm_pending"])
        self._takeable: Any = fn(i32, ptr, ptr, i32, u32)(h["cm_takeable"])
        self._masked: Any = fn(u32, ptr, ptr)(h["cm_masked"])
        self._urgent: Any = fn(u32, ptr)(h["cm_urgent"])
        self._priority: Any = fn(i32, ptr, ptr, u32)(h["cm_execution_priority"])
        self._enter: Any = fn(u32, ptr, ptr, u32, u32)(h["cm_enter"])
        self._unstack: Any = fn(u32, ptr, ptr, u32)(h["cm_unstack"])
        self._hooks = hooks

    def pending(self) -> int | None:
        number = int(self._pending(self._ref))
        return None if number < 0 else number

    def execution_priority(self, primask: bool = True) -> int:
        return int(self._priority(self._handle, self._ref, int(primask)))

    def takeable(self, number: int | None = None, primask: bool = True) -> int | None:
        number = -1 if number is None else number
        found = int(self._takeable(self._handle, self._ref, number, int(primask)))
        return None if found < 0 else found

    def masked(self) -> bool:
        return bool(self._masked(self._handle, self._ref))

    def urgent(self) -> bool:
        return bool(self._urgent(self._ref))

    def enter(self, number: int, return_pc: int) -> None:
        err = int(self._enter(self._handle, self._ref, number, return_pc))
        if err:
            raise UcError(err)

    def unstack(self, exc_return: int) -> None:
        err = int(self._unstack(self._handle, self._ref, exc_return))
        if err:
            raise UcError(err)

    def hook(self, python: Callable[[int], None], all_python: bool) -> None:
        from unicorn import UC_HOOK_INTR

        callback = _PYTHON_CALLBACK(python)
        self.state.python = callback
        self.state.all_python = int(all_python)
        native.hook_add(self.uc, UC_HOOK_INTR, self._hooks["cm_intr"], self.state,
                        keep=(callback,))  # fmt: skip

    def set_all_python(self, on: bool) -> None:
        self.state.all_python = int(on)


class FrameRegisters:
    """The six registers of an exception frame besides pc and xPSR, read or written in
    one call into the engine (``uc_reg_read_batch``)."""

    def __init__(self, uc: Uc) -> None:
        from unicorn.unicorn_py3 import unicorn as binding

        self._handle = uc._uch
        self._read = binding.uclib.uc_reg_read_batch
        self._write = binding.uclib.uc_reg_write_batch
        count = len(FRAME)
        self._values = (ctypes.c_uint64 * count)()
        self._regs = (ctypes.c_int * count)(*FRAME)
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


def make_exceptions(uc: Uc, vtor: int, counter: Any) -> Exceptions:
    """The exception entry and return for ``uc``: native where the extension is built
    and allowed (``counter`` is then the native counter's state), else Python."""
    hooks = native.hooks()
    if hooks is None or counter is None:
        return PythonExceptions(uc, vtor)
    sizes = native.sizes()
    mine = {"cm": ctypes.sizeof(CoreState), "nvic": ctypes.sizeof(NvicState)}
    assert {k: sizes[k] for k in mine} == mine, sizes
    return NativeExceptions(uc, vtor, counter, hooks)
