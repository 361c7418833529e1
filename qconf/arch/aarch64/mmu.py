"""The AArch64 stage 1 translation (EL1&0 regime) that Unicorn's virtual TLB asks for.

Unicorn's own TLB faults on U-Boot right after it enables the MMU; with ``UC_TLB_VIRTUAL``
every TLB miss calls a fill hook instead, and this module answers it as the hardware
would: with the MMU off (``SCTLR_EL1.M`` = 0) addresses are physical; with it on, the walk
starts at ``TTBR0_EL1`` or ``TTBR1_EL1`` by the address's top bits, with the granule (4,
16 or 64 KiB) and the number of levels from ``TCR_EL1``, follows table descriptors
(their ``APTable``, ``UXNTable`` and ``PXNTable`` limit what is below), and takes the
output address and the attributes from the block or page descriptor: ``AP[2:1]``,
``UXN``, ``PXN``, ``nG``, ``AF``.

**Permissions by regime.** The fill hook is not told which exception level asks, but
the core's PSTATE at that moment says it (Unicorn keeps a TLB per regime, so an answer
given to EL1 is never used at EL0): EL0 may read and write only where ``AP[1]`` allows
and execute where ``UXN`` is clear; EL1 reads everything mapped, writes where ``AP[2]``
is clear, executes where ``PXN`` is clear and EL0 cannot write; with ``PSTATE.PAN`` set
it cannot touch what EL0 can. (The unprivileged ``LDTR``/``STTR`` are checked as EL1:
Linux reaches user memory with them only after checking the address.)

**Faults.** A missing descriptor is a translation fault, a clear ``AF`` an access flag
fault, a forbidden access a permission fault, each at the level where the walk ended.
Unicorn cannot raise them in the guest (it stops with an error): the fill records the
fault (:attr:`Translator.abort`) and the core enters the guest's synchronous vector with
its fault status code. The one exception is the last page of the address space, which
Unicorn probes by itself (seen under U-Boot): answered as identity.

**Remembered translations, tagged as the hardware tags them.** Walks are remembered by
4 KiB page and address space: a non-global page (``nG``) under the ASID current when it
was walked (``TTBR1_EL1`` or ``TTBR0_EL1`` by ``TCR_EL1.A1``, 8 or 16 bits by
``TCR_EL1.AS``), a global one for every ASID. Switching address spaces forgets nothing;
``tlbi`` forgets what it names (a page in one ASID or in every ASID, one ASID, or
everything), on every core when it is a broadcast (inner shareable) one, and so does a
change of ``TCR_EL1`` or of ``SCTLR_EL1.M``/``WXN``. The native fill hook answers from a
4-way table of these translations; faults are never remembered.
"""

from __future__ import annotations

import ctypes
from typing import Any

from unicorn import arm64_const as a64

from qconf.arch.aarch64.stores import Span, answer
from qconf.emu import native

__all__ = ("A64State", "Translator", "install")

READ, WRITE, EXEC = 1, 2, 4
ADDRESS_MASK = (1 << 48) - 1
GRANULE0 = {0b00: 12, 0b01: 16, 0b10: 14}  # TG0
GRANULE1 = {0b10: 12, 0b11: 16, 0b01: 14}  # TG1
LAST_PAGE = (1 << 64) - 0x1000
GLOBAL = -1  # the cache's key for global translations
TRANSLATION, ACCESS_FLAG, PERMISSION = 0x04, 0x08, 0x0C  # fault status codes, + the level
UC_MEM_WRITE, UC_MEM_FETCH = 17, 18
SETS, WAYS = 4096, 4
"""The native table: translations remembered (per set, the 4 ways are searched)."""


class _Way(ctypes.Structure):
    """``qc_a64_way`` in ``native_hooks.h``."""

    _fields_ = [("tag", ctypes.c_uint64), ("paddr", ctypes.c_uint64), ("asid", ctypes.c_uint32),
                ("glob", ctypes.c_uint16), ("perms", ctypes.c_uint16)]  # fmt: skip


