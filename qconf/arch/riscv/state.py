"""The parts of a RISC-V hart's state that Unicorn 2.1.4 gives no way to set: ``mhartid``
and the machine-level interrupt bits of ``mip``.

``reg_write`` cannot set them: ``mhartid`` is read-only (every engine's is 0), and ``mip``
takes only the bits software may write (SSIP, STIP, SEIP), while MSIP, MTIP and MEIP are
wires from the CLINT and the PLIC. Both live in the engine's ``CPURISCVState``, which
``uc_context_save`` copies out and ``uc_context_restore`` copies back whole (a
``memcpy`` of the structure up to ``rdtime_fn``, ``qemu/target/riscv/unicorn.c``). So
they are written through one saved context: save, change the word, restore. The fields
are found once, by what they hold (``qemu/target/riscv/cpu.h``: ``misa, misa_mask,
features (32 bits), priv, virt, resetvec, mhartid, mstatus, mip``), and checked by
writing through the API and reading the copy before anything is relied on.

With the machine-level bits in ``mip``, Unicorn takes M-mode interrupts itself, as it
does the S-mode ones: at the next translated block once enabled, which is also right
after the instruction that enables them (a CSR write, ``mret`` and ``sret`` end their
block), and the guest reads its pending interrupts in ``mip``.
"""

from __future__ import annotations

import ctypes
import struct
from typing import Any

from unicorn import riscv_const as rv

from qconf.emu.memory import RunError

__all__ = ("HartState",)

RESET_VECTOR = 0x1000
"""Unicorn's ``resetvec``, which the layout check expects to find."""


class HartState:
    """Direct access to one engine's ``mhartid`` and ``mip``.

    :param uc: the engine (a RISC-V one that has not run yet).
    :param xlen: its register width, 32 or 64.
    :raises RunError: the engine's state is not laid out as Unicorn 2.1.4's.
    """

    def __init__(self, uc: Any, xlen: int) -> None:
        from unicorn.unicorn_py3 import unicorn as binding

        self._uc = uc
        self._save = binding.uclib.uc_context_save
        self._restore = binding.uclib.uc_context_restore
        self._word = xlen // 8
        self._fmt = "<Q" if xlen == 64 else "<I"
        self._context = uc.context_save()  # one buffer, kept: saving allocates nothing
        self._handle = self._context.context
        base = ctypes.cast(self._handle, ctypes.c_void_p).value
        assert base is not None
        self._base = base
        self._mhartid, self._mip = self._locate()

    def _fetch(self) -> None:
        self._save(self._uc._uch, self._handle)

    def _field(self, offset: int) -> int:
        value: int = struct.unpack(self._fmt, ctypes.string_at(self._base + offset, self._word))[0]
        return value

    def _locate(self) -> tuple[int, int]:
        uc, word = self._uc, self._word
        raw = bytes(self._context)
        misa = struct.pack(self._fmt, uc.reg_read(rv.UC_RISCV_REG_MISA))
        at = raw.find(misa + misa)  # misa, then misa_mask: equal at reset
        priv = at + 2 * word + max(4, word)  # past the 32-bit features, aligned
        mhartid, mstatus, mip = priv + 3 * word, priv + 4 * word, priv + 5 * word
        ok = at >= 0 and mip + word <= len(raw)
        if ok:
            ok = self._field(priv) == 3 and self._field(priv + 2 * word) == RESET_VECTOR
        if ok:  # check the guesses by writing through the API and reading the copy
            status = uc.reg_read(rv.UC_RISCV_REG_MSTATUS)
            pending = uc.reg_read(rv.UC_RISCV_REG_MIP)
            uc.reg_write(rv.UC_RISCV_REG_MSTATUS, status ^ 1 << 3)
            uc.reg_write(rv.UC_RISCV_REG_MIP, pending ^ 1 << 1)
            self._fetch()
            ok = self._field(mstatus) == status ^ 1 << 3 and self._field(mip) == pending ^ 1 << 1
            uc.reg_write(rv.UC_RISCV_REG_MIP, pending)
            uc.reg_write(rv.UC_RISCV_REG_MSTATUS, status)
        if not ok:
            raise RunError(
                "this Unicorn's RISC-V hart state is not laid out as Unicorn 2.1.4's: "
                "cannot set mhartid or deliver machine-level interrupts",
                code="E905", hint="install Unicorn 2.1.4 (pip install unicorn==2.1.4)",
            )  # fmt: skip
        return mhartid, mip

    def _write(self, offset: int, value: int) -> None:
        self._fetch()
        ctypes.memmove(self._base + offset, struct.pack(self._fmt, value), self._word)
        self._restore(self._uc._uch, self._handle)

    def set_mhartid(self, hartid: int) -> None:
        """Make ``csrr mhartid`` read ``hartid``."""
        self._write(self._mhartid, hartid)

    def mip(self) -> int:
        """The engine's ``mip``, all of it."""
        self._fetch()
        return self._field(self._mip)

    def set_mip(self, mask: int, value: int) -> int:
        """Set the ``mask`` bits of ``mip`` to ``value``'s (any bits, the machine-level
        ones too); the whole ``mip`` now. The engine looks at its interrupt line again at
        the next ``mip`` write through the API, which the caller makes."""
        self._fetch()
        mip = self._field(self._mip)
        new = (mip & ~mask) | (value & mask)
        if new != mip:
            ctypes.memmove(self._base + self._mip, struct.pack(self._fmt, new), self._word)
            self._restore(self._uc._uch, self._handle)
        return new
