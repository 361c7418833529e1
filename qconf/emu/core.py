"""What every CPU model shares: its Unicorn instance, running one time slice with its
instruction counter (:mod:`qconf.emu.counting`), noticing ``wfi``, and turning Unicorn's
errors and recorded faults into guest fault reports."""

from __future__ import annotations

from typing import Any, ClassVar

from unicorn import Uc, UcError

from qconf.emu.context import CoreContext
from qconf.emu.counting import Counter, make_counter
from qconf.emu.faults import GuestFault
from qconf.model.facets import ArchInfo

__all__ = ("UC_ERRORS", "Core", "FastRegisters", "close_engine", "error_name")

POLL_WINDOW = 256  # instructions between two time reads of one busy-wait loop
POLL_STREAK = 4  # reads in a row before skipping ahead
TCG_BUFFER = 64 << 20
"""Each engine's translation buffer. Unicorn's default is 1 GiB, and from the third engine
in a process on, code generated that far from Unicorn's helpers calls them indirectly
(~0.75x raw speed, ~0.53x with a block hook); 64 MiB holds a U-Boot boot's code many times
over."""


class FastRegisters:
    """Register access through the engine directly, for hooks on hot paths (the binding's
    ``reg_read`` builds its arguments on every call: about 2 us against 0.5 us)."""

    def __init__(self, uc: Uc) -> None:
        import ctypes

        from unicorn.unicorn_py3 import unicorn as binding

        self._handle = uc._uch
        self._read = binding.uclib.uc_reg_read
        self._write = binding.uclib.uc_reg_write
        self._value = ctypes.c_uint64()
        self._ref = ctypes.byref(self._value)

    def read(self, reg: int) -> int:
        self._value.value = 0  # a 32-bit register fills half of it
        self._read(self._handle, reg, self._ref)
        return int(self._value.value)

    def write(self, reg: int, value: int) -> None:
        self._value.value = value
        self._write(self._handle, reg, self._ref)


UC_ERRORS = {"UC_ERR_READ_UNMAPPED": "read from unmapped memory",
             "UC_ERR_WRITE_UNMAPPED": "write to unmapped memory",
             "UC_ERR_FETCH_UNMAPPED": "instruction fetch from unmapped memory (runaway pc?)",
             "UC_ERR_WRITE_PROT": "write to read-only memory",
             "UC_ERR_FETCH_PROT": "instruction fetch from non-executable memory",
             "UC_ERR_INSN_INVALID": "invalid instruction",
             "UC_ERR_EXCEPTION": "unhandled exception"}  # fmt: skip


def error_name(exc: UcError) -> str:
    import unicorn

    for name in dir(unicorn):
        if name.startswith("UC_ERR_") and getattr(unicorn, name) == exc.errno:
            return name
    return ""


def close_engine(uc: Uc) -> None:
    """Close ``uc`` (``uc_close``) now; it must not be used again. The binding closes an
    engine when its object is collected, which its hooks' callbacks delay."""
    finalizer = getattr(uc, "_Uc__finalizer", None)
    if finalizer is not None:
        finalizer()  # the binding's own uc_close, run once