class _Ram(ctypes.Structure):
    """``qc_a64_ram``: guest RAM the walk reads descriptors from."""

    _fields_ = [("base", ctypes.c_uint64), ("size", ctypes.c_uint64), ("host", ctypes.c_void_p)]


class A64State(ctypes.Structure):
    """``qc_a64`` in ``native_hooks.h``: the native hooks' state. Without them Python
    keeps the same fields here (the translation registers as the guest last wrote them,
    the counts)."""

    _fields_ = [("python_mrs", ctypes.c_void_p), ("python_msr", ctypes.c_void_p),
                ("python_fill", ctypes.c_void_p), ("reg_read", ctypes.c_void_p),
                ("sctlr", ctypes.c_uint64), ("tcr", ctypes.c_uint64),
                ("ttbr0", ctypes.c_uint64), ("ttbr1", ctypes.c_uint64),
                ("fills", ctypes.c_uint64), ("fill_hits", ctypes.c_uint64),
                ("mrs", ctypes.c_uint64), ("msr", ctypes.c_uint64),
                ("sys", ctypes.c_uint64), ("tlbi", ctypes.c_uint64),
                ("peers", ctypes.c_void_p), ("npeers", ctypes.c_uint32),
                ("flush_pending", ctypes.c_uint32), ("sets_mask", ctypes.c_uint32),
                ("nrams", ctypes.c_uint32), ("ways", ctypes.POINTER(_Way)),
                ("rams", ctypes.POINTER(_Ram)), ("fault_vaddr", ctypes.c_uint64),
                ("fault_status", ctypes.c_uint32), ("fault_access", ctypes.c_uint32),
                ("walks", ctypes.c_uint64), ("victim", ctypes.c_uint32),
                ("reserved", ctypes.c_uint32), ("spans", ctypes.POINTER(Span)),
                ("nspans", ctypes.c_uint32), ("refused_store", ctypes.c_uint32)]  # fmt: skip


_FILL_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_bool, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int,
                                  ctypes.c_void_p, ctypes.c_void_p)  # fmt: skip


class _TlbEntry(ctypes.Structure):
    _fields_ = [("paddr", ctypes.c_uint64), ("perms", ctypes.c_uint32)]


def set_of(number: int) -> int:
    """The native table's set of a page number (``set_of`` in ``native_hooks.c``)."""
    return (number ^ (number >> 11) ^ (number >> 23)) & (SETS - 1)


def regime_shift(pstate: int) -> int:
    """Where the asking regime's permissions are in a remembered entry: EL0, EL1, or EL1
    with PSTATE.PAN set."""
    if (pstate >> 2) & 3 == 0:
        return 0
    return 6 if (pstate >> 22) & 1 else 3


def permissions(desc: int, table_attrs: int) -> int:
    """The nine permission bits (EL0, EL1, EL1 with PAN; read, write, execute each) of a
    block or page descriptor under tables whose ``APTable``/``XNTable`` bits (63:59 of
    each, ORed) are ``table_attrs``."""
    readonly = (desc >> 7) & 1 or (table_attrs >> 62) & 1  # AP[2], APTable[1]
    user = (desc >> 6) & 1 and not (table_attrs >> 61) & 1  # AP[1], APTable[0]
    uxn = (desc >> 54) & 1 or (table_attrs >> 60) & 1
    pxn = (desc >> 53) & 1 or (table_attrs >> 59) & 1
    data = READ | (0 if readonly else WRITE)
    el0 = (data if user else 0) | (0 if uxn else EXEC)
    # privileged execution never where EL0 can write
    el1_exec = 0 if pxn or (user and not readonly) else EXEC
    el1 = data | el1_exec
    el1_pan = (0 if user else data) | el1_exec
    return el0 | el1 << 3 | el1_pan << 6


