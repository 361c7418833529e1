"""Device trees generated from a built machine.

The tree's layout is its architecture's (an :class:`~qconf.model.facets.ArchInfo`'s
``device_tree`` writer: the RISC-V ``virt`` board's, the Arm ``virt`` board's); each device
writes its own node through its type's ``fdt`` facet, ``fdt_node(writer, obj, depth)``,
which returns the node's name (or None if it wrote nothing). Types without one are left
out. The tree is written as DTS text and compiled to a flattened tree with the ``fdt``
package.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import fdt

from qconf.assembly.machine import Machine
from qconf.model.facets import ArchInfo, load
from qconf.model.objects import Object

__all__ = ("Chosen", "TreeWriter", "device_tree_blob", "device_tree_source", "tree_arch")


@dataclass(frozen=True)
class Chosen:
    """What a directly booted kernel's tree says in ``/chosen`` besides the console.

    :param bootargs: the kernel's command line (None: the machine's ``bootargs``).
    :param initrd: the initial RAM disk's first and end address, if there is one.
    :param kaslr_seed: a ``kaslr-seed`` value (0: none written).
    """

    bootargs: str | None = None
    initrd: tuple[int, int] | None = None
    kaslr_seed: int = 0


class TreeWriter:
    """DTS text being written, with what node writers share.

    :param cpus: the CPUs the tree describes (the tree's architecture's).
    :param chosen: what a directly booted kernel adds to ``/chosen``.
    """

    def __init__(self, machine: Machine, cpus: list[Object], chosen: Chosen | None = None) -> None:
        self.machine = machine
        self.cpus = cpus
        self.chosen = chosen or Chosen()
        self.lines: list[str] = []
        self.phandles: dict[str, int] = {}
        self.stdout: str | None = None
        """The first console's node name (``serial@10000000``), for ``/chosen``."""
        self.clocks: dict[int, int] = {}
        """Fixed clocks devices asked for (:meth:`fixed_clock`): rate -> phandle."""
        self.at_root: list[Callable[[TreeWriter, int], None]] = []
        """Nodes a device adds at the root, after the devices."""
        self.once: set[str] = set()
        """What node writers noted they wrote (for nodes written once per tree)."""

    def phandle(self, key: str) -> int:
        """The phandle of ``key`` (an object's path, or a name), made on first use."""
        return self.phandles.setdefault(key, len(self.phandles) + 1)

    def emit(self, depth: int, text: str) -> None:
        self.lines.append("\t" * depth + text)

    def reg(self, obj: Object, depth: int) -> None:
        """``reg`` from the object's ``base`` and ``size``."""
        self.emit(depth, f"reg = <{cells(obj.get('base'))} {cells(obj.get('size'))}>;")

    def fixed_clock(self, rate: int) -> int:
        """The phandle of a fixed clock of ``rate`` Hz (the layout writes the node)."""
        return self.clocks.setdefault(rate, self.phandle(f"clock/{rate}"))

    def devices(self, depth: int) -> None:
        """Every device's node, in the machine's order, at ``depth``."""
        for obj in self.machine.objects():
            writer = obj.info.fdt
            if writer is None:
                continue
            name = load(writer)(self, obj, depth)
            if name is not None and self.stdout is None and "chardev" in obj.info.backends:
                self.stdout = name

    def chosen_props(self, depth: int) -> None:
        """``/chosen``'s ``bootargs`` (the kernel's command line, else the machine's), the
        initrd's ``linux,initrd-start`` and ``-end`` and a ``kaslr-seed``, when there are
        some (the console's ``stdout-path`` is the layout's)."""
        chosen = self.chosen
        bootargs = _bootargs(self.machine, chosen)
        if bootargs:
            self.emit(depth, f"bootargs = {dts_string(bootargs)};")
        if chosen.initrd is not None:
            start, end = chosen.initrd
            self.emit(depth, f"linux,initrd-start = <{cells(start)}>;")
            self.emit(depth, f"linux,initrd-end = <{cells(end)}>;")
        if chosen.kaslr_seed:
            self.emit(depth, f"kaslr-seed = <{cells(chosen.kaslr_seed)}>;")

    def root_nodes(self, depth: int) -> None:
        """The nodes devices asked for at the root."""
        for write in self.at_root:
            write(self, depth)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _bootargs(machine: Machine, chosen: Chosen | None) -> str:
    """The kernel's command line if it has one, else the machine's ``bootargs``."""
    if chosen is not None and chosen.bootargs is not None:
        return chosen.bootargs
    return str(machine.root.get("bootargs") or "")


def dts_string(text: str) -> str:
    """``text`` as a DTS string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def cells(value: int) -> str:
    """A 64-bit value as two cells."""
    return f"0x{value >> 32:x} 0x{value & 0xFFFFFFFF:x}"


def tree_arch(machine: Machine) -> tuple[ArchInfo, list[Object]] | None:
    """The architecture whose layout the machine's tree has (its first CPU's that has
    one), and the machine's CPUs of that family; None if no CPU has a layout."""
    cpus = machine.cpus()
    for cpu in cpus:
        arch = cpu.info.arch_info
        assert arch is not None
        if arch.device_tree is not None:
            family = [
                c for c in cpus if c.info.arch_info and c.info.arch_info.family == arch.family
            ]
            return arch, family
    return None


def device_tree_source(machine: Machine, chosen: Chosen | None = None) -> str:
    """The machine's device tree as DTS text (a RISC-V layout when no CPU has one), with
    what a directly booted kernel adds to ``/chosen``."""
    found = tree_arch(machine)
    if found is None:
        from qconf.arch.riscv import RV64

        found = RV64, []
    arch, cpus = found
    assert arch.device_tree is not None
    writer = TreeWriter(machine, cpus, chosen)
    load(arch.device_tree)(writer)
    return writer.text()


def device_tree_blob(machine: Machine, chosen: Chosen | None = None) -> bytes:
    """The machine's flattened device tree (DTB, version 17)."""
    tree = fdt.parse_dts(device_tree_source(machine, chosen))
    bootargs = _bootargs(machine, chosen)
    if bootargs and ('"' in bootargs or "\\" in bootargs):
        # the fdt package's DTS reader keeps escapes as written: set the text itself
        tree.set_property("bootargs", bootargs, path="/chosen")
    blob: bytes = tree.to_dtb(version=17)
    return blob
