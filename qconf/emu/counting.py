"""Counting a CPU's guest instructions, and ending its time slice, with Unicorn hooks.

Every core has one :class:`Counter` in both timings. It counts guest instructions (a
compressed RISC-V or 16-bit Thumb instruction is one), the same on every host, and ends
the core's slice:

- **Counting**, in both timings: one block hook. It *checks first*: when the slice's
  budget is used up or the machine asked the slice to end (:meth:`Counter.cut`), it
  stops the engine before the block, which does not run and is not counted; else it adds
  the block's instruction count. The count comes from a table filled by a
  ``UC_HOOK_EDGE_GENERATED`` hook, which Unicorn calls with each new translated block's
  ``icount`` (keyed by the block's pc and size); Unicorn does not call it for an
  engine's very first block, nor for blocks translated outside its main loop, so on a
  miss the count is decoded from the code bytes (read through the MMU with
  ``uc_vmem_read``: RISC-V lengths from the low two bits, Thumb from the first
  halfword's top five bits; AArch64 is size / 4 and needs no table). A key whose
  translations disagree (the same pc and size holding different code, under different
  page tables) is decoded every time.
- **Leaving a block in its middle**: the block was counted whole at its start, so what
  did not run of it is taken back, decoded from the code: when the slice ends with pc
  inside the block (:meth:`Counter.finish`: an exact-timing stop, RISC-V ``wfi``, which
  halts without ending its block), or when an instruction raises an exception
  (:meth:`Counter.exception_at`, called by the core's exception hook with the faulting
  pc: the instructions after it are taken back; the one that raised counts, in both
  timings, as it was issued: an ``ecall``, an emulated ``rdtime``, a load that faults
  and runs again after the handler counts each time).
- **fast** timing: the block hook alone. A slice ends at a translated-block boundary, at
  most one block past its budget (the scheduler gives that CPU less next time).
- **exact** timing: a code hook on every instruction as well, which only says where to
  stop: before the instruction at which the budget runs out (the block hook works out
  its index in the block). A slice then ends at its budget's instruction; Unicorn
  reverts a stop asked inside a Thumb IT block and runs the instruction anyway, so the
  hook asks again at the next one, and a slice may end up to the end of an IT block late.
  Counting is the block hook's, as in fast timing: the two timings count alike, and
  devices read the same time (to the end of the running block).
- **Stops asked by the machine** (a device ending the run, an interrupt raised, Ctrl-C)
  never stop the engine directly: they :meth:`~Counter.cut` the slice, which ends at the
  next block boundary in both timings.

- **On the store-fix engine** (``qconf engine build``, docs/engine.md), fast timing
  needs no block hook: the engine's translated code does the block hook's work
  (``uc_qconf_counter``: check first, count the whole block, note its pc and size, in
  the same :class:`_State`) and calls ``qc_inline_stop`` when the budget is used, so
  the counts are the same and the call per block is gone. Exact timing keeps its hooks.

There is exactly one hook of each kind on an engine: a second hook of the same kind makes
Unicorn walk a list instead of calling it straight from the translated code (~3x slower).

The hooks are C (:mod:`qconf.emu.native`, ``counting.c``) where the extension is built,
else the Python ones below: the same algorithm, step for step, so guest output and
counts are identical; only the speed differs.
"""

from __future__ import annotations

import ctypes
from typing import Any

from qconf.emu import native
from qconf.model.facets import instruction_length

__all__ = ("KINDS", "Counter", "count_instructions", "make_counter", "read_code", "read_memory")

KINDS = {"fixed4": 0, "riscv": 1, "thumb": 2}
"""How instruction lengths are decoded (an architecture's ``encoding``), as the native
hooks number them."""
ENCODINGS = {kind: name for name, kind in KINDS.items()}
TABLE_SLOTS = 1 << 14
"""Blocks the native table remembers (hashed by pc and size, 8 slots probed; past that a
block replaces another, which is decoded again when it next runs)."""
UC_PROT_READ, UC_PROT_EXEC = 1, 4
STOP_NEVER = 0xFFFFFFFF


