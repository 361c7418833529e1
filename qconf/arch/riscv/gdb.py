"""RISC-V harts as gdb sees them: ``org.gnu.gdb.riscv.cpu`` (x0-x31 by their ABI names, pc),
``org.gnu.gdb.riscv.fpu`` when the hart has F or D, ``org.gnu.gdb.riscv.virtual`` (the
privilege level) and ``org.gnu.gdb.riscv.csr``. The numbers follow QEMU's stub: x0-x31 are
0-31, pc 32, f0-f31 33-64, priv 65, and CSR ``n`` is 66 + n (``mstatus`` 834).

CSRs are read and written at machine level, whatever the hart's privilege (Unicorn checks
the privilege of host accesses, see ``RiscvHart._csr_read``).
"""

from __future__ import annotations

from typing import Any

from qconf.debug.tdesc import Description, Feature, GdbArch, Register

__all__ = ("RISCV",)

ABI = ("zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "fp", "s1", "a0", "a1", "a2", "a3",
       "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11",
       "t3", "t4", "t5", "t6")  # fmt: skip
POINTERS = {"ra": "code_ptr", "sp": "data_ptr", "gp": "data_ptr", "tp": "data_ptr",
            "fp": "data_ptr"}  # fmt: skip
FLOAT_ABI = ("ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0",
             "fa1", "fa2", "fa3", "fa4", "fa5", "fa6", "fa7", "fs2", "fs3", "fs4", "fs5",
             "fs6", "fs7", "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11")  # fmt: skip
CSR_BASE = 66
CSRS = {"sstatus": 0x100, "sie": 0x104, "stvec": 0x105, "scounteren": 0x106,
        "sscratch": 0x140, "sepc": 0x141, "scause": 0x142, "stval": 0x143, "sip": 0x144,
        "satp": 0x180, "mstatus": 0x300, "misa": 0x301, "medeleg": 0x302, "mideleg": 0x303,
        "mie": 0x304, "mtvec": 0x305, "mcounteren": 0x306, "mscratch": 0x340, "mepc": 0x341,
        "mcause": 0x342, "mtval": 0x343, "mip": 0x344, "mvendorid": 0xF11,
        "marchid": 0xF12, "mimpid": 0xF13, "mhartid": 0xF14}  # fmt: skip
"""The CSRs Unicorn gives access to and gdb knows by name (not the counters: Unicorn's
follow the host's clock, not the guest's instructions)."""
DOUBLE = ('<union id="riscv_double"><field name="float" type="ieee_single"/>'
          '<field name="double" type="ieee_double"/></union>')  # fmt: skip


class RiscvGdb(GdbArch):
    """RV32 and RV64 harts."""

    def describe(self, core: Any) -> Description:
        xlen = core.xlen
        pc = Register("pc", xlen, 32, "code_ptr", "pc")
        cpu = (*(Register(name, xlen, i, POINTERS.get(name, "int"), f"x{i}")
                 for i, name in enumerate(ABI)), pc)  # fmt: skip
        features = [Feature("org.gnu.gdb.riscv.cpu", cpu)]
        isa = set(core.obj.get("isa") or ())
        if isa & {"f", "d"}:
            flen = 64 if "d" in isa else 32
            kind = "riscv_double" if flen == 64 else "ieee_single"
            fpu = tuple(Register(name, flen, 33 + i, kind, f"f{i}", "float")
                        for i, name in enumerate(FLOAT_ABI))  # fmt: skip
            features.append(Feature("org.gnu.gdb.riscv.fpu", fpu, DOUBLE if flen == 64 else ""))
        features.append(
            Feature("org.gnu.gdb.riscv.virtual", (Register("priv", xlen, 65, "int", "priv"),))
        )
        csrs = tuple(Register(name, xlen, CSR_BASE + number, "int", name, "system")
                     for name, number in CSRS.items())  # fmt: skip
        features.append(Feature("org.gnu.gdb.riscv.csr", csrs))
        return Description(f"riscv:rv{xlen}", tuple(features))

    def read(self, core: Any, reg: Register) -> int | None:
        if reg.regnum >= CSR_BASE:
            number = self.engine_number(core, reg)
            return None if number is None else core._csr_read(number) & ((1 << reg.bits) - 1)
        return super().read(core, reg)

    def write(self, core: Any, reg: Register, value: int) -> bool:
        if reg.regnum == 0:
            return True  # x0 stays 0
        if reg.regnum >= CSR_BASE:
            number = self.engine_number(core, reg)
            if number is None:
                return False
            core._csr_write(number, value)
            return True
        return super().write(core, reg, value)


RISCV = RiscvGdb()
"""Both widths (``ArchInfo.gdb`` of ``riscv64`` and ``riscv32``)."""
