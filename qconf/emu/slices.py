"""Running one CPU for one time slice, by the machine's ``timing`` (see
:mod:`qconf.emu.budget`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qconf.emu.budget import NativeBudget, native_available

if TYPE_CHECKING:
    from qconf.emu.context import CoreContext

__all__ = ("make_budget", "run_slice")


def make_budget(uc: Any, ctx: CoreContext) -> NativeBudget | None:
    """The native budget hook for ``uc`` when the machine runs in fast timing and the host
    allows it; None means Unicorn's exact ``count=``."""
    if ctx.timing != "fast":
        return None
    if not native_available():
        ctx.run.note("fast timing needs an x86-64 Linux host: counting every instruction instead")
        return None
    return NativeBudget(uc)


def run_slice(cpu: Any, start: int, until: int, budget: int) -> bool:
    """Run ``cpu`` for ``budget`` instructions from ``start``; add what ran to its count.

    :returns: whether it stopped before using its budget (wfi, a stop, a fault).
    """
    native: NativeBudget | None = cpu.budget
    if native is None:
        cpu.uc.emu_start(start, until, count=budget)
        cpu.instructions += budget
        return True  # count= cannot tell: the caller looks at the instruction before pc
    native.arm(budget)
    try:
        cpu.uc.emu_start(start, until)
    finally:
        ran = native.executed()
        cpu.instructions += ran
    return ran < budget