class _Entry(ctypes.Structure):
    _fields_ = [("pc", ctypes.c_uint64), ("size", ctypes.c_uint32),
                ("icount", ctypes.c_uint16), ("ambiguous", ctypes.c_uint16)]  # fmt: skip


class _State(ctypes.Structure):
    """``qc_counter`` in ``qconf/emu/native/counting.h``."""

    _fields_ = [("count", ctypes.c_uint64), ("limit", ctypes.c_uint64),
                ("block_pc", ctypes.c_uint64), ("block_size", ctypes.c_uint32),
                ("kind", ctypes.c_uint32), ("block_start", ctypes.c_uint64),
                ("misses", ctypes.c_uint64), ("mask", ctypes.c_uint64),
                ("table", ctypes.POINTER(_Entry)),
                ("emu_stop", ctypes.c_void_p), ("vmem_read", ctypes.c_void_p),
                ("cut", ctypes.c_uint32), ("stopped", ctypes.c_uint32),
                ("position", ctypes.c_uint32), ("stop_at", ctypes.c_uint32),
                ("failed", ctypes.c_uint32), ("reserved", ctypes.c_uint32)]  # fmt: skip


def read_code(uc: Any, address: int, size: int, prot: int = UC_PROT_EXEC) -> bytes | None:
    """``size`` bytes of code at virtual ``address`` as the CPU fetches them (through the
    MMU), or None if they cannot be read."""
    from unicorn.unicorn_py3 import unicorn as binding

    buf = ctypes.create_string_buffer(size)
    err = binding.uclib.uc_vmem_read(
        uc._uch, ctypes.c_uint64(address), ctypes.c_int(prot), buf, ctypes.c_size_t(size)
    )
    return None if err else buf.raw


def read_memory(uc: Any, address: int, size: int) -> bytes | None:
    """``size`` bytes at virtual ``address`` as the CPU reads data (through the MMU), or
    None if they cannot be read."""
    return read_code(uc, address, size, UC_PROT_READ)


def count_instructions(kind: int, code: bytes) -> int:
    """How many instructions start in ``code`` (as ``decode`` in ``counting.c``)."""
    if kind == 0:
        return len(code) // 4
    encoding = ENCODINGS[kind]
    n = at = 0
    while at + 2 <= len(code):
        at += instruction_length(encoding, code[at : at + 2])
        n += 1
    return n


class Counter:
    """One engine's instruction count and slice end (the interface both the native and
    the Python hooks give).

    :param uc: the engine (hooks are installed on it now).
    :param kind: how instruction lengths are decoded (:data:`KINDS`).
    :param exact: exact timing (the slice ends at its budget's instruction).
    """

    uc: Any
    exact: bool
    kind: int

    @property
    def count(self) -> int:
        """Instructions the engine has executed (while it runs: to the end of the block it
        is running, which was counted whole at its start)."""
        raise NotImplementedError

    @property
    def misses(self) -> int:
        """Blocks whose count was decoded from their code (no table entry)."""
        raise NotImplementedError

    @property
    def block_pc(self) -> int:
        """The pc of the translated block running now (the last one counted)."""
        return self._block()[0]

    def arm(self, budget: int) -> None:
        """Start a slice of ``budget`` instructions."""
        raise NotImplementedError

    def cut(self) -> None:
        """End the running slice at the next translated block."""
        raise NotImplementedError

    def load(self, count: int) -> None:
        """Start from ``count`` instructions (a checkpoint is loaded, between slices). The
        table of block counts is a cache: an empty one gives the same counts."""
        raise NotImplementedError

    def stopped(self) -> bool:
        """Whether the counter ended the last slice (budget or cut), not the guest."""
        raise NotImplementedError

    def finish(self, pc: int) -> None:
        """The slice ended with the core at ``pc``, the next instruction to run: take back
        the rest of a block it left in its middle (an exact-timing stop; RISC-V ``wfi``)."""
        self._take_back_from(self.uc, pc, faulted=False)
        self._end_block()

    def exception_at(self, pc: int) -> None:
        """The instruction at ``pc`` raised an exception: take back the rest of its block,
        which did not run."""
        self._take_back_from(self.uc, pc, faulted=True)
        self._end_block()

    def _end_block(self) -> None:
        raise NotImplementedError

    def _block(self) -> tuple[int, int, int]:
        """The block counted last: its pc, size (0: none) and count before it."""
        raise NotImplementedError

    def _take_back(self, n: int) -> None:
        raise NotImplementedError

    def _take_back_from(self, uc: Any, pc: int, faulted: bool) -> None:
        """The block hook counted the current block whole: the instructions from ``pc``
        (after it, if it ``faulted``) to the block's end did not run."""
        start, size, _ = self._block()
        if not start <= pc < start + size:  # (size 0: no block in progress)
            return
        if self.kind == 0:
            n = (start + size - pc) // 4
        else:
            code = read_code(uc, pc, start + size - pc)
            n = count_instructions(self.kind, code) if code else 0
        n -= 1 if faulted and n else 0
        if n > 0:
            self._take_back(n)


