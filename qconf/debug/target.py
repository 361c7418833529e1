"""The CPUs one stub serves, as its :class:`~qconf.debug.stub.Target`: registers through
their architecture's description (:mod:`qconf.debug.tdesc`), memory as each CPU sees it
(through its MMU), and breakpoints and watchpoints kept here and put on the cores
(:class:`~qconf.debug.cpu.CoreDebug`) when the machine runs again. Stepping, resuming and
stopping are the server's (:class:`~qconf.debug.server.GdbServer`): the machine stops as a
whole."""

from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING, Any

from qconf.debug.cpu import CoreDebug
from qconf.debug.stub import Stop
from qconf.debug.tdesc import Description, GdbArch, Register
from qconf.model.facets import load

if TYPE_CHECKING:
    from qconf.debug.layout import Slot
    from qconf.debug.server import GdbServer

__all__ = ("CpuTarget",)

UC_PROT_READ, UC_PROT_WRITE, UC_PROT_EXEC = 1, 2, 4


class CpuTarget:
    """The CPUs of one architecture, threads 1..n in the machine's order.

    :param server: the server that stops and runs the machine.
    :param slot: the stub's place in the server (its address and CPU paths).
    :param cores: the cores, in thread order.
    """

    def __init__(self, server: GdbServer, slot: Slot, cores: list[Any]) -> None:
        self.server, self.slot, self.cores = server, slot, cores
        arch = cores[0].arch
        assert arch.gdb is not None, f"{arch.name} has no gdb description"
        self.gdb: GdbArch = load(arch.gdb)
        self._description: Description = self.gdb.describe(cores[0])
        self.breaks: dict[int, int] = {}  # address -> kind (0 software, 1 hardware)
        self.watches: dict[tuple[int, int, int], None] = {}  # (kind, address, length)

    @property
    def description(self) -> Description:
        return self._description

    @property
    def threads(self) -> int:
        return len(self.cores)

    def core(self, thread: int) -> Any:
        return self.cores[thread - 1 if 1 <= thread <= len(self.cores) else 0]

    def thread_of(self, core: Any) -> int:
        return self.cores.index(core) + 1

    def thread_name(self, thread: int) -> str:
        core = self.core(thread)
        waits = ", waiting for an interrupt" if core.waiting else ""
        return f"{core.obj.path} ({core.obj.info.name}{waits})"

    # --- registers and memory --------------------------------------------------------

    def read_register(self, thread: int, reg: Register) -> int | None:
        try:
            return self.gdb.read(self.core(thread), reg)
        except Exception:  # an engine that refuses: gdb shows it unavailable
            return None

    def write_register(self, thread: int, reg: Register, value: int) -> bool:
        try:
            return self.gdb.write(self.core(thread), reg, value)
        except Exception:
            return False

    def read_memory(self, thread: int, address: int, length: int) -> bytes | None:
        """Memory through the CPU's MMU; RAM and ROM only: a debugger never reads a
        device's registers, which could change what they hold."""
        from unicorn.unicorn_py3 import unicorn as binding

        uc = self.core(thread).uc
        buf = ctypes.create_string_buffer(length)
        for prot in (UC_PROT_READ, UC_PROT_EXEC):
            err = binding.uclib.uc_vmem_read(uc._uch, ctypes.c_uint64(address), ctypes.c_int(prot),
                                             buf, ctypes.c_size_t(length))  # fmt: skip
            if not err:
                return buf.raw
        return None

    def write_memory(self, thread: int, address: int, data: bytes) -> bool:
        """Write through the CPU's MMU; code there is translated again on every CPU."""
        from unicorn.unicorn_py3 import unicorn as binding

        core = self.core(thread)
        from qconf.debug.cpu import physical

        start = physical(core.uc, address)
        err = binding.uclib.uc_vmem_write(core.uc._uch, ctypes.c_uint64(address),
                                          ctypes.c_int(UC_PROT_WRITE), data,
                                          ctypes.c_size_t(len(data)))  # fmt: skip
        if err:
            try:  # ROM (read-only to the guest): written as a loader would
                core.uc.mem_write(start, data)
            except Exception:
                return False
        self.server.code_changed(core, address, start, len(data))
        return True

    # --- breakpoints -----------------------------------------------------------------

    def breakpoint(self, kind: int, address: int, length: int, insert: bool) -> bool:
        if kind <= 1:
            if insert:
                self.breaks[address] = kind
            else:
                self.breaks.pop(address, None)
            return True
        if length <= 0:
            return False
        key = (kind, address, length)
        if insert:
            self.watches[key] = None
        else:
            self.watches.pop(key, None)
        return True

    def attach(self, cores: list[Any]) -> None:
        """Serve ``cores`` (a machine powered on again: new cores for the same CPUs)."""
        self.cores = cores
        for core in cores:
            core.debug = CoreDebug(core)

    def apply(self) -> None:
        """Put the breakpoints and watchpoints on every core."""
        for core in self.cores:
            debug = core.debug
            if isinstance(debug, CoreDebug):
                debug.apply(self.breaks, self.watches)

    def clear(self) -> None:
        """Forget every breakpoint and watchpoint (gdb left) and remove the hooks; every
        CPU runs again."""
        self.breaks.clear()
        self.watches.clear()
        self.apply()
        for core in self.cores:
            if isinstance(core.debug, CoreDebug):
                core.debug.frozen = False

    # --- running: the server's ---------------------------------------------------------

    def step(self, thread: int) -> Stop:
        return self.server.step(self, thread)

    def resume(self, threads: set[int] | None = None) -> None:
        self.server.resume(self, threads)

    def interrupt(self) -> None:
        self.server.interrupt(self)

    def detach(self) -> None:
        self.server.detach(self)

    def kill(self) -> None:
        self.server.kill(self)

    def monitor(self, command: str) -> str:
        return self.server.monitor(command, self)
