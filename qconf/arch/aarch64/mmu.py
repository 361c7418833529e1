"""The AArch64 stage 1 translation Unicorn's virtual TLB asks for.

Unicorn's own TLB faults on U-Boot right after it enables the MMU; with ``UC_TLB_VIRTUAL``
every TLB miss calls a fill hook instead, and this module answers it as the hardware would
for the EL1&0 regime: with the MMU off (``SCTLR_EL1.M`` = 0) addresses are physical; with it
on, the walk starts at ``TTBR0_EL1`` or ``TTBR1_EL1`` by the address's top bits, with the
granule (4, 16 or 64 KiB) and the number of levels from ``TCR_EL1``, follows table
descriptors, and takes the output address and permissions (``AP``, ``PXN``) from the block
or page descriptor. Translations are remembered by page until the guest runs ``tlbi``
or writes SCTLR, TCR or a TTBR (as hardware may cache them until then; refusals are never
remembered, so a new mapping needs no invalidation). A missing descriptor refuses the
fill; Unicorn then stops with an error instead of raising the fault in the guest, so the
core raises it itself: a data or instruction abort with the translation-fault status of
the level where the walk stopped (one exception: the last page of the address space,
which Unicorn probes by itself, is answered as identity).
"""

from __future__ import annotations

import ctypes
from typing import Any

from unicorn import arm64_const as a64

from qconf.emu import native

__all__ = ("Translator", "install")

READ, WRITE, EXEC = 1, 2, 4
ADDRESS_MASK = (1 << 48) - 1
GRANULE0 = {0b00: 12, 0b01: 16, 0b10: 14}  # TG0
GRANULE1 = {0b10: 12, 0b11: 16, 0b01: 14}  # TG1
SCTLR_EL1 = (1, 0, 3, 0, 0)  # CRn, CRm, op0, op1, op2
TCR_EL1 = (2, 0, 3, 0, 2)
LAST_PAGE = (1 << 64) - 0x1000


SLOTS = 4096
"""Translations the native fill hook answers from (direct-mapped by page number)."""


class _Slot(ctypes.Structure):
    _fields_ = [("tag", ctypes.c_uint64), ("paddr", ctypes.c_uint64), ("perms", ctypes.c_uint64)]


class _Table(ctypes.Structure):
    """``qc_tlb`` in ``native_hooks.c``: the native fill hook answers from ``slots`` and
    calls ``python`` (:meth:`Translator.fill`) for anything else."""

    _fields_ = [("mask", ctypes.c_uint64), ("python", ctypes.c_void_p),
                ("slots", _Slot * SLOTS)]  # fmt: skip


class _TlbEntry(ctypes.Structure):
    _fields_ = [("paddr", ctypes.c_uint64), ("perms", ctypes.c_uint32)]


_FILL_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_bool, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int,
                                  ctypes.POINTER(_TlbEntry), ctypes.c_void_p)  # fmt: skip