class Translator:
    """Fills Unicorn's TLB for one core by walking the guest's page tables.

    :param core: the core (its engine, its fault reports, its registers).
    :param state: the native hooks' state (also used without them).
    :param table: the native table of remembered translations, None without native hooks.
    """

    def __init__(self, core: Any, state: A64State, table: Any = None) -> None:
        self.core = core
        self.state = state
        self.table = table
        self.walks = 0
        self.cache: dict[int, dict[int, tuple[int, int]]] = {}  # asid -> page -> (paddr, perms)
        self.peers: list[Translator] = []  # the other cores a broadcast tlbi reaches
        self.abort: tuple[int, int, int] | None = None  # (address, status, access) refused
        self._fault = (TRANSLATION, 0)  # the last walk's fault: kind and level
        self._ranges: list[tuple[int, int, int]] = []  # (guest base, size, host address)
        self._ram_array: Any = None
        self.spans: list[tuple[int, int, bool]] = []  # the physical map (stores.set_map)
        self.span_array: Any = None
        self.tracer: Any = None  # a qconf.emu.trace.Tracer showing every fill (-d mmu)

    # --- the regime -------------------------------------------------------------------

    def asid(self) -> int:
        """The current ASID (``TCR_EL1.A1`` says which TTBR holds it, ``AS`` its width)."""
        st = self.state
        ttbr = st.ttbr1 if (st.tcr >> 22) & 1 else st.ttbr0
        return int(ttbr >> 48) & (0xFFFF if (st.tcr >> 36) & 1 else 0xFF)

    def load_registers(self) -> None:
        """Read the translation registers from the engine (at reset, or when the host set
        them); the guest's writes are followed by the MSR hook."""
        uc, st = self.core.uc, self.state
        st.sctlr = int(uc.reg_read(a64.UC_ARM64_REG_CP_REG, (1, 0, 3, 0, 0, 0)))
        st.tcr = int(uc.reg_read(a64.UC_ARM64_REG_CP_REG, (2, 0, 3, 0, 2, 0)))
        st.ttbr0 = int(uc.reg_read(a64.UC_ARM64_REG_TTBR0_EL1))
        st.ttbr1 = int(uc.reg_read(a64.UC_ARM64_REG_TTBR1_EL1))
        self.drop_all()

    def set_memory(self, ranges: list[tuple[int, int, int]]) -> None:
        """The guest RAM the walk reads descriptors from directly: (guest base, size,
        host address) each (elsewhere, it reads through the engine)."""
        self._ranges = list(ranges)
        array = (_Ram * max(1, len(ranges)))(*[_Ram(b, s, h) for b, s, h in ranges])
        self._ram_array = array  # kept alive with the state that points at it
        self.state.rams = ctypes.cast(array, ctypes.POINTER(_Ram))
        self.state.nrams = len(ranges)

    def fault(self) -> tuple[int, int, int] | None:
        """The fault the last refused fill found, by the walk here or the native one:
        (address, fault status code, access); and forget it."""
        found, self.abort = self.abort, None
        st = self.state
        if st.fault_status:
            found = (int(st.fault_vaddr), int(st.fault_status), int(st.fault_access))
            st.fault_status = 0
        return found

    @property
    def all_walks(self) -> int:
        """Walks of the page tables so far (in Python and in the native hook)."""
        return self.walks + int(self.state.walks)

    def connect(self, peers: list[Translator]) -> None:
        """The other cores' walks, which a broadcast ``tlbi`` reaches too."""
        self.peers = peers
        if self.table is not None:
            array = (ctypes.POINTER(A64State) * max(1, len(peers)))(
                *[ctypes.pointer(p.state) for p in peers]
            )
            self._peer_array = array  # kept alive with the state that points at it
            self.state.peers = ctypes.cast(array, ctypes.c_void_p).value
            self.state.npeers = len(peers)

    # --- checkpoints ------------------------------------------------------------------

    COUNTS = ("fills", "fill_hits", "mrs", "msr", "sys", "tlbi", "walks", "victim")

    def saved(self) -> dict[str, Any]:
        """What a checkpoint keeps: the remembered translations (the native table's ways
        by slot, or Python's in the order they were made) and the counts."""
        if self.table is not None:
            ways = [[i, w.tag, w.paddr, w.asid, w.glob, w.perms]
                    for i, w in enumerate(self.table) if w.tag]  # fmt: skip
        else:
            ways = [[key, number, paddr, perms] for key, pages in self.cache.items()
                    for number, (paddr, perms) in pages.items()]  # fmt: skip
        counts = {name: int(getattr(self.state, name)) for name in self.COUNTS}
        return {"native": self.table is not None, "ways": ways, "walks": self.walks,
                "counts": counts}  # fmt: skip

    def load_saved(self, saved: dict[str, Any]) -> None:
        """Remember what :meth:`saved` gave. A checkpoint of the other kind (native or
        not) starts with nothing remembered: the guest's tables give the same answers."""
        self.drop_all()
        if bool(saved["native"]) == (self.table is not None):
            if self.table is not None:
                for i, tag, paddr, asid, glob, perms in saved["ways"]:
                    way = self.table[int(i)]
                    way.tag, way.paddr, way.asid = int(tag), int(paddr), int(asid)
                    way.glob, way.perms = int(glob), int(perms)
            else:
                for key, number, paddr, perms in saved["ways"]:
                    self.cache.setdefault(int(key), {})[int(number)] = (int(paddr), int(perms))
        self.walks = int(saved["walks"])
        for name, value in saved["counts"].items():
            setattr(self.state, name, int(value))

    # --- forgetting (tlbi, and register changes) ---------------------------------------

    def drop_all(self) -> None:
        self.cache.clear()
        if self.table is not None:
            ctypes.memset(self.table, 0, ctypes.sizeof(self.table))

    def drop_asid(self, asid: int) -> None:
        self.cache.pop(asid, None)
        if self.table is not None:
            for way in self.table:
                if way.tag and not way.glob and way.asid == asid:
                    way.tag = 0

    def drop_page(self, number: int, asid: int | None) -> None:
        """Forget page ``number`` in ``asid`` and globally (``asid`` None: every ASID)."""
        for key, pages in self.cache.items():
            if asid is None or key in (asid, GLOBAL):
                pages.pop(number, None)
        if self.table is not None:
            base = set_of(number) * WAYS
            for way in self.table[base : base + WAYS]:
                if way.tag == number + 1 and (asid is None or way.glob or way.asid == asid):
                    way.tag = 0

    def tlbi(self, op1: int, crm: int, op2: int, value: int) -> None:
        """``tlbi`` with Xt = ``value`` (``invalidate`` in ``native_hooks.c``), on the
        peers too when it is a broadcast."""
        targets = [self]
        if op1 == 0 and crm in (1, 3):
            targets += self.peers
            for peer in self.peers:
                peer.state.flush_pending |= 1
        for t in targets:
            t._invalidate(op1, op2, value)

    def _invalidate(self, op1: int, op2: int, value: int) -> None:
        asid = (value >> 48) & (0xFFFF if (self.state.tcr >> 36) & 1 else 0xFF)
        number = value & 0xFFFFFFFFFFF
        if number >> 43:
            number |= 0xFF << 44
        if op1 != 0:
            self.drop_all()
        elif op2 in (1, 5):
            self.drop_page(number, asid)
        elif op2 in (3, 7):
            self.drop_page(number, None)
        elif op2 == 2:
            self.drop_asid(asid)
        else:
            self.drop_all()

    # --- the fill hook ----------------------------------------------------------------

    def trace_to(self, tracer: Any) -> None:
        """Show every fill in the ``mmu`` trace. The core was made with the Python hooks
        for it (:attr:`~qconf.emu.context.CoreContext.python_hooks`): each fill reaches
        :meth:`fill`."""
        self.tracer = tracer

    def fill(self, uc: Any, vaddr: int, access: int, entry: Any, user_data: object) -> bool:
        if self.tracer is not None:
            return self._traced_fill(uc, vaddr, access, entry)
        st = self.state
        if self.table is None:  # the native hook counts its own
            st.fills += 1
            if not st.sctlr & 1:
                return answer(self, vaddr, access, vaddr & ~0xFFF, READ | WRITE | EXEC, entry)
        try:
            pstate = self.core.regs.read(a64.UC_ARM64_REG_PSTATE)
            shift = regime_shift(pstate)
            need = EXEC if access == UC_MEM_FETCH else WRITE if access == UC_MEM_WRITE else READ
            number = vaddr >> 12
            asid = self.asid()
            if self.table is None:
                found = self.cache.get(asid, {}).get(number) or self.cache.get(GLOBAL, {}).get(
                    number
                )
                if found is not None and (found[1] >> shift) & need:
                    st.fill_hits += 1
                    return answer(self, vaddr, access, found[0], (found[1] >> shift) & 7, entry)
            walked = self.translate(uc, vaddr)
        except Exception as exc:  # never into C; the run stops with a report
            self.core.fault = self.core.fault_report(f"page-table walk failed: {exc!r}")
            uc.emu_stop()
            return False
        if walked is None:
            if vaddr >= LAST_PAGE:
                # Unicorn probes this page on its own (seen under U-Boot, where nothing maps
                # it); answering identity there is what lets the guest run on
                return answer(self, vaddr, access, vaddr & ~0xFFF, READ | WRITE | EXEC, entry)
            kind, level = self._fault
            self.abort = (vaddr, kind + level, access)
            return False
        paddr, perms, is_global, level = walked
        self._remember(number, paddr, perms, is_global, asid)
        mine = (perms >> shift) & 7
        if not mine & need:
            self.abort = (vaddr, PERMISSION + level, access)
            return False
        return answer(self, vaddr, access, paddr, mine, entry)

    def _traced_fill(self, uc: Any, vaddr: int, access: int, entry: Any) -> bool:
        """:meth:`fill`, shown in the ``mmu`` trace: the address, the access, and the
        page it reached with its permissions, or the fault."""
        hits, walks = int(self.state.fill_hits), self.walks
        tracer, self.tracer = self.tracer, None
        try:
            ok = self.fill(uc, vaddr, access, entry, None)
        finally:
            self.tracer = tracer
        kind = {UC_MEM_FETCH: "fetch", UC_MEM_WRITE: "write"}.get(access, "read")
        if ok:
            perms = "".join(c if entry.perms & bit else "-" for c, bit in
                            (("r", READ), ("w", WRITE), ("x", EXEC)))  # fmt: skip
            how = ("remembered" if int(self.state.fill_hits) > hits
                   else "walk" if self.walks > walks else "MMU off")  # fmt: skip
            result = f"-> {int(entry.paddr):#x} {perms} ({how})"
        elif self.abort is not None:
            status = self.abort[1]
            what = {ACCESS_FLAG: "access flag", PERMISSION: "permission"}.get(
                status & 0x0C, "translation"
            )
            result = f"-> {what} fault at level {status & 3}"
        else:
            result = "-> walk failed"
        tracer.line(self.core.obj.path, "mmu", f"fill {vaddr:#x} {kind} {result}")
        return ok

    def _remember(self, number: int, paddr: int, perms: int, is_global: bool, asid: int) -> None:
        key = GLOBAL if is_global else asid
        if self.table is None:
            self.cache.setdefault(key, {})[number] = (paddr, perms)
            return
        base = set_of(number) * WAYS
        ways = self.table
        slot = -1
        for i in range(base, base + WAYS):
            way = ways[i]
            if way.tag == 0 or (way.tag == number + 1 and way.glob == is_global
                                and (is_global or way.asid == asid)):  # fmt: skip
                slot = i
                break
        if slot < 0:
            slot = base + self.state.victim
            self.state.victim = (self.state.victim + 1) % WAYS
        way = ways[slot]
        way.tag, way.paddr, way.asid = number + 1, paddr, asid
        way.glob, way.perms = is_global, perms

    # --- the walk ---------------------------------------------------------------------

    def _read_phys(self, address: int) -> int:
        """The descriptor at physical ``address`` (``read_desc`` in ``native_hooks.c``)."""
        for base, size, host in self._ranges:
            if base <= address <= base + size - 8:
                return int.from_bytes(ctypes.string_at(host + address - base, 8), "little")
        return int.from_bytes(self.core.uc.mem_read(address, 8), "little")

    def translate(self, uc: Any, vaddr: int) -> tuple[int, int, bool, int] | None:
        """The page's physical address, its permission bits (see :func:`permissions`),
        whether it is global and the level of its descriptor; None: a fault (kind and
        level in ``_fault``). With the MMU off: the address itself, everything allowed."""
        self.walks += 1
        st = self.state
        sctlr, tcr = int(st.sctlr), int(st.tcr)
        if not sctlr & 1:
            return vaddr & ~0xFFF, 0x1FF, True, 0
        self._fault = (TRANSLATION, 0)
        if vaddr >> 63:  # upper range: TTBR1
            size, granule = 64 - ((tcr >> 16) & 0x3F), GRANULE1.get((tcr >> 30) & 3, 12)
            if (tcr >> 23) & 1 or vaddr >> size != (1 << (64 - size)) - 1:
                return None
            table = int(st.ttbr1)
        else:
            size, granule = 64 - (tcr & 0x3F), GRANULE0.get((tcr >> 14) & 3, 12)
            if (tcr >> 7) & 1 or vaddr >> size:
                return None
            table = int(st.ttbr0)
        stride = granule - 3
        levels = -(-(size - granule) // stride)
        level = 4 - levels
        table &= ADDRESS_MASK & ~((1 << granule) - 1)
        table_attrs = 0
        read = self._read_phys
        while True:
            shift = granule + stride * (3 - level)
            index = (vaddr >> shift) & ((1 << stride) - 1)
            desc = read(table + index * 8)
            if not desc & 1 or (level == 3 and not desc & 2):  # invalid, or reserved
                self._fault = (TRANSLATION, level)
                return None
            if level < 3 and desc & 2:  # a table
                table_attrs |= desc & (0x1F << 59)
                table, level = desc & ADDRESS_MASK & ~((1 << granule) - 1), level + 1
                continue
            if not (desc >> 10) & 1:  # AF clear: Linux ages pages this way
                self._fault = (ACCESS_FLAG, level)
                return None
            block = desc & ADDRESS_MASK & ~((1 << shift) - 1)
            paddr = (block | (vaddr & ((1 << shift) - 1))) & ~0xFFF
            wxn = (sctlr >> 19) & 1
            perms = permissions(desc, table_attrs)
            if wxn:  # writable means not executable, in every regime
                for at in (0, 3, 6):
                    if (perms >> at) & WRITE:
                        perms &= ~(EXEC << at)
            return paddr, perms, not (desc >> 11) & 1, level


def install(core: Any, python: bool = False) -> Translator:
    """Switch ``core``'s Unicorn to the virtual TLB filled by a :class:`Translator`:
    through the native hook (``qc_a64_tlb_fill``) where the extension is built (unless
    ``python``: every fill then reaches Python, for the ``mmu`` trace), else in Python.
    The core's system register hooks (:mod:`qconf.arch.aarch64.sysregs`) share its
    state."""
    from unicorn import UC_HOOK_TLB_FILL, UC_TLB_VIRTUAL

    uc = core.uc
    uc.ctl_set_tlb_mode(UC_TLB_VIRTUAL)
    state = A64State()
    hooks = None if python else native.hooks()
    if hooks is None:
        translator = Translator(core, state)
        uc.hook_add(UC_HOOK_TLB_FILL, translator.fill)
        return translator
    sizes = native.sizes()
    assert (sizes["a64"], sizes["a64_way"]) == (ctypes.sizeof(A64State), ctypes.sizeof(_Way))
    table = (_Way * (SETS * WAYS))()
    translator = Translator(core, state, table)

    def fill(handle: object, vaddr: int, access: int, entry: int, user: object) -> bool:
        result = _TlbEntry.from_address(entry)
        return translator.fill(uc, vaddr, access, result, None)

    callback = _FILL_CALLBACK(fill)
    state.python_fill = ctypes.cast(callback, ctypes.c_void_p).value
    state.reg_read = native.address_of("uc_reg_read")
    state.sets_mask = SETS - 1
    state.ways = ctypes.cast(table, ctypes.POINTER(_Way))
    native.hook_add(uc, UC_HOOK_TLB_FILL, hooks["a64_tlb_fill"], state,
                    keep=(callback, table))  # fmt: skip
    return translator
