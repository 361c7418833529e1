"""Cortex-M cores as gdb sees them: ``org.gnu.gdb.arm.m-profile`` (r0-r12, sp, lr, pc and
xpsr, numbered as by QEMU's stub: r0 is 0, pc 15, xpsr 25) and ``org.gnu.gdb.arm.m-system``
with the special registers (msp, psp, primask, basepri, faultmask, control: 26-31, as
OpenOCD describes them).
"""

from __future__ import annotations

from typing import Any

from qconf.debug.tdesc import Description, Feature, GdbArch, Register

__all__ = ("CORTEX_M",)

SPECIAL = (("msp", "data_ptr"), ("psp", "data_ptr"), ("primask", "int"), ("basepri", "int"),
           ("faultmask", "int"), ("control", "int"))  # fmt: skip


class CortexMGdb(GdbArch):
    """Cortex-M0, M3 and M4 cores."""

    def describe(self, core: Any) -> Description:
        regs = [Register(f"r{i}", 32, i, "int", f"r{i}") for i in range(13)]
        regs += [Register("sp", 32, 13, "data_ptr", "sp"), Register("lr", 32, 14, "int", "lr"),
                 Register("pc", 32, 15, "code_ptr", "pc"),
                 Register("xpsr", 32, 25, "int", "xpsr")]  # fmt: skip
        system = tuple(Register(name, 32, 26 + i, kind, name, "system")
                       for i, (name, kind) in enumerate(SPECIAL))  # fmt: skip
        return Description("arm", (Feature("org.gnu.gdb.arm.m-profile", tuple(regs)),
                                   Feature("org.gnu.gdb.arm.m-system", system)))  # fmt: skip

    def write(self, core: Any, reg: Register, value: int) -> bool:
        if reg.name == "pc":
            value |= 1  # Thumb state: Cortex-M has no other
            done = super().write(core, reg, value)
            core.pc = value & ~1
            return done
        return super().write(core, reg, value)


CORTEX_M = CortexMGdb()
"""``ArchInfo.gdb`` of the Cortex-M types."""
