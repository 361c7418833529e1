"""A debugger's hooks on one core: breakpoints, watchpoints, and stepping one instruction,
with the instruction count exact in both timings.

- **Breakpoints** are Unicorn code hooks on their one address: the guest's memory is never
  written (a guest that checksums its code, and the other CPUs, see nothing), and code
  elsewhere runs as fast as before. The hook stops the engine *before* the instruction;
  the counter takes back what did not run of its block (:meth:`Counter.finish`). The
  blocks that hold the address are translated again (``ctl_remove_cache``) when a hook is
  added, and again when it is removed: Unicorn compiles a lone code hook into the block
  as a direct call, which it drops by itself only where the block *starts* in the hook's
  range (a removed hook's call left in a block crashed the process).
- **Watchpoints** are memory hooks on the watched range (Unicorn passes them physical
  addresses), present only while set (any memory hook slows every access). Unicorn
  leaves the engine right after the accessing operation, with pc on the instruction; the
  hook saved the registers and the bytes the access overwrites, and :meth:`settle` puts
  them back: the core stands *before* the instruction, which did not count. That is
  where gdb wants it on all three architectures (it treats their watchpoints as
  "nonsteppable": it steps over the access itself, then compares the values), and where
  QEMU stops on Arm.
- **Stepping** runs exactly one instruction: in exact timing the counter stops there by
  itself (a budget of one); in fast timing a code hook on the next few bytes stops the
  engine at the next instruction of the same block (a Thumb IT block runs whole, as a
  slice does), and the counter's budget of one stops it before any other block.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ("CoreDebug", "physical")

STEP_WINDOW = 20
"""Bytes after the pc where a step's hook stops the engine: the next instruction, or the
first one after an IT block (up to four 32-bit instructions after a 16-bit IT)."""
WIDEST_ACCESS = 16
"""A watchpoint's hook starts this many bytes early: Unicorn matches an access by its
first byte, and an access of up to 16 bytes (a Q register) may end in the watched range."""
BREAK_KINDS = {0: "swbreak", 1: "hwbreak"}
WATCH_REASONS = {2: "watch", 3: "rwatch", 4: "awatch"}


def physical(uc: Any, address: int) -> int:
    """Where the core's virtual ``address`` is in its physical memory (the address itself
    where no translation is on, or none is found)."""
    import unicorn
    from unicorn.unicorn_py3 import unicorn as binding

    out = ctypes.c_uint64()
    err = binding.uclib.uc_vmem_translate(
        uc._uch, ctypes.c_uint64(address), ctypes.c_int(unicorn.UC_PROT_READ), ctypes.byref(out)
    )
    return address if err else int(out.value)


class CoreDebug:
    """The debugger's state on one core (``core.debug``).

    After a run, :attr:`event` says what a hook stopped the engine for: ``("swbreak" or
    "hwbreak", address)``, ``("watch"/"rwatch"/"awatch", watched address)`` or ``("step",
    pc)``; None when no debug hook stopped it (the counter, the guest, a fault).
    """

    def __init__(self, core: Any) -> None:
        self.core = core
        self.uc = core.uc
        core.debugged()  # a stop from a hook mid-block must take effect at once
        self.event: tuple[str, int] | None = None
        self.frozen = False  # gdb resumed other threads, not this one (vCont;c:2)
        self._breaks: dict[int, int] = {}  # address -> hook
        self._break_kinds: dict[int, str] = {}
        self._watches: dict[tuple[int, int, int], list[int]] = {}  # (kind, address, length)
        self._hit: tuple[int, bytes | None, Any] | None = None  # (paddr, old bytes, context)
        self._callbacks: list[Any] = []  # keep the hooks' Python callables alive

    @property
    def stopped(self) -> bool:
        """Whether a debug hook stopped the engine in the last run (``Core.run`` does not
        take such a stop for a wait)."""
        return self.event is not None

    # --- setting ---------------------------------------------------------------------

    def apply(
        self, breaks: Mapping[int, int], watches: Mapping[tuple[int, int, int], None]
    ) -> None:
        """Make the hooks those of ``breaks`` (address -> kind, 0 or 1) and ``watches``
        ((kind, address, length), kind 2-4): hooks not wanted are removed, new ones added."""
        import unicorn

        uc = self.uc
        for address in [a for a in self._breaks if a not in breaks]:
            self._remove_code_hook(self._breaks.pop(address), address, address + 1)
        for address, kind in breaks.items():
            self._break_kinds[address] = BREAK_KINDS.get(kind, "swbreak")
            if address not in self._breaks:
                self._breaks[address] = uc.hook_add(unicorn.UC_HOOK_CODE, self._on_break, None,
                                                    address, address)  # fmt: skip
                uc.ctl_remove_cache(address, address + 1)
        for key in [k for k in self._watches if k not in watches]:
            for hook in self._watches.pop(key):
                uc.hook_del(hook)
        for key in watches:
            if key not in self._watches:
                self._watches[key] = self._watch_hooks(*key)

    def _remove_code_hook(self, hook: int, start: int, end: int) -> None:
        """Remove a code hook, and the translated blocks in ``[start, end)`` it may be
        compiled into (before anything runs them again)."""
        self.uc.hook_del(hook)
        self.uc.ctl_remove_cache(start, end)

    def _watch_hooks(self, kind: int, address: int, length: int) -> list[int]:
        import unicorn

        start = physical(self.uc, address)
        types = {2: (unicorn.UC_HOOK_MEM_WRITE,), 3: (unicorn.UC_HOOK_MEM_READ,),
                 4: (unicorn.UC_HOOK_MEM_WRITE, unicorn.UC_HOOK_MEM_READ)}[kind]  # fmt: skip
        reason = WATCH_REASONS[kind]

        def on_access(uc: Any, access: int, at: int, size: int, value: int, data: object) -> None:
            try:
                if self._hit is not None or not start - size < at < start + length:
                    return
                old = bytes(uc.mem_read(at, size)) if access == unicorn.UC_MEM_WRITE else None
                self._hit = (at, old, uc.context_save())
                self.event = (reason, address)
                uc.emu_stop()
            except Exception:  # never into C: the access goes on unseen
                pass

        self._callbacks.append(on_access)
        first = max(0, start - WIDEST_ACCESS + 1)
        return [self.uc.hook_add(t, on_access, None, first, start + length - 1) for t in types]

    # --- hooks -----------------------------------------------------------------------

    def _on_break(self, uc: Any, address: int, size: int, data: object) -> None:
        self.event = (self._break_kinds.get(address, "swbreak"), address)
        uc.emu_stop()

    def _on_step(self, uc: Any, address: int, size: int, data: object) -> None:
        if self.event is None:
            self.event = ("step", address)
        uc.emu_stop()

    def settle(self) -> None:
        """After a run a watchpoint stopped: undo what the accessing instruction did (its
        registers, the bytes it stored), so the core stands before it."""
        hit, self._hit = self._hit, None
        if hit is None:
            return
        at, old, context = hit
        self.uc.context_restore(context)
        if old is not None:
            self.uc.mem_write(at, old)

    # --- running ---------------------------------------------------------------------

    def step(self, run: Callable[[int], None]) -> None:
        """Run exactly one instruction through ``run`` (a budget of one, in the scheduler's
        hands); :attr:`event` says if a hook stopped it first (a breakpoint on it: none
        ran; a watchpoint: see :meth:`settle`)."""
        import unicorn

        core, uc = self.core, self.uc
        self.event = None
        core.waiting = False  # a wfi may end early: the core steps on
        hook, pc = None, core.pc
        if not core.counting.exact:
            hook = uc.hook_add(unicorn.UC_HOOK_CODE, self._on_step, None, pc + 1, pc + STEP_WINDOW)
            uc.ctl_remove_cache(pc, pc + STEP_WINDOW + 1)
        try:
            run(1)
        finally:
            if hook is not None:
                self._remove_code_hook(hook, pc, pc + STEP_WINDOW + 1)

    def close(self) -> None:
        """Remove every hook (the debugger leaves)."""
        self.apply({}, {})
        self.event = None
        self._hit = None
