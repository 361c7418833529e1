"""What every CPU model shares: its Unicorn instance, running one time slice with its
instruction counter (:mod:`qconf.emu.counting`), noticing ``wfi``, and turning Unicorn's
errors and recorded faults into guest fault reports."""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from unicorn import Uc, UcError

from qconf.emu import native
from qconf.emu.context import CoreContext
from qconf.emu.counting import Counter, make_counter, read_code
from qconf.emu.faults import GuestFault
from qconf.emu.state import StateError, load_attributes, save_attributes
from qconf.model.facets import ArchInfo

__all__ = ("UC_ERRORS", "Core", "DebugHooks", "FastRegisters", "close_engine", "error_name")

POLL_WINDOW = 256  # instructions between two time reads of one busy-wait loop
POLL_STREAK = 4  # reads in a row before skipping ahead
STATE_REGISTERS = (*(f"x{i}" for i in range(1, 32)), *(f"r{i}" for i in range(13)), "sp", "lr")
"""The registers :meth:`Core.idle_state` compares (those the architecture has)."""
STACK_WINDOW = 256
"""Bytes below and above the stack pointer :meth:`Core.idle_state` compares."""
TCG_BUFFER = 64 << 20
"""Each engine's translation buffer. Unicorn's default is 1 GiB, and from the third engine
in a process on, code generated that far from Unicorn's helpers calls them indirectly
(~0.75x raw speed, ~0.53x with a block hook); 64 MiB holds a U-Boot boot's code many times
over."""


LEAN_MEMORY = "uc_qconf_lean_memory"
"""The store-fix engine's switch for memory accesses without an exit check each."""


def _lean_memory(uc: Uc, on: bool) -> bool:
    """On the store-fix engine, no exit check after each guest memory access
    (``inline-counting.patch``), or the checks back; whether the engine has the switch."""
    if native.engine_symbol(LEAN_MEMORY) is None:
        return False
    import ctypes

    from unicorn.unicorn_py3 import unicorn as binding

    err = binding.uclib.uc_qconf_lean_memory(uc._uch, ctypes.c_bool(on))
    if err:
        raise UcError(err)
    return True


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


