"""Target descriptions: which registers a CPU shows a debugger, and how they are read.

gdb asks the stub for ``target.xml`` (``qXfer:features:read``) and learns from it the
architecture, the registers (name, width, number, type) grouped in *features* whose names
it knows (``org.gnu.gdb.riscv.cpu``, ``org.gnu.gdb.aarch64.core``,
``org.gnu.gdb.arm.m-profile``...), and the numbers ``p``/``P`` packets use; the ``g``
packet holds the first feature's registers in order (as QEMU's stub does). See the GDB
manual, "Target Descriptions" and "Standard Target Features".

Each architecture describes its CPUs in its own package (``qconf/arch/*/gdb.py``), named
by its :class:`~qconf.model.facets.ArchInfo`'s ``gdb``: a :class:`GdbArch` that makes the
:class:`Description` of a core and reads and writes its registers. This module imports
nothing of the emulator; the cores are duck-typed (``core.uc``, ``core.arch``,
``core.pc``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import quoteattr

__all__ = ("Description", "Feature", "GdbArch", "Register")


@dataclass(frozen=True)
class Register:
    """One register as gdb sees it.

    :param name: gdb's name (``a0``, ``x0``, ``cpsr``, ``msp``).
    :param bits: its width.
    :param regnum: its number in ``p``/``P`` packets and the description.
    :param type: gdb's type (``int``, ``code_ptr``, ``data_ptr``, ``ieee_double``, or a
        type its feature defines).
    :param engine: the engine's name for it (Unicorn's constant without the architecture
        prefix, any case), None when the architecture reads it its own way.
    :param group: gdb's register group (``general``, ``float``, ``system``...), if any.
    """

    name: str
    bits: int
    regnum: int
    type: str = "int"
    engine: str | None = None
    group: str | None = None

    @property
    def size(self) -> int:
        """Its width in bytes."""
        return (self.bits + 7) // 8

    def xml(self) -> str:
        group = f" group={quoteattr(self.group)}" if self.group else ""
        return (f"<reg name={quoteattr(self.name)} bitsize=\"{self.bits}\" "
                f"regnum=\"{self.regnum}\" type={quoteattr(self.type)}{group}/>")  # fmt: skip


@dataclass(frozen=True)
class Feature:
    """A named group of registers, with the types they use (XML ``<vector>``, ``<union>``,
    ``<flags>`` elements)."""

    name: str
    registers: tuple[Register, ...]
    types: str = ""

    def xml(self) -> str:
        regs = "".join(reg.xml() for reg in self.registers)
        return f"<feature name={quoteattr(self.name)}>{self.types}{regs}</feature>"


@dataclass(frozen=True)
class Description:
    """What one CPU shows a debugger.

    :param architecture: gdb's name for it (``riscv:rv64``, ``aarch64``, ``arm``).
    :param features: its features, the ``g`` packet's first.
    """

    architecture: str
    features: tuple[Feature, ...]
    by_number: dict[int, Register] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        regs = {reg.regnum: reg for feature in self.features for reg in feature.registers}
        object.__setattr__(self, "by_number", regs)

    @property
    def g_registers(self) -> tuple[Register, ...]:
        """The registers of the ``g`` and ``G`` packets: the first feature's."""
        return self.features[0].registers

    def register(self, regnum: int) -> Register | None:
        """The register numbered ``regnum``, None if there is none."""
        return self.by_number.get(regnum)

    def xml(self) -> str:
        """``target.xml``: the whole description in one document."""
        return ('<?xml version="1.0"?><!DOCTYPE target SYSTEM "gdb-target.dtd"><target>'
                f"<architecture>{self.architecture}</architecture>"
                + "".join(f.xml() for f in self.features) + "</target>")  # fmt: skip


class GdbArch:
    """How a debugger sees the cores of one architecture. The default reads and writes
    registers through the engine by their ``engine`` names; architectures override
    :meth:`read` and :meth:`write` for the registers that need more."""

    def describe(self, core: Any) -> Description:
        """The description of ``core`` (it may depend on its properties: a RISC-V hart's
        ``isa`` says whether it has floating-point registers)."""
        raise NotImplementedError

    def engine_number(self, core: Any, reg: Register) -> int | None:
        """The engine's number for ``reg``, None if it has none."""
        if reg.engine is None:
            return None
        cache: dict[str, int | None] = core.__dict__.setdefault("_gdb_numbers", {})
        if reg.engine not in cache:
            cache[reg.engine] = core.arch.register_number(reg.engine)
        return cache[reg.engine]

    def read(self, core: Any, reg: Register) -> int | None:
        """``reg``'s value on ``core``, None if it cannot be read. The pc is where the
        core resumes (a Cortex-M core's engine learns it only when it starts)."""
        if reg.name == "pc":
            return int(core.pc)
        number = self.engine_number(core, reg)
        if number is None:
            return None
        return int(core.uc.reg_read(number)) & ((1 << reg.bits) - 1)

    def write(self, core: Any, reg: Register, value: int) -> bool:
        """Set ``reg`` on ``core``; whether it could. Writing the pc moves where the core
        resumes."""
        number = self.engine_number(core, reg)
        if number is None:
            return False
        core.uc.reg_write(number, value)
        if reg.name == "pc":
            core.pc = value
        return True
