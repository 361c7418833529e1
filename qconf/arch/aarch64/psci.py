"""The PSCI firmware an AArch64 guest calls with ``hvc``/``smc`` (Arm DEN 0022, PSCI 1.1),
as QEMU's ``virt`` board emulates it: version and features, powering cores on and off
(``CPU_ON`` starts a core at the given entry with the context id in x0, as the boot
protocol's secondaries start), ``AFFINITY_INFO``, ``CPU_SUSPEND`` (a wait for an
interrupt), ``MIGRATE_INFO_TYPE`` (no trusted OS), ``SYSTEM_OFF`` and ``SYSTEM_RESET``
(both end the run). Both the 32- and 64-bit function ids are answered."""

from __future__ import annotations

from typing import Any

from unicorn import arm64_const as a64

__all__ = ("call",)

VERSION, CPU_SUSPEND, CPU_OFF, CPU_ON, AFFINITY_INFO = 0x0, 0x1, 0x2, 0x3, 0x4
MIGRATE_INFO_TYPE, SYSTEM_OFF, SYSTEM_RESET, FEATURES = 0x6, 0x8, 0x9, 0xA
SUPPORTED = {VERSION, CPU_SUSPEND, CPU_OFF, CPU_ON, AFFINITY_INFO, MIGRATE_INFO_TYPE,
             SYSTEM_OFF, SYSTEM_RESET, FEATURES}  # fmt: skip
SUCCESS, NOT_SUPPORTED, INVALID_PARAMETERS, ALREADY_ON = 0, -1, -2, -4
PSCI_1_1 = 0x10001
AFFINITY_MASK = 0xFF00FFFFFF  # MPIDR's Aff3..Aff0


def _function(x0: int) -> int | None:
    """The PSCI function number of a function id (0x84000000 + n, 0xC4000000 + n)."""
    if x0 & 0xBFFFFFE0 == 0x84000000:
        return x0 & 0x1F
    return None


def call(core: Any) -> bool:
    """Answer the PSCI call in ``core``'s x0..x3 (result in x0); False if the core
    stops running (powered off, or the run ends)."""
    regs = core.regs
    function = _function(regs.read(a64.UC_ARM64_REG_X0))
    result = NOT_SUPPORTED
    going_on = True
    if function == VERSION:
        result = PSCI_1_1
    elif function == FEATURES:
        asked = _function(regs.read(a64.UC_ARM64_REG_X1))
        result = SUCCESS if asked in SUPPORTED else NOT_SUPPORTED
    elif function == MIGRATE_INFO_TYPE:
        result = 2  # no trusted OS: nothing to migrate
    elif function == CPU_ON:
        x1, x2, x3 = (regs.read(r) for r in (a64.UC_ARM64_REG_X1, a64.UC_ARM64_REG_X2,
                                             a64.UC_ARM64_REG_X3))  # fmt: skip
        result = _cpu_on(core, x1, x2, x3)
    elif function == AFFINITY_INFO:
        target = _core(core, regs.read(a64.UC_ARM64_REG_X1))
        result = INVALID_PARAMETERS if target is None else (1 if target.off else 0)
    elif function == CPU_SUSPEND:
        result = SUCCESS  # a standby state: as wfi, the core waits for an interrupt
        core.waiting = True
        going_on = False
    elif function == CPU_OFF:
        core.power_off()
        return False
    elif function in (SYSTEM_OFF, SYSTEM_RESET):
        what = "powered off (PSCI SYSTEM_OFF)" if function == SYSTEM_OFF else (
            "asked for a reset (PSCI)")  # fmt: skip
        core.ctx.run.request_stop(0, f"{core.obj.key}: guest {what}")
        return False
    regs.write(a64.UC_ARM64_REG_X0, result & ((1 << 64) - 1))
    return going_on


def _core(core: Any, mpidr: int) -> Any:
    for other in [core, *core.peers]:
        if getattr(other, "mpidr", None) == mpidr & AFFINITY_MASK:
            return other
    return None


def _cpu_on(core: Any, mpidr: int, entry: int, context: int) -> int:
    target = _core(core, mpidr)
    if target is None:
        return INVALID_PARAMETERS
    if not target.off:
        return ALREADY_ON
    target.power_on(entry, context)
    return SUCCESS
