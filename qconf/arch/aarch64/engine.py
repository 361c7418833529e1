"""Unicorn's check after every guest memory access, turned off where nothing needs it.

Unicorn 2.1.4 compiles a call to ``helper_check_exit_request`` at the start of every
translated block and after every guest load and store (``check_exit_request`` in its
``tcg-op.c``), so that a stop asked during an access (``uc_emu_stop`` from a memory hook,
a store Unicorn refuses) ends the run right after that instruction. A call from the
translated code makes the host save and reload the guest registers it holds: about a
tenth of the time Linux takes to boot goes there, and an AArch64 core of qconf needs the
check after accesses for none of the stops it uses:

- the counter ends a slice before a block (its block hook, then the check at the block's
  start, which stays);
- MMU faults and reads or fetches outside memory leave the engine at once
  (``cpu_loop_exit_restore``), without the check;
- device models never stop the engine: they cut the slice, which ends at the next block;
- the two stops that did rely on the check, a store to read-only memory (a ROM) and a
  store outside memory, are refused by the core's TLB fill instead (see
  :mod:`qconf.arch.aarch64.stores`), which leaves the engine at the same instruction with
  the same report.

What does need the check is a stop from a code or memory hook in the middle of a block:
exact timing (the counter's code hook) and a debugger's breakpoints, steps and
watchpoints. Those cores keep it (a debugger attaching turns it back on and drops the
translated code). Unicorn has no interface for it: the switch is a field of its engine
structure (``uc_struct.no_exit_request``, the one its Thumb IT blocks use), written only
on the exact Unicorn build whose layout is known and checked against fields with known
values; anywhere else the check stays, with the same results, slower.
"""

from __future__ import annotations

import ctypes
from typing import Any

__all__ = ("check_every_access", "skip_access_checks")

VERSION = 0x020104FF
"""``uc_version()`` of the build whose ``uc_struct`` layout is known (2.1.4)."""
CONTEXT_SIZE, NO_EXIT_REQUEST, INIT_DONE = 0x7E0, 0x7F2, 0x7F3
"""Offsets in its ``uc_struct``: ``cpu_context_size`` (int), ``no_exit_request`` and
``init_done`` (bool), from its ``uc_context_size`` and ``check_exit_request``."""
CONTEXT_HEADER = 0x28
"""``uc_context_size()`` = ``cpu_context_size`` + its ``struct uc_context`` header."""


def _field(uc: Any) -> ctypes.c_uint8 | None:
    """The engine's ``no_exit_request`` byte, if the engine is the known build (checked:
    the version, then ``init_done`` set and ``cpu_context_size`` what
    ``uc_context_size`` says)."""
    from unicorn.unicorn_py3 import unicorn as binding

    lib = binding.uclib
    if lib.uc_version(None, None) != VERSION or ctypes.sizeof(ctypes.c_void_p) != 8:
        return None
    handle = uc._uch.value
    size = int(lib.uc_context_size(uc._uch))  # initialises the engine if it is not yet
    flags = ctypes.c_uint8.from_address(handle + NO_EXIT_REQUEST)
    done = ctypes.c_uint8.from_address(handle + INIT_DONE).value
    context = ctypes.c_int.from_address(handle + CONTEXT_SIZE).value
    if done != 1 or flags.value not in (0, 1) or context + CONTEXT_HEADER != size:
        return None
    return flags


def skip_access_checks(uc: Any) -> bool:
    """Compile no check after guest memory accesses on ``uc`` from now on (call it before
    anything is translated); whether it could."""
    flag = _field(uc)
    if flag is None:
        return False
    flag.value = 1
    return True


def check_every_access(uc: Any) -> None:
    """Check after every access again (a debugger attached), translating anew."""
    flag = _field(uc)
    if flag is not None and flag.value:
        flag.value = 0
        uc.ctl_flush_tb()
