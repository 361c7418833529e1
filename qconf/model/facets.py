"""What a type is besides its properties, in the form its registry entry carries it.

A :class:`~qconf.model.registry.TypeInfo` names the code that makes its objects *do*
something (their behaviour: an MMIO device model or a CPU core), writes their device-tree
node, and, for CPUs, describes the architecture (:class:`ArchInfo`). Code is named by a
:data:`Ref`, ``"package.module:attribute"``, and imported only when it is first used, so
reading configuration never imports an emulator and a machine restored from the cache
(which stores refs as text) loads only what it runs. A plugin may give callables instead
of refs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

__all__ = ("ArchInfo", "Ref", "instruction_length", "load", "ref_text")

Ref = str
"""Code named as ``"package.module:attribute"`` (``attribute`` may be dotted)."""


@cache
def _load_ref(ref: Ref) -> Any:
    module, sep, attribute = ref.partition(":")
    if not sep or not module or not attribute:
        raise ValueError(f"{ref!r} is not a reference: write 'package.module:attribute'")
    value: Any = importlib.import_module(module)
    for part in attribute.split("."):
        value = getattr(value, part)
    return value


def load(ref: Ref | Callable[..., Any]) -> Any:
    """What ``ref`` names, imported on first use; a callable is returned as it is.

    :raises ImportError, AttributeError, ValueError: ``ref`` names nothing.
    """
    if isinstance(ref, str):
        return _load_ref(ref)
    return ref


def ref_text(ref: Ref | Callable[..., Any] | None) -> str | None:
    """``ref`` as text (for the machine cache), None for none; a callable has no text form
    (a type that has one is not cached)."""
    if ref is None or isinstance(ref, str):
        return ref
    raise TypeError(f"{ref!r} is code, not a reference")


def instruction_length(encoding: str, head: bytes) -> int:
    """The length of an instruction of ``encoding`` (an :class:`ArchInfo`'s) whose first two
    bytes are ``head``."""
    if encoding == "riscv":
        return 4 if head[0] & 3 == 3 else 2
    if encoding == "thumb":
        return 4 if (head[0] | head[1] << 8) >> 11 in (0b11101, 0b11110, 0b11111) else 2
    return 4


@dataclass(frozen=True)
class ArchInfo:
    """One CPU architecture, as the emulator, fault reports, QMP and debuggers need it.

    :param name: the architecture's name in reports (``riscv64``, ``cortex-m``, ``aarch64``).
    :param family: what interrupt controllers serve (``riscv`` for both widths, ``arm-m``,
        ``aarch64``).
    :param qemu_target: QEMU's target name (``query-cpus-fast``'s ``target``).
    :param disassembler: capstone's architecture and mode constants, by name
        (``("CS_ARCH_RISCV", "CS_MODE_RISCV64|CS_MODE_RISCVC")``).
    :param registers: the registers a fault report and ``info registers`` show, by name.
    :param system_registers: the system registers shown after them.
    :param unicorn_registers: where the engine's register numbers are: a module and a
        prefix (``"unicorn.riscv_const:UC_RISCV_REG_"``); a register's number is the
        constant named by the prefix and its name in upper case.
    :param device_tree: the writer of a whole device tree for machines of this
        architecture (a :data:`Ref`), None if it has none.
    :param encoding: how its instructions' lengths are told from their first bytes:
        ``fixed4`` (all 4 bytes), ``riscv`` (2 bytes when the low bits are not ``0b11``),
        ``thumb`` (4 bytes when the first halfword starts ``0b11101``, ``0b11110`` or
        ``0b11111``, else 2).
    :param bits: the width of its addresses and general registers.
    :param tree_at_ram_start: where a generated device tree goes: at the start of the
        first RAM (the Arm ``virt`` board's boot protocol), else near its end (2 MiB
        aligned, as QEMU places it for RISC-V).
    :param gdb: how a debugger sees its cores (a :data:`Ref` to a
        :class:`qconf.debug.tdesc.GdbArch`: the GDB target description and register
        access), None if gdb cannot attach to them.
    :param boot: where a directly booted kernel, its initrd and its device tree go, and
        where its CPUs start (a :data:`Ref` to ``place(request) -> plan``, see
        :mod:`qconf.emu.kernel`); None: the architecture boots no kernel directly.
    :param smp_ids: the ids of the machine's ``smp`` copies of a CPU (a :data:`Ref` to
        ``ids(template, index) -> {property: value}``: ``template`` the copied CPU's
        properties as written, ``index`` 1, 2, ... for the copies), None if there are
        none (see :mod:`qconf.model.smp`).
    :param secondaries_off: a CPU of this architecture that starts at its reset vector
        where an earlier CPU of its address space also does (the same firmware: ``smp``
        copies, QEMU's ``-smp`` CPUs) starts powered off, until the firmware turns it on
        (AArch64: PSCI ``CPU_ON``, as QEMU's virt board starts CPUs 1.. when it provides
        PSCI); False: every CPU starts running (RISC-V harts all run the firmware).
    """

    name: str
    family: str
    qemu_target: str
    disassembler: tuple[str, str]
    registers: tuple[str, ...]
    system_registers: tuple[str, ...]
    unicorn_registers: str
    device_tree: Ref | None = None
    encoding: str = "fixed4"
    bits: int = 64
    tree_at_ram_start: bool = False
    gdb: Ref | None = None
    boot: Ref | None = None
    smp_ids: Ref | None = None
    secondaries_off: bool = False

    def register_number(self, name: str) -> int | None:
        """The engine's number for register ``name`` (any case), None if it has none."""
        module, _, prefix = self.unicorn_registers.partition(":")
        number = getattr(importlib.import_module(module), prefix + name.upper(), None)
        return number if isinstance(number, int) else None

    def instruction_length(self, head: bytes) -> int:
        """The length of the instruction whose first two bytes are ``head``."""
        return instruction_length(self.encoding, head)

    def disassemble(self, code: bytes, pc: int) -> str:
        """One instruction at ``pc``, or a note why not."""
        try:
            import capstone  # noqa: F401
        except ImportError:  # pragma: no cover - capstone is a dependency
            return "(capstone is not installed)"
        if not code:
            return "(no code at pc)"
        for _address, _size, text in self.instructions(code, pc, 1):
            return text
        return f"(not an instruction: {code[:4].hex()})"

    def instructions(self, code: bytes, pc: int, count: int) -> list[tuple[int, int, str]]:
        """Up to ``count`` instructions from ``code`` (at address ``pc``): each address,
        size in bytes and text; fewer where ``code`` ends or stops being instructions.

        :raises ImportError: capstone is not installed.
        """
        import capstone

        arch_name, mode_names = self.disassembler
        mode = 0
        for part in mode_names.split("|"):
            mode |= getattr(capstone, part)
        md = capstone.Cs(getattr(capstone, arch_name), mode)
        return [(insn.address, insn.size, f"{insn.mnemonic} {insn.op_str}".strip())
                for insn in md.disasm(code, pc, count)]  # fmt: skip
