"""Tracing a run, as QEMU's ``-d`` does: what the guest does, category by category, one
line per event, each stamped with the virtual time and the CPU's path::

    0.013571903 /machine/cpu0 mmio: read /machine/soc/uart0 +0x5 (1 byte) -> 0x60

Only the hooks of the categories asked for are installed: with none, a run has no hook it
would not have had anyway. Every line comes from the guest's execution and virtual time,
so two runs of the same machine with the same input write the same trace.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qconf.emu.context import Clock

__all__ = ("CATEGORIES", "Tracer", "help_lines", "parse_categories")

CATEGORIES = {
    "int": "interrupts and exceptions the guest takes: cause, where from, the vector "
    "(RISC-V traps and M-mode interrupts, Cortex-M exceptions, AArch64 aborts and the "
    "IRQ line; S-mode interrupts Unicorn takes itself are not seen)",
    "in_asm": "each translated block's instructions, disassembled, once per translation "
    "(a Python call per block executed)",
    "exec": "each block executed: its pc (a Python call per block)",
    "cpu": "the registers before each block (costly: a Python call and a register read "
    "each per block)",
    "guest_errors": "what the guest does wrong that qconf lets pass: accesses to "
    "addresses no device answers (beside a device)",
    "unimp": "accesses to devices without a model and to unimplemented windows",
    "mmu": "AArch64 page-table walks and TLB fills: address, access, result, whether "
    "from a walk or remembered",
    "mmio": "every device register read and write: device path, offset, size, value",
}
"""Each category and what it shows (``-d help`` lists them)."""


def parse_categories(text: str) -> set[str]:
    """The categories of ``-d int,mmio`` (``all`` is every one).

    :raises ValueError: an unknown category, with the valid ones.
    """
    wanted = {part.strip() for part in text.split(",") if part.strip()}
    if "all" in wanted:
        return set(CATEGORIES)
    unknown = sorted(wanted - set(CATEGORIES))
    if unknown:
        raise ValueError(f"unknown trace categor{'ies' if len(unknown) > 1 else 'y'} "
                         f"{', '.join(unknown)}; valid: {', '.join(CATEGORIES)} "
                         "(or all; -d help explains each)")  # fmt: skip
    return wanted


def help_lines() -> list[str]:
    """What ``-d help`` prints: each category, one line each."""
    width = max(len(name) for name in CATEGORIES)
    lines = ["Log items (comma separated):"]
    lines += [f"{name:<{width}}  {text}" for name, text in CATEGORIES.items()]
    lines.append(f"{'all':<{width}}  every category above")
    return lines


class Tracer:
    """Writes the trace of the categories asked for.

    :param categories: from :func:`parse_categories`.
    :param out: where lines go (``-D FILE``, else standard error).
    :param clock: the virtual time lines are stamped with.
    """

    def __init__(self, categories: set[str], out: IO[str] | None, clock: Clock) -> None:
        self.categories = frozenset(categories)
        self.out = out if out is not None else sys.stderr
        self.clock = clock

    def wants(self, category: str) -> bool:
        return category in self.categories

    def line(self, cpu: str, category: str, text: str) -> None:
        """One line of ``category`` about ``cpu`` (a path), stamped with the time now."""
        now = self.clock.now()
        self.out.write(f"{now // 1_000_000_000}.{now % 1_000_000_000:09d} {cpu} {category}: "
                       f"{text}\n")  # fmt: skip

    def close(self) -> None:
        self.out.flush()
        if self.out is not sys.stderr:
            self.out.close()

    # --- the hooks on a core ---------------------------------------------------------

    def attach(self, core: Any) -> None:
        """Install on ``core`` what ``in_asm``, ``exec`` and ``cpu`` need (a block hook,
        after the instruction counter's: a block it stops before is not shown), and let
        the core report ``int``."""
        if self.wants("int"):
            core.trace = self
            show = getattr(core, "trace_interrupts", None)
            if show is not None:  # interrupts its engine takes without telling qconf
                show()
        mmu = getattr(core, "mmu", None)
        if self.wants("mmu") and mmu is not None:
            mmu.trace_to(self)
        wanted = {c for c in ("in_asm", "exec", "cpu") if self.wants(c)}
        if not wanted:
            return
        from unicorn import UC_HOOK_BLOCK, UC_HOOK_EDGE_GENERATED

        from qconf.emu.counting import read_code

        path, uc, arch = core.obj.path, core.uc, core.arch
        seen: set[tuple[int, int]] = set()
        disassemble = _disassembler(arch) if "in_asm" in wanted else None
        registers = [(name, arch.register_number(name)) for name in arch.registers
                     if name != "pc"]  # fmt: skip
        read = core.read_register

        def on_block(uc: Any, pc: int, size: int, user: object) -> None:
            try:
                if disassemble is not None and (pc, size) not in seen:
                    seen.add((pc, size))
                    code = read_code(uc, pc, size) or b""
                    for line in disassemble(code, pc):
                        self.line(path, "in_asm", line)
                if "exec" in wanted:
                    self.line(path, "exec", f"{pc:#x} ({size} bytes)")
                if "cpu" in wanted:
                    values = " ".join(f"{name}={read(number):#x}" for name, number in registers
                                      if number is not None)  # fmt: skip
                    self.line(path, "cpu", f"pc={pc:#x} {values}")
            except Exception as exc:  # never into C (house rule 8): say so and go on
                self.line(path, "trace", f"failed at {pc:#x}: {exc!r}")

        def on_translated(uc: Any, cur: Any, prev: Any, user: object) -> None:
            seen.discard((int(cur.pc), int(cur.size)))  # translated again: show it again

        core.trace_hooks += [on_block, on_translated]  # kept alive with the core
        uc.hook_add(UC_HOOK_BLOCK, on_block)
        if disassemble is not None:
            uc.hook_add(UC_HOOK_EDGE_GENERATED, on_translated)


def _disassembler(arch: Any) -> Callable[[bytes, int], list[str]]:
    """``code`` at ``pc`` as lines: a header, then one instruction each."""
    import capstone

    arch_name, mode_names = arch.disassembler
    mode = 0
    for part in mode_names.split("|"):
        mode |= getattr(capstone, part)
    md = capstone.Cs(getattr(capstone, arch_name), mode)

    def lines(code: bytes, pc: int) -> list[str]:
        out = []
        end = pc
        for insn in md.disasm(code, pc):
            out.append(f"  {insn.address:#x}: {insn.bytes.hex():<8}  "
                       f"{insn.mnemonic} {insn.op_str}".rstrip())  # fmt: skip
            end = insn.address + insn.size
        if end < pc + len(code):
            out.append(f"  {end:#x}: {code[end - pc :].hex()}  (not decoded)")
        count = len(out)
        head = f"block at {pc:#x}, {len(code)} bytes, {count} instruction{'s'[: count != 1]}:"
        return [head, *out]

    return lines