class Core:
    """A CPU of some architecture, as the scheduler sees it.

    Subclasses set ``PC`` (Unicorn's pc register), ``WAITS`` (the encodings of the wait
    instructions, ``wfi`` and ``wfe``, all of one length), ``UNTIL`` (an address never
    reached) and ``DECODE`` (how instruction lengths are decoded: ``riscv``, ``thumb`` or
    ``fixed4``), and implement ``reset`` and ``deliver``. Their exception hooks tell the
    counter where an exception was raised (:meth:`exception_at`). ``arch`` is the object's type's
    architecture. Interrupt controllers connect themselves to the cores they serve (see
    :meth:`qconf.emu.context.MmioModel`).
    """

    PC: ClassVar[int]
    WAITS: ClassVar[tuple[bytes, ...]]
    UNTIL: ClassVar[int]
    DECODE: ClassVar[str]

    def __init__(self, ctx: CoreContext, uc: Uc, model: int | None = None) -> None:
        obj = ctx.obj
        self.ctx = ctx
        self.obj = obj
        arch = obj.info.arch_info
        assert arch is not None, f"{obj.info.name} is not a CPU type"
        self.arch: ArchInfo = arch
        self.uc = uc
        if model is not None:  # before anything else touches the engine
            uc.ctl_set_cpu_model(model)
        uc.ctl_set_tcg_buffer_size(TCG_BUFFER)  # before its first use too
        self.freq: int = obj.get("freq")
        self.hartid = 0
        self.waiting = False
        self.fault: GuestFault | None = None  # recorded by a hook, raised after the slice
        self.pc = 0
        self.counting: Counter = make_counter(uc, self.DECODE, ctx.timing == "exact")
        self._registers = FastRegisters(uc)  # the pc after every slice
        self._poll_pc, self._poll_at, self._poll_streak = -1, 0, 0

    def start_address(self) -> int:
        """Where ``emu_start`` resumes (Cortex-M adds the Thumb bit)."""
        return self.pc

    @property
    def instructions(self) -> int:
        """Guest instructions executed so far (while a slice runs: to its current block's
        end in fast timing, to the instruction in exact timing)."""
        return self.counting.count

    def exception_at(self, pc: int) -> None:
        """The instruction at ``pc`` raised an exception (a trap entered by the core, a
        fault): the counter takes back what did not run of its block."""
        self.counting.exception_at(pc)

    def run(self, budget: int) -> None:
        """Run ``budget`` instructions from the current pc (fast timing: to the end of the
        block that reaches it), or less if the guest waits, faults or the slice is cut.

        :raises GuestFault: the guest faulted (Unicorn error, or a hook recorded one).
        """
        counter = self.counting
        counter.arm(budget)
        try:
            self.uc.emu_start(self.start_address(), self.UNTIL)
        except UcError as exc:
            self.pc = self._registers.read(self.PC)
            counter.exception_at(self.pc)
            counter.finish(self.pc)
            if not self.ctx.run.stopping:
                raise self.fault_report(UC_ERRORS.get(error_name(exc), str(exc))) from None
        self.pc = self._registers.read(self.PC)
        counter.finish(self.pc)
        if self.fault is not None:
            fault, self.fault = self.fault, None
            # a stop asked for (a poweroff) ends the slice at the next block, in both
            # timings: what the rest of this block did after it is not the guest's fault
            if not self.ctx.run.stopping:
                raise fault
        if self.ctx.run.stopping or counter.stopped():
            return
        size = len(self.WAITS[0])
        try:
            last = bytes(self.uc.mem_read(self.pc - size, size))
        except UcError:
            last = b""
        if last in self.WAITS:  # it stopped to wait: skip it until an interrupt
            self.waiting = True

    def note_time_read(self, pc: int) -> None:
        """A time read from the same place within a few instructions of the last one is a
        busy-wait (``udelay``, a timeout loop): skip ahead, 1 us at first, doubling up to
        1 ms, so waiting costs a few dozen reads instead of millions of instructions."""
        done = self.counting.count
        if pc == self._poll_pc and done - self._poll_at < POLL_WINDOW:
            self._poll_streak += 1
        else:
            self._poll_streak = 0
        self._poll_pc, self._poll_at = pc, done
        if self._poll_streak >= POLL_STREAK:
            # refused while other CPUs run too: the streak stays, so that the loop skips
            # at its pace again as soon as this CPU runs alone
            step = min(1000 << min(self._poll_streak - POLL_STREAK, 10), 1_000_000)
            self.ctx.skip(step)

    def registers(self, pc: int) -> dict[str, int]:
        """The registers a fault report shows (the architecture's, then its system
        registers), with ``pc`` as the pc."""
        out = {}
        for name in self.arch.registers + self.arch.system_registers:
            number = self.arch.register_number(name)
            out[name] = pc if name == "pc" else int(self.uc.reg_read(number)) if number else 0
        return out

    def fault_report(self, cause: str, pc: int | None = None) -> GuestFault:
        """A report of a fault at ``pc`` (default: the current pc)."""
        pc = self.pc if pc is None else pc
        try:
            code = bytes(self.uc.mem_read(pc, 4))
        except UcError:
            code = b""
        return GuestFault(self.obj.path, self.obj.info.name, pc, cause,
                          self.arch.disassemble(code, pc), self.registers(pc),
                          self.ctx.clock.now(), self.arch.system_registers)  # fmt: skip

    def reset(self, entry: int, dtb: int = 0) -> None:
        """Set the core's reset state: start at ``entry`` with the device tree at ``dtb``."""
        raise NotImplementedError

    def deliver(self) -> None:
        """Between slices: take the interrupt the core's controllers offer, if it may;
        wake it from ``wfi`` if one is pending."""
        raise NotImplementedError

    def close(self) -> None:
        """Close the engine now, unmapping its translation buffer (its Python callbacks
        would keep it alive until the garbage collector runs)."""
        uc = self.__dict__.pop("uc", None)
        if uc is not None:
            close_engine(uc)

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: Any) -> bool:
        return self is other