class DebugHooks(Protocol):
    """A debugger's hooks on a core (:class:`qconf.debug.cpu.CoreDebug`)."""

    @property
    def stopped(self) -> bool:
        """Whether one of them stopped the engine in the last run (a breakpoint, a
        watchpoint, the end of a step)."""
        ...

    def settle(self) -> None:
        """Put the core where the stop is reported (a watched access is undone)."""
        ...


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
    reached), and implement ``reset`` and ``deliver``. Their exception hooks tell the
    counter where an exception was raised (:meth:`exception_at`). ``arch`` is the object's type's
    architecture. Interrupt controllers connect themselves to the cores they serve (see
    :meth:`qconf.emu.context.MmioModel`).
    """

    PC: ClassVar[int]
    WAITS: ClassVar[tuple[bytes, ...]]
    UNTIL: ClassVar[int]
    STATE: ClassVar[tuple[str, ...]] = ("pc", "waiting", "_poll_pc", "_poll_at", "_poll_streak")
    """qconf's own state of the core that checkpoints keep (with the instruction count
    and the engine's, :meth:`engine_state`); architectures add theirs."""

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
        # no exit check after each memory access where nothing stops the engine mid-block
        self.access_checks = ctx.timing == "exact" or not self.skip_access_checks(True)
        self.freq: int = obj.get("freq")
        self.hartid = 0
        self.waiting = False
        self.peers: list[Core] = []  # the machine's other cores of this family (platform)
        self.ram: list[tuple[int, int, int]] = []  # (guest base, size, host address) mapped
        self.fault: GuestFault | None = None  # recorded by a hook, raised after the slice
        self.pc = 0
        self.counting: Counter = make_counter(uc, arch.encoding, ctx.timing == "exact")
        self.debug: DebugHooks | None = None  # a debugger's hooks (qconf.debug), if attached
        self._registers = FastRegisters(uc)  # the pc after every slice
        self._poll_pc, self._poll_at, self._poll_streak = -1, 0, 0
        self._state_registers: list[int] | None = None
        self.trace: Any = None  # a qconf.emu.trace.Tracer when the int category is traced
        self.trace_hooks: list[Any] = []  # the tracer's callbacks, kept alive with the core

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
            if self.engine_error(exc):
                return
            if not self.ctx.run.stopping:
                raise self.fault_report(UC_ERRORS.get(error_name(exc), str(exc))) from None
        debug, halted = self.debug, False
        if debug is not None and debug.stopped:  # a debugger's hook: not a wait, nor a cut
            debug.settle()
            halted = True
        self.pc = self._registers.read(self.PC)
        counter.finish(self.pc)
        if self.fault is not None:
            fault, self.fault = self.fault, None
            # a stop asked for (a poweroff) ends the slice at the next block, in both
            # timings: what the rest of this block did after it is not the guest's fault
            if not self.ctx.run.stopping:
                raise fault
        if self.ctx.run.stopping or counter.stopped() or halted:
            return
        size = len(self.WAITS[0])
        last = read_code(self.uc, self.pc - size, size)  # through the MMU, as fetched
        if last in self.WAITS:  # it stopped to wait: skip it until an interrupt
            self.waiting = True

    def memory_changed(self) -> None:
        """The engine's memory map changed (RAM plugged in or out of a running machine;
        translated code was dropped)."""

    def skip_access_checks(self, skip: bool) -> bool:
        """Leave out (or put back) Unicorn's exit check after each guest memory access;
        whether the engine could. Done in fast timing without a debugger: there nothing
        stops the engine in the middle of a block (qconf never stops it from a device's
        callback: it cuts the slice, which ends at the next block; an interrupt a store
        raises is taken at the next block on every engine, see the architectures'
        ``interrupts_changed``/``update_irq``), so only the time spent changes. The
        store-fix engine has a switch for it (``uc_qconf_lean_memory``); architectures
        may know another way on stock Unicorn (:mod:`qconf.arch.aarch64.engine`)."""
        return _lean_memory(self.uc, skip)

    def debugged(self) -> None:
        """A debugger attached: its hooks may stop the engine in the middle of a block, so
        the exit check after each memory access comes back (translated code is dropped)."""
        if not self.access_checks:
            self.skip_access_checks(False)
            self.access_checks = True

    def engine_error(self, error: UcError) -> bool:
        """The engine stopped with ``error`` (the pc is where it stopped): whether the core
        took it as an exception in the guest (an MMU fault its page-table walk found),
        which lets the run go on."""
        return False

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

    def entered(self, text: str) -> None:
        """The core entered an exception or interrupt handler (``text`` says which, from
        where, to where): the ``int`` trace shows it. Arch code calls it only when
        :attr:`trace` is set."""
        if self.trace is not None:
            self.trace.line(self.obj.path, "int", text)

    def read_register(self, number: int) -> int:
        """Register ``number`` (the engine's), read straight from the engine."""
        return self._registers.read(number)

    @property
    def time_read_at(self) -> int:
        """The instruction count at the core's last read of the time (0: none yet)."""
        return self._poll_at

    def idle_state(self) -> tuple[tuple[int, ...], bytes]:
        """What an idle loop leaves unchanged from one turn to the next: the general
        registers and the stack around the stack pointer (memory elsewhere is not
        looked at). Two equal states at the same pc, with nothing read in between but an
        empty status, mean the loop makes no progress (see the scheduler's idle polls)."""
        if self._state_registers is None:
            numbers = {self.arch.register_number(name) for name in STATE_REGISTERS}
            self._state_registers = sorted(n for n in numbers if n is not None)
        values = tuple(self._registers.read(n) for n in self._state_registers)
        sp_number = self.arch.register_number("sp")
        stack = b""
        if sp_number is not None:
            from qconf.emu.counting import read_memory

            sp = self._registers.read(sp_number)
            stack = read_memory(self.uc, max(0, sp - STACK_WINDOW), 2 * STACK_WINDOW) or b""
        return values, stack

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
        code = read_code(self.uc, pc, 4) or b""
        return GuestFault(self.obj.path, self.obj.info.name, pc, cause,
                          self.arch.disassemble(code, pc), self.registers(pc),
                          self.ctx.clock.now(), self.arch.system_registers)  # fmt: skip

    def reset(self, entry: int, dtb: int = 0) -> None:
        """Set the core's reset state: start at ``entry`` with the device tree at ``dtb``."""
        raise NotImplementedError

    # --- checkpoints (qconf.emu.checkpoint), between slices -------------------------------

    def state(self) -> dict[str, Any]:
        """qconf's state of the core (``STATE``) and its instruction count, as JSON data."""
        return {**save_attributes(self, self.STATE), "instructions": self.counting.count}

    def load_state(self, state: dict[str, Any]) -> None:
        """Take what :meth:`state` gave (after :meth:`load_engine_state`).

        :raises StateError: the state does not fit this core.
        """
        load_attributes(self, self.STATE, state)
        self.counting.load(int(state["instructions"]))

    def engine_state(self) -> bytes:
        """The engine's CPU state: Unicorn's context (``uc_context_save``), which holds
        the CPU's whole architectural state up to the fields QEMU keeps across a reset
        (RISC-V: the registers, every CSR, the privilege level, the LR/SC reservation;
        AArch64: the registers, PSTATE, every system register, the exclusive monitor)."""
        return bytes(self.uc.context_save())

    def load_engine_state(self, data: bytes) -> None:
        """Put back what :meth:`engine_state` gave (saved from an engine of the same
        architecture and model), and drop the engine's translated code and TLB.

        :raises StateError: the data is not such a context.
        """
        import ctypes

        context = self.uc.context_save()
        if len(data) != context.size:
            raise StateError(f"an engine context of {len(data)} bytes, not {context.size}")
        if data[8:16] != bytes(context)[8:16]:  # uc_context's mode and arch
            raise StateError("an engine context of another architecture or mode")
        ctypes.memmove(context.context, data, len(data))
        self.uc.context_restore(context)
        self.uc.ctl_flush_tb()
        from unicorn.unicorn_const import UC_CTL_IO_WRITE, UC_CTL_TLB_FLUSH

        self.uc.ctl(UC_CTL_TLB_FLUSH, UC_CTL_IO_WRITE)  # the binding has no method for it

    def deliver(self) -> None:
        """Between slices: take the interrupt the core's controllers offer, if it may;
        wake it from ``wfi`` if one is pending."""
        raise NotImplementedError

    def power_off(self) -> None:
        """Start powered off (after :meth:`reset`): a secondary CPU of a directly booted
        kernel, which the guest turns on through its firmware interface (PSCI)."""
        raise NotImplementedError(f"{self.arch.name} CPUs cannot start powered off")

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