class Translator:
    """Fills Unicorn's TLB for one core by walking the guest's page tables."""

    def __init__(self, core: Any) -> None:
        self.core = core
        self.walks = 0
        self.hits = 0
        self.cache: dict[int, tuple[int, int]] = {}  # vaddr >> 12 -> (page's paddr, perms)
        self.table: _Table | None = None  # the native hook's copy of the cache, if any
        self.level = 0  # where the last walk stopped
        self.abort: tuple[int, int, int] | None = None  # (address, level, access) refused
        self.tracer: Any = None  # a qconf.emu.trace.Tracer showing every fill (-d mmu)
        self._regs: tuple[int, int, int, int] | None = None  # SCTLR, TCR, TTBR0, TTBR1

    def _sysreg(self, uc: Any, reg: tuple[int, int, int, int, int]) -> int:
        return int(uc.reg_read(a64.UC_ARM64_REG_CP_REG, (*reg, 0)))

    def invalidate(self) -> None:
        """Forget every translation: the guest invalidated its TLB (``tlbi``) or changed
        a register the walk reads (SCTLR, TCR, TTBR0/1), which it reads again then."""
        self.cache.clear()
        self._regs = None
        if self.table is not None:
            ctypes.memset(self.table.slots, 0, ctypes.sizeof(self.table.slots))

    def _registers(self, uc: Any) -> tuple[int, int, int, int]:
        if self._regs is None:  # only MSR changes them, and it invalidates
            self._regs = (self._sysreg(uc, SCTLR_EL1), self._sysreg(uc, TCR_EL1),
                          int(uc.reg_read(a64.UC_ARM64_REG_TTBR0_EL1)),
                          int(uc.reg_read(a64.UC_ARM64_REG_TTBR1_EL1)))  # fmt: skip
        return self._regs

    def trace_to(self, tracer: Any) -> None:
        """Show every fill in the ``mmu`` trace: the native hook's table is emptied and
        no longer filled, so that each fill reaches :meth:`fill`."""
        self.tracer = tracer
        if self.table is not None:
            ctypes.memset(self.table.slots, 0, ctypes.sizeof(self.table.slots))

    def fill(self, uc: Any, vaddr: int, access: int, entry: Any, user_data: object) -> bool:
        if self.tracer is not None:
            return self._traced_fill(uc, vaddr, access, entry)
        cached = self.cache.get(vaddr >> 12)
        if cached is not None:  # Unicorn's own TLB is small: the same pages come back
            self.hits += 1
            entry.paddr, entry.perms = cached[0] | (vaddr & 0xFFF), cached[1]
            return True
        try:
            found = self.translate(uc, vaddr)
        except Exception as exc:  # never into C; the run stops with a report
            self.core.fault = self.core.fault_report(f"page-table walk failed: {exc!r}")
            uc.emu_stop()
            return False
        if found is None:
            if vaddr >= LAST_PAGE:
                # Unicorn probes this page on its own (seen under U-Boot, where nothing maps
                # it); answering identity there is what lets the guest run on
                found = (vaddr, READ | WRITE | EXEC)
            else:
                # Unicorn cannot raise it in the guest itself: the core does, once the
                # access has failed (see Aarch64Core.run)
                self.abort = (vaddr, self.level, access)
                return False
        entry.paddr, entry.perms = found
        if vaddr < LAST_PAGE:  # only what the guest's tables say (never a refusal)
            page = (found[0] & ~0xFFF, found[1])
            self.cache[vaddr >> 12] = page
            if self.table is not None and self.tracer is None:
                number = vaddr >> 12
                slot = self.table.slots[(number ^ number >> 12) & (SLOTS - 1)]
                slot.tag, slot.paddr, slot.perms = number + 1, *page
        return True

    def _traced_fill(self, uc: Any, vaddr: int, access: int, entry: Any) -> bool:
        remembered = (vaddr >> 12) in self.cache
        tracer, self.tracer = self.tracer, None
        try:
            ok = self.fill(uc, vaddr, access, entry, None)
        finally:
            self.tracer = tracer
        from unicorn import UC_MEM_FETCH, UC_MEM_WRITE

        kind = {UC_MEM_FETCH: "fetch", UC_MEM_WRITE: "write"}.get(access, "read")
        if ok:
            perms = "".join(c if entry.perms & bit else "-" for c, bit in
                            (("r", READ), ("w", WRITE), ("x", EXEC)))  # fmt: skip
            mmu_on = self._registers(uc)[0] & 1
            how = "remembered" if remembered else "walk" if mmu_on else "MMU off"
            result = f"-> {int(entry.paddr):#x} {perms} ({how})"
        else:
            result = f"-> translation fault at level {self.level}"
        tracer.line(self.core.obj.path, "mmu", f"fill {vaddr:#x} {kind} {result}")
        return ok

    def translate(self, uc: Any, vaddr: int) -> tuple[int, int] | None:
        """The physical address and permissions for ``vaddr``, or None (fault). Unicorn
        wants the address itself, not its page: it keeps the difference for the page."""
        self.walks += 1
        sctlr, tcr, ttbr0, ttbr1 = self._registers(uc)
        if not sctlr & 1:
            return vaddr, READ | WRITE | EXEC
        self.level = 0
        if vaddr >> 63:  # upper range: TTBR1
            size, granule = 64 - ((tcr >> 16) & 0x3F), GRANULE1.get((tcr >> 30) & 3, 12)
            if (tcr >> 23) & 1 or vaddr >> size != (1 << (64 - size)) - 1:
                return None
            table = ttbr1
        else:
            size, granule = 64 - (tcr & 0x3F), GRANULE0.get((tcr >> 14) & 3, 12)
            if (tcr >> 7) & 1 or vaddr >> size:
                return None
            table = ttbr0
        stride = granule - 3
        levels = -(-(size - granule) // stride)
        level = 4 - levels
        table &= ADDRESS_MASK & ~((1 << granule) - 1)
        while True:
            self.level = level
            shift = granule + stride * (3 - level)
            index = (vaddr >> shift) & ((1 << stride) - 1)
            desc = int.from_bytes(uc.mem_read(table + index * 8, 8), "little")
            if not desc & 1:
                return None
            out = desc & ADDRESS_MASK & ~((1 << granule) - 1)
            if level < 3 and desc & 2:  # a table
                table, level = out, level + 1
                continue
            if level == 3 and not desc & 2:
                return None  # reserved at level 3
            block = desc & ADDRESS_MASK & ~((1 << shift) - 1)
            paddr = block | (vaddr & ((1 << shift) - 1))
            perms = READ
            if not (desc >> 7) & 1:  # AP[2] = 0: writable
                perms |= WRITE
            if not (desc >> 53) & 1:  # PXN = 0: executable at EL1
                perms |= EXEC
            return paddr, perms


def install(core: Any) -> Translator:
    """Switch ``core``'s Unicorn to the virtual TLB filled by a :class:`Translator`:
    through the native hook (``qc_a64_tlb_fill``) where the extension is built, else in
    Python."""
    from unicorn import UC_HOOK_TLB_FILL, UC_TLB_VIRTUAL

    translator = Translator(core)
    uc = core.uc
    uc.ctl_set_tlb_mode(UC_TLB_VIRTUAL)
    hooks = native.hooks()
    if hooks is None:
        uc.hook_add(UC_HOOK_TLB_FILL, translator.fill)
        return translator

    def fill(handle: object, vaddr: int, access: int, entry: Any, user: object) -> bool:
        return translator.fill(uc, vaddr, access, entry.contents, None)

    callback = _FILL_CALLBACK(fill)
    table = _Table(SLOTS - 1, ctypes.cast(callback, ctypes.c_void_p).value)
    translator.table = table
    native.hook_add(uc, UC_HOOK_TLB_FILL, hooks["a64_tlb_fill"], table, keep=(callback,))
    return translator