class NativeCounter(Counter):
    """The counting hooks of ``counting.c``."""

    def __init__(self, uc: Any, kind: int, exact: bool, hooks: dict[str, int]) -> None:
        import unicorn

        self.uc, self.kind, self.exact = uc, kind, exact
        slots = 1 if kind == 0 else TABLE_SLOTS
        self._table = (_Entry * slots)()
        state = self._state = _State()
        state.limit = 0
        state.mask = slots - 1
        state.table = ctypes.cast(self._table, ctypes.POINTER(_Entry))
        state.emu_stop = native.address_of("uc_emu_stop")
        state.vmem_read = native.address_of("uc_vmem_read")
        state.kind = kind
        self.inline = not exact and native.engine_symbol(native.INLINE_COUNTER) is not None
        if self.inline:  # the engine counts each block in its translated code
            from unicorn.unicorn_py3 import unicorn as binding

            err = binding.uclib.uc_qconf_counter(
                uc._uch, ctypes.byref(state), ctypes.c_void_p(hooks["inline_stop"])
            )
            if err:
                raise unicorn.UcError(err)
            uc.__dict__.setdefault("_qconf_native", []).append((state, self._table))
            return
        block = hooks["block_exact" if exact else "block"]
        native.hook_add(uc, unicorn.UC_HOOK_BLOCK, block, state, keep=(self._table,))
        if kind != 0:
            native.hook_add(uc, unicorn.UC_HOOK_EDGE_GENERATED, hooks["edge"], state)
        if exact:
            native.hook_add(uc, unicorn.UC_HOOK_CODE, hooks["code_exact"], state)

    @property
    def state(self) -> _State:
        """The ``qc_counter`` the hooks share (other native hooks take back what did not
        run of a block through it: ``qc_exception_at``)."""
        return self._state

    @property
    def count(self) -> int:
        return int(self._state.count)

    @property
    def misses(self) -> int:
        return int(self._state.misses)

    def arm(self, budget: int) -> None:
        s = self._state
        s.limit = s.count + budget
        s.cut = s.stopped = s.block_size = 0

    def cut(self) -> None:
        self._state.cut = 1
        self._state.limit = 0  # what the block hook checks

    def load(self, count: int) -> None:
        self._state.count = count
        self._state.block_size = 0

    def stopped(self) -> bool:
        return bool(self._state.stopped)

    def finish(self, pc: int) -> None:
        if self._state.block_size:  # else the counter stopped the slice between blocks
            super().finish(pc)

    def _end_block(self) -> None:
        self._state.block_size = 0

    def _block(self) -> tuple[int, int, int]:
        s = self._state
        return int(s.block_pc), int(s.block_size), int(s.block_start)

    def _take_back(self, n: int) -> None:
        self._state.count -= n


