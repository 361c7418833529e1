"""AArch64 cores as gdb sees them: ``org.gnu.gdb.aarch64.core`` (x0-x30, sp, pc, cpsr),
``org.gnu.gdb.aarch64.fpu`` (v0-v31, fpsr, fpcr), numbered as by QEMU's stub (x0 is 0,
sp 31, pc 32, cpsr 33, v0 34, fpsr 66, fpcr 67), and the EL1 system registers an
operating system's debugger wants (``sctlr_el1``, ``ttbr0_el1``, ``vbar_el1``,
``esr_el1``...) in a feature of qconf's own, from 68 on.
"""

from __future__ import annotations

from typing import Any

from qconf.debug.tdesc import Description, Feature, GdbArch, Register

__all__ = ("AARCH64",)

VECTOR_TYPES = "".join(
    f'<vector id="{name}" type="{kind}" count="{count}"/>'
    for name, kind, count in (
        ("v2d", "ieee_double", 2), ("v2u", "uint64", 2), ("v2i", "int64", 2),
        ("v4f", "ieee_single", 4), ("v4u", "uint32", 4), ("v4i", "int32", 4),
        ("v8u", "uint16", 8), ("v8i", "int16", 8), ("v16u", "uint8", 16),
        ("v16i", "int8", 16), ("v1u", "uint128", 1), ("v1i", "int128", 1),
    )
) + "".join(
    f'<union id="{name}">' + "".join(f'<field name="{f}" type="{t}"/>' for f, t in fields)
    + "</union>"
    for name, fields in (
        ("vnd", (("f", "v2d"), ("u", "v2u"), ("s", "v2i"))),
        ("vns", (("f", "v4f"), ("u", "v4u"), ("s", "v4i"))),
        ("vnh", (("u", "v8u"), ("s", "v8i"))),
        ("vnb", (("u", "v16u"), ("s", "v16i"))),
        ("vnq", (("u", "v1u"), ("s", "v1i"))),
        ("aarch64v", (("d", "vnd"), ("s", "vns"), ("h", "vnh"), ("b", "vnb"), ("q", "vnq"))),
    )
)  # fmt: skip
"""The vector types of ``org.gnu.gdb.aarch64.fpu`` (as gdb's own ``aarch64-fpu.xml``)."""

SYSTEM: tuple[tuple[str, str | tuple[int, ...]], ...] = (
    ("sctlr_el1", (1, 0, 3, 0, 0)), ("tcr_el1", (2, 0, 3, 0, 2)),
    ("ttbr0_el1", "ttbr0_el1"), ("ttbr1_el1", "ttbr1_el1"), ("mair_el1", "mair_el1"),
    ("vbar_el1", "vbar_el1"), ("esr_el1", "esr_el1"), ("far_el1", "far_el1"),
    ("elr_el1", "elr_el1"), ("spsr_el1", (4, 0, 3, 0, 0)), ("sp_el0", "sp_el0"),
    ("sp_el1", "sp_el1"), ("tpidr_el0", "tpidr_el0"), ("tpidr_el1", "tpidr_el1"),
)  # fmt: skip
"""EL1 system registers: the engine's name, or the (CRn, CRm, op0, op1, op2) it reads them
by through ``CP_REG``."""
_CP = {name: cp for name, cp in SYSTEM if isinstance(cp, tuple)}
_ENGINE = {name: cp for name, cp in SYSTEM if isinstance(cp, str)}


class Aarch64Gdb(GdbArch):
    """AArch64 cores (EL1 and EL0 code)."""

    def describe(self, core: Any) -> Description:
        regs = [Register(f"x{i}", 64, i, "int", f"x{i}") for i in range(31)]
        regs += [Register("sp", 64, 31, "data_ptr", "sp"), Register("pc", 64, 32, "code_ptr", "pc"),
                 Register("cpsr", 32, 33, "int", "pstate")]  # fmt: skip
        fpu = [Register(f"v{i}", 128, 34 + i, "aarch64v", f"v{i}", "vector") for i in range(32)]
        fpu += [Register("fpsr", 32, 66, "int", "fpsr", "float"),
                Register("fpcr", 32, 67, "int", "fpcr", "float")]  # fmt: skip
        system = tuple(Register(name, 64, 68 + i, "int", _ENGINE.get(name), "system")
                       for i, (name, _) in enumerate(SYSTEM))  # fmt: skip
        return Description("aarch64", (
            Feature("org.gnu.gdb.aarch64.core", tuple(regs)),
            Feature("org.gnu.gdb.aarch64.fpu", tuple(fpu), VECTOR_TYPES),
            Feature("org.qconf.gdb.aarch64.system", system),
        ))  # fmt: skip

    def read(self, core: Any, reg: Register) -> int | None:
        cp = _CP.get(reg.name)
        if cp is not None:
            from unicorn.arm64_const import UC_ARM64_REG_CP_REG

            return int(core.uc.reg_read(UC_ARM64_REG_CP_REG, cp))
        return super().read(core, reg)

    def write(self, core: Any, reg: Register, value: int) -> bool:
        cp = _CP.get(reg.name)
        if cp is not None:
            from unicorn.arm64_const import UC_ARM64_REG_CP_REG

            core.uc.reg_write(UC_ARM64_REG_CP_REG, (*cp, value))
            return True
        return super().write(core, reg, value)


AARCH64 = Aarch64Gdb()
"""``ArchInfo.gdb`` of ``aarch64``."""
