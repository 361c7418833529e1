"""How a CPU's time slice is bounded: Unicorn's ``count=`` (exact, slow) or a native
block hook that counts code bytes (fast).

``count=`` makes Unicorn run a C hook after every instruction: exact instruction counts,
about a quarter of Unicorn's speed. The fast way is a hook on every translated block that
subtracts the block's size from a budget and calls ``uc_emu_stop`` when it runs out: about
0.8x of Unicorn's speed (``bench/emulate.py``). Python hooks are far too slow for that, and
qconf must install with pip alone, so the hook is eight x86-64 instructions placed in an
executable page (below). Budgets are then kept in *instruction equivalents* of 4 code
bytes: exact for fixed-width code, with a 2-byte (RISC-V C, Thumb) instruction counting
as half. Both ways are deterministic. Where the native hook cannot be used (another host
architecture, or a system that refuses executable memory) the exact way is used.

The hook, for ``void hook(uc_engine *uc, uint64_t address, uint32_t size, Budget *b)``::

    89 d0          mov  eax, edx          ; size of the block
    48 29 01       sub  [rcx], rax        ; b->left -= size
    48 01 41 10    add  [rcx+16], rax     ; b->done += size
    48 83 39 00    cmp  qword [rcx], 0
    7e 01          jle  stop
    c3             ret
    ff 61 08  stop: jmp [rcx+8]           ; tail call b->stop(uc): uc_emu_stop
"""

from __future__ import annotations

import ctypes
from typing import Any

from qconf.emu.native import hook_add, place

__all__ = ("BYTES_PER_INSTRUCTION", "NativeBudget", "native_available")

BYTES_PER_INSTRUCTION = 4
_CODE = bytes.fromhex("89d048290148014110488339007e01c3ff6108")


class _Budget(ctypes.Structure):
    _fields_ = [("left", ctypes.c_int64), ("stop", ctypes.c_void_p), ("done", ctypes.c_int64)]


def _hook_address() -> int | None:
    return place(_CODE)


def native_available() -> bool:
    """Whether the fast block hook can be used on this host."""
    return _hook_address() is not None


class NativeBudget:
    """A block-hook budget installed on one Unicorn instance."""

    def __init__(self, uc: Any) -> None:
        import unicorn
        from unicorn.unicorn_py3 import unicorn as binding

        address = _hook_address()
        assert address is not None, "check native_available() first"
        self._budget = _Budget(0, ctypes.cast(binding.uclib.uc_emu_stop, ctypes.c_void_p).value, 0)
        hook_add(uc, unicorn.UC_HOOK_BLOCK, address, self._budget)

    def arm(self, instructions: int) -> None:
        """Allow about ``instructions`` more (the block that crosses the end completes)."""
        self._budget.left = instructions * BYTES_PER_INSTRUCTION
        self._budget.done = 0

    def exhaust(self) -> None:
        """Stop at the next translated block."""
        self._budget.left = 0

    def executed(self) -> int:
        """Instruction equivalents run since :meth:`arm` (at least 1 when anything ran)."""
        done = int(self._budget.done)
        return -(-done // BYTES_PER_INSTRUCTION)