class PythonCounter(Counter):
    """The same hooks in Python (no extension, or ``QCONF_NO_NATIVE=1``)."""

    def __init__(self, uc: Any, kind: int, exact: bool) -> None:
        import unicorn

        self.uc, self.kind, self.exact = uc, kind, exact
        self._count = self._limit = self._block_pc = self._block_start = 0
        self._block_size = self._misses = self._position = 0
        self._stop_at = STOP_NEVER
        self._cut = self._stopped = False
        self._table: dict[tuple[int, int], int | None] = {}  # None: ambiguous, decode
        uc.hook_add(unicorn.UC_HOOK_BLOCK, self._on_block)
        if kind != 0:
            uc.hook_add(unicorn.UC_HOOK_EDGE_GENERATED, self._on_edge)
        if exact:
            uc.hook_add(unicorn.UC_HOOK_CODE, self._on_code_exact)

    # --- the hooks (as counting.c) ----------------------------------------------------

    def _block_count(self, uc: Any, pc: int, size: int) -> int:
        if self.kind == 0:
            return size // 4
        n = self._table.get((pc, size))
        if n:
            return n
        self._misses += 1
        code = read_code(uc, pc, size)
        found = count_instructions(self.kind, code) if code is not None else 0
        if n is None and (pc, size) not in self._table:
            self._table[(pc, size)] = found
        return found

    def _on_block(self, uc: Any, pc: int, size: int, user_data: object) -> None:
        if self._count >= self._limit:
            self._stopped, self._block_size = True, 0
            uc.emu_stop()
            return
        self._block_pc, self._block_size, self._block_start = pc, size, self._count
        self._count += self._block_count(uc, pc, size)
        if self.exact:
            self._position = 0
            over = self._count > self._limit
            self._stop_at = self._limit - self._block_start if over else STOP_NEVER

    def _on_code_exact(self, uc: Any, pc: int, size: int, user_data: object) -> None:
        position = self._position
        self._position = position + 1
        if position >= self._stop_at:
            self._stopped = True
            uc.emu_stop()

    def _on_edge(self, uc: Any, cur: Any, prev: Any, user_data: object) -> None:
        key, icount = (int(cur.pc), int(cur.size)), int(cur.icount)
        if not icount:
            return
        known = self._table.get(key, 0)
        if known is None or (known and known != icount):
            self._table[key] = None
        elif not known:
            self._table[key] = icount

    # --- the interface ----------------------------------------------------------------

    @property
    def count(self) -> int:
        return self._count

    @property
    def misses(self) -> int:
        return self._misses

    def arm(self, budget: int) -> None:
        self._limit = self._count + budget
        self._cut = self._stopped = False
        self._block_size = 0

    def cut(self) -> None:
        self._cut = True
        self._limit = 0  # what the block hook checks

    def load(self, count: int) -> None:
        self._count = count
        self._block_size = 0

    def stopped(self) -> bool:
        return self._stopped

    def finish(self, pc: int) -> None:
        if self._block_size:  # else the counter stopped the slice between blocks
            super().finish(pc)

    def _end_block(self) -> None:
        self._block_size = 0

    def _block(self) -> tuple[int, int, int]:
        return self._block_pc, self._block_size, self._block_start

    def _take_back(self, n: int) -> None:
        self._count -= n


def make_counter(uc: Any, decode: str, exact: bool) -> Counter:
    """The counter for ``uc``: native hooks where the extension is built and allowed,
    else the Python ones."""
    kind = KINDS[decode]
    hooks = native.hooks()
    if hooks is None:
        return PythonCounter(uc, kind, exact)
    sizes = native.sizes()
    mine = {"counter": ctypes.sizeof(_State), "entry": ctypes.sizeof(_Entry)}
    assert {k: sizes[k] for k in mine} == mine, sizes
    return NativeCounter(uc, kind, exact, hooks)
