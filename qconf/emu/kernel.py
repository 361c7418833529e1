"""Direct kernel boot: QEMU's ``-kernel``, ``-initrd`` and ``-append``, per CPU.

A CPU whose type has the :class:`~qconf.devices.common.KernelProps` properties names a
``kernel`` (and maybe an ``initrd`` and an ``append`` command line). CPUs of one address
space that name the same kernel, initrd and command line boot it together (a machine
made with ``smp`` copies ``cpu0``'s to every CPU): the first in the machine's order is
the boot CPU, the others its secondaries. Different CPUs may boot different kernels (two
clusters, a heterogeneous machine): each group gets its own placement and its own device
tree.

The generic part is here: read the files, find the RAM the boot CPU sees first (in the
machine's order), write what the architecture placed, and generate the group's device
tree with ``/chosen`` ``bootargs`` and ``linux,initrd-start``/``-end``. Where things go
and how the CPUs start is the architecture's boot protocol: its
:attr:`~qconf.model.facets.ArchInfo.boot` facet, a function from a
:class:`KernelRequest` to a :class:`BootPlan` (``qconf/arch/aarch64/boot.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from qconf.emu.loader import Chunk, memory_of, read_file, read_image
from qconf.emu.memory import RunError
from qconf.model.objects import Object

if TYPE_CHECKING:
    from qconf.assembly.machine import Machine
    from qconf.config.origin import Origin

__all__ = ("BootGroup", "BootPlan", "KernelRequest", "boot_groups", "ram_of", "read_kernel")


@dataclass(frozen=True)
class KernelRequest:
    """What an architecture's boot protocol places.

    :param kernel: the kernel file's bytes.
    :param elf: the kernel's loadable chunks and entry when it is an ELF file, else None.
    :param initrd_size: the initrd's size in bytes, None without one.
    :param ram: the base and size of the RAM the boot CPU sees first.
    :param cpus: how many CPUs boot the kernel (the boot CPU and its secondaries).
    :param firmware_end: the end of what the boot CPU's own program (its ``firmware``)
        occupies in memory, None without one: a firmware that jumps to the kernel comes
        first (RISC-V).
    :param tree_size: the size of the kernel's device tree in bytes (0 without one).
    """

    kernel: bytes
    elf: tuple[list[Chunk], int] | None
    initrd_size: int | None
    ram: tuple[int, int]
    cpus: int = 1
    firmware_end: int | None = None
    tree_size: int = 0


@dataclass(frozen=True)
class BootPlan:
    """Where an architecture's boot protocol puts a kernel and how its CPUs start.

    :param chunks: what to write, as (address, bytes): the kernel.
    :param entry: where the boot CPU starts (None: at its own program's entry, a
        firmware that jumps to the kernel).
    :param initrd: where the initrd goes (None without one).
    :param dtb: where the device tree goes.
    :param secondaries_off: the other CPUs start powered off, until the guest turns them
        on (PSCI ``CPU_ON``); else they start where the boot CPU does.
    """

    chunks: list[Chunk]
    entry: int | None
    initrd: int | None
    dtb: int
    secondaries_off: bool = True


@dataclass
class BootGroup:
    """The CPUs that boot one kernel (the boot CPU first) and its files."""

    cpus: list[Object]
    kernel: str
    initrd: str | None
    append: str | None
    origins: dict[str, Origin | None] = field(default_factory=dict)


def boot_groups(machine: Machine) -> list[BootGroup]:
    """The machine's direct kernel boots, in the order of their boot CPUs."""
    groups: dict[tuple[str, str, str | None, str | None], BootGroup] = {}
    for cpu in machine.cpus():
        if "kernel" not in cpu.info.prop_names or not cpu.get("kernel"):
            continue
        space = machine.space_of(cpu).name
        key = (space, cpu.get("kernel"), cpu.get("initrd"), cpu.get("append"))
        group = groups.get(key)
        if group is None:
            group = groups[key] = BootGroup([], *key[1:])
            group.origins = {p: cpu.origins.get(p) for p in ("kernel", "initrd")}
        group.cpus.append(cpu)
    return list(groups.values())


def ram_of(machine: Machine, cpu: Object) -> Object:
    """The RAM a kernel booted by ``cpu`` goes into: the first, in the machine's order,
    that ``cpu`` sees.

    :raises RunError: it sees none.
    """
    spaces = list(machine.space_of(cpu).chain())
    seen = {id(m.obj) for sp in spaces for m in sp.mappings if m.region.kind == "ram"}
    for ram in machine.rams():
        if id(ram) in seen:
            return ram
    raise RunError(f"{cpu.key} boots a kernel but sees no RAM to hold it", code="E908",
                   path=cpu.key, hint="add a RAM to its address space")  # fmt: skip


def read_kernel(group: BootGroup, machine: Machine, firmware_end: int | None = None,
                tree_size: int = 0) -> tuple[KernelRequest, bytes | None]:  # fmt: skip
    """The request for ``group``'s kernel, and its initrd's bytes (``firmware_end`` and
    ``tree_size`` as :class:`KernelRequest` has them).

    :raises RunError: a file cannot be read or is larger than the memory the boot CPU
        sees, or the kernel is a broken ELF file.
    """
    space = machine.space_of(group.cpus[0])
    memory = memory_of(space)
    origin = group.origins.get("kernel")
    data = read_file(group.kernel, origin, memory)
    elf = None
    if data[:4] == b"\x7fELF":
        chunks, entry = read_image(group.kernel, None, origin, "elf", space)
        assert entry is not None
        elf = (chunks, entry)
    initrd = None
    if group.initrd:
        initrd = read_file(group.initrd, group.origins.get("initrd"), memory)
    ram = ram_of(machine, group.cpus[0])
    request = KernelRequest(data, elf, None if initrd is None else len(initrd),
                            (ram.get("base"), ram.get("size")), len(group.cpus),
                            firmware_end, tree_size)  # fmt: skip
    return request, initrd
