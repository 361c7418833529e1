"""Stores that Unicorn would refuse, refused by an AArch64 core's TLB fill first.

A store to memory mapped without write permission (a ROM) or to no memory at all makes
Unicorn 2.1.4 drop the store and ask to stop, a request honoured only by a check compiled
after the access, which qconf's AArch64 cores may leave out (:mod:`.engine`). So the
fill (``answer`` in ``native_hooks.c``, :func:`answer` here) never gives write permission
on such a page, and refuses a store there: Unicorn then leaves the engine at once, at the
storing instruction, as the check would have, and the core reports the same fault
("write to read-only memory", "write to unmapped memory"). The map is Unicorn's own
(``uc_mem_regions``: RAM, ROM and device windows), taken again whenever the machine's
memory changes.
"""

from __future__ import annotations

import ctypes
from typing import Any

__all__ = ("REFUSALS", "Span", "answer", "set_map", "store_target")

WRITE = 2  # UC_PROT_WRITE
UC_MEM_WRITE = 17
REFUSALS = {1: "UC_ERR_WRITE_PROT", 2: "UC_ERR_WRITE_UNMAPPED"}
"""What Unicorn would have stopped with, by ``refused_store``."""


class Span(ctypes.Structure):
    """``qc_a64_span``: a physical range Unicorn maps."""

    _fields_ = [("base", ctypes.c_uint64), ("size", ctypes.c_uint64),
                ("writable", ctypes.c_uint32), ("reserved", ctypes.c_uint32)]  # fmt: skip


def set_map(translator: Any, uc: Any) -> None:
    """Give ``translator`` (a :class:`~qconf.arch.aarch64.mmu.Translator`) the physical
    map ``uc`` has now."""
    regions = uc.mem_regions()
    spans = [(begin, end - begin + 1, bool(perms & WRITE)) for begin, end, perms in regions]
    array = (Span * max(1, len(spans)))(*[Span(b, s, w) for b, s, w in spans])
    translator.spans = spans
    translator.span_array = array  # kept alive with the state that points at it
    st = translator.state
    st.spans = ctypes.cast(array, ctypes.POINTER(Span))
    st.nspans = len(spans)


def store_target(spans: list[tuple[int, int, bool]], page: int) -> int:
    """What a store to physical ``page`` meets (``store_target`` in ``native_hooks.c``):
    0 memory that takes it, 1 memory that does not, 2 nothing; 0 without a map."""
    if not spans:
        return 0
    for base, size, writable in spans:
        if base <= page < base + size:
            return 0 if writable else 1
    return 2


def answer(translator: Any, vaddr: int, access: int, page: int, perms: int, entry: Any) -> bool:
    """Fill ``entry`` with ``page`` and the regime's ``perms``, without write where a
    store would not be taken; refuse a store there (``answer`` in ``native_hooks.c``)."""
    if perms & WRITE:
        target = store_target(translator.spans, page)
        if target:
            if access == UC_MEM_WRITE:
                translator.state.refused_store = target
                return False
            perms &= ~WRITE
    entry.paddr, entry.perms = page | (vaddr & 0xFFF), perms
    return True
