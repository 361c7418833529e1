"""The platform: a built machine's memory, devices, cores and images, set up on Unicorn.

:meth:`Platform.prepare` makes a host buffer for each memory backend, a model for each
device whose type has a behaviour (:mod:`qconf.model.facets`) and a core for each CPU,
lets the models connect to the cores they serve, maps every core's address space (RAM
and ROM through ``mem_map_ptr`` on the shared buffers, devices through ``mmio_map``
callbacks that dispatch to the model whose window holds the address), loads the images
and the device tree, and resets the cores. Hotplug maps and unmaps RAM later. Nothing here
knows a type or an architecture by name: it reads facets.
"""

from __future__ import annotations

import time
from typing import Any

from unicorn import UC_PROT_ALL, UC_PROT_EXEC, UC_PROT_READ, Uc

from qconf.assembly.links import find
from qconf.assembly.machine import AddressSpace, Machine
from qconf.emu.consoles import Consoles
from qconf.emu.context import CoreContext, DeviceContext, IrqLines, MmioModel
from qconf.emu.core import Core
from qconf.emu.loader import Chunk
from qconf.emu.memory import HostBuffer, MmioPages, RunError, Segment, flatten
from qconf.emu.preflight import Image, Kernel, check, host_memory
from qconf.emu.scheduler import EXIT_FAULT, Scheduler
from qconf.emu.trace import Tracer
from qconf.model.objects import Object

__all__ = ("GuestMemory", "Platform", "Unimplemented")


class Unimplemented:
    """A device with no model: reads 0, ignores writes, notes the first access."""

    def __init__(self, ctx: DeviceContext) -> None:
        self.ctx, self.obj = ctx, ctx.obj

    def read(self, offset: int, size: int) -> int:
        self.ctx.run.note(f"{self.obj.key} ({self.obj.info.name}) is not modelled: read at "
                          f"+{offset:#x} returns 0")  # fmt: skip
        self.ctx.run.idle_poll()  # what it reads never changes
        return 0

    def write(self, offset: int, size: int, value: int) -> None:
        self.ctx.run.note(f"{self.obj.key} ({self.obj.info.name}) is not modelled: write at "
                          f"+{offset:#x} ignored")  # fmt: skip


class GuestMemory:
    """Guest memory as one address space shows it: RAM and ROM, through their buffers."""

    def __init__(self, platform: Platform, space: AddressSpace) -> None:
        self.platform, self.space = platform, space

    def _locate(self, address: int, size: int) -> tuple[HostBuffer, int] | None:
        for seg in flatten(self.space):
            mp = seg.mapping
            if seg.start <= address and address + size <= seg.end and mp.region.kind != "mmio":
                target = mp.target if mp.region.kind == "alias" else mp.obj
                assert target is not None
                offset = (mp.offset if mp.region.kind == "alias" else 0) + address - mp.base
                return self.platform.buffer(target), offset
        return None

    def read(self, address: int, size: int) -> bytes:
        found = self._locate(address, size)
        if found is None:
            raise ValueError(f"{size} bytes at {address:#x} are not in any RAM or ROM")
        return found[0].read(found[1], size)

    def write(self, address: int, data: bytes) -> None:
        found = self._locate(address, len(data))
        if found is None:
            raise ValueError(f"{len(data)} bytes at {address:#x} are not in any RAM or ROM")
        found[0].write(found[1], data)


class Platform:
    """One machine set up to run: its buffers, device models and cores.

    :param scheduler: the clock and run control models and cores are given.
    :param wires: the interrupt wires models drive.
    :param consoles: the devices' character backends.
    :param tracer: what ``-d`` asked to trace, if anything.
    """

    def __init__(
        self,
        machine: Machine,
        scheduler: Scheduler,
        wires: IrqLines,
        consoles: Consoles,
        tracer: Tracer | None = None,
    ) -> None:
        self.machine = machine
        self.tracer = tracer
        self.scheduler = scheduler
        self.wires = wires
        self.consoles = consoles
        self.buffers: dict[Object, HostBuffer] = {}
        self.models: dict[Object, MmioModel] = {}
        self.cores: list[Core] = []
        self._callbacks: list[Any] = []  # keep the engines' Python callbacks alive

    # --- set-up -----------------------------------------------------------------------

    def device_context(self, obj: Object) -> DeviceContext:
        """The context a model of ``obj`` is given."""
        machine = self.machine
        return DeviceContext(obj, self.scheduler, self.scheduler, self.wires, self.consoles.of,
                             machine.clock_rate, lambda scope, ref: find(machine.root, scope, ref),
                             GuestMemory(self, machine.space_of(obj)))  # fmt: skip

    def prepare(self) -> None:
        """Make the buffers, models and cores, connect them, map memory, load the images
        and the device tree, and reset the cores.

        :raises RunError: what :func:`~qconf.emu.preflight.check` finds (a CPU type has no
            core, the machine has no CPU, memory cannot be mapped, an image cannot be
            loaded, a backend cannot be opened), or the host cannot give the memory.
        :raises Problems: several of those.
        """
        m, scheduler = self.machine, self.scheduler
        plan = check(m, given=set(self.consoles.opened))  # as qconf validate checks it
        self.buffers.update(host_memory(m))
        mmio = {mp.obj for sp in m.spaces.values() for mp in sp.mappings
                if mp.region.kind == "mmio"}  # fmt: skip
        timing = m.root.get("timing")
        for obj in m.objects():
            if obj.info.arch is not None:
                traced = self.tracer is not None and self.tracer.wants("mmu")
                ctx = CoreContext(obj, scheduler, scheduler, scheduler.skip, timing,
                                  python_hooks=traced)  # fmt: skip
                self.cores.append(plan.models[obj](ctx))
            elif obj in mmio:
                make = plan.models.get(obj, Unimplemented)
                self.models[obj] = make(self.device_context(obj))
        for core in self.cores:  # PSCI CPU_ON, broadcast TLB maintenance
            core.peers = [c for c in self.cores
                          if c is not core and c.arch.family == core.arch.family]  # fmt: skip
        for obj, model in self.models.items():
            connect = getattr(model, "connect", None)
            if connect is not None:
                connect(self._cores_seeing(obj))
        scheduler.cores = list(self.cores)
        inputs: list[Any] = [m for m in self.models.values() if hasattr(m, "poll_input")]
        scheduler.inputs = inputs  # the UARTs (see scheduler.InputDevice)
        for core in self.cores:
            self._map(core, *plan.layouts[core.obj])
            if self.tracer is not None:
                self.tracer.attach(core)
        self._load(plan.images, plan.kernels)

    def buffer(self, memory: Object) -> HostBuffer:
        """The host buffer of a RAM or ROM."""
        return self.buffers[self.machine.backends[(memory, "memory")]]

    def _cores_seeing(self, obj: Object) -> list[Core]:
        space = self.machine.space_of(obj)
        return [c for c in self.cores if space in self.machine.space_of(c.obj).chain()]

    def wait_fds(self) -> list[int]:
        """The descriptors whose input could wake a waiting CPU (a console with receive
        interrupts enabled)."""
        return [fd for m in self.scheduler.inputs
                if m.input_wakes() and (fd := m.out.wait_fd()) is not None]  # type: ignore[attr-defined]  # fmt: skip

    # --- memory map -------------------------------------------------------------------

    def _map(self, core: Core, memory: list[Segment], windows: list[MmioPages]) -> None:
        uc = core.uc
        for seg in memory:
            mp = seg.mapping
            target = mp.target if mp.region.kind == "alias" else mp.obj
            assert target is not None
            buf = self.buffer(target)
            offset = (mp.offset if mp.region.kind == "alias" else 0) + seg.start - mp.base
            readonly = self.machine.backends[(target, "memory")].get("readonly")
            perms = UC_PROT_READ | UC_PROT_EXEC if readonly else UC_PROT_ALL
            uc.mem_map_ptr(seg.start, seg.end - seg.start, perms, buf.address + offset)
            core.ram.append((seg.start, seg.end - seg.start, buf.address + offset))
        for window in windows:
            self._map_mmio(core, window)

    def _map_mmio(self, core: Core, window: MmioPages) -> None:
        # a device's access never stops the engine itself (stopped in an MMIO callback,
        # Unicorn may replay the access on resuming): a stop it asks for ends the slice at
        # the next translated block, through the core's counter, in both timings
        models = self.models
        scheduler = self.scheduler
        uc, counter = core.uc, core.counting

        def read(uc: Uc, offset: int, size: int, user: object) -> int:
            scheduler.accesses += 1
            if (
                scheduler.wall_deadline
                and scheduler.alone
                and time.monotonic() > scheduler.wall_deadline
            ):
                scheduler.cut_slice()  # polling a device for long: let the controller in
            address = window.start + offset
            hit = window.find(address)
            try:
                if hit is None:
                    scheduler.note(f"read of {size} bytes at unassigned {address:#x} returns 0")
                    scheduler.idle_poll()  # what it reads never changes
                    return 0
                model: Any = models[hit[0]]
                if hasattr(model, "read_from"):  # registers banked by the accessing CPU
                    value = model.read_from(core, hit[2], hit[1], size)
                    return int(value) & ((1 << (size * 8)) - 1)
                if hasattr(model, "read_region"):  # a device with several windows
                    return int(model.read_region(hit[2], hit[1], size)) & ((1 << (size * 8)) - 1)
                return int(model.read(hit[1], size)) & ((1 << (size * 8)) - 1)
            except Exception as exc:  # never into C
                scheduler.request_stop(
                    EXIT_FAULT, f"device model error at {address:#x}: {exc!r}", "error"
                )
                counter.cut()
                return 0

        def write(uc: Uc, offset: int, size: int, value: int, user: object) -> None:
            scheduler.accesses += 1
            address = window.start + offset
            hit = window.find(address)
            try:
                if hit is None:
                    scheduler.note(f"write of {size} bytes at unassigned {address:#x} ignored")
                    return
                model: Any = models[hit[0]]
                if hasattr(model, "write_from"):
                    model.write_from(core, hit[2], hit[1], size, value)
                elif hasattr(model, "write_region"):
                    model.write_region(hit[2], hit[1], size, value)
                else:
                    model.write(hit[1], size, value)
            except Exception as exc:  # never into C
                scheduler.request_stop(
                    EXIT_FAULT, f"device model error at {address:#x}: {exc!r}", "error"
                )
            if scheduler.stopping:
                counter.cut()  # a final stop (poweroff): at the next block

        tracer = self.tracer
        if tracer is not None and tracer.categories & {"mmio", "unimp", "guest_errors"}:
            read, write = self._traced(core, window, tracer, read, write)
        self._callbacks += [read, write]
        uc.mmio_map(window.start, window.end - window.start, read, None, write, None)

    def _traced(self, core: Core, window: MmioPages, tracer: Tracer, read: Any,
                write: Any) -> tuple[Any, Any]:  # fmt: skip
        """``read`` and ``write`` with each access in the trace: ``mmio`` for a device
        with a model, ``unimp`` for one without, ``guest_errors`` where no device is."""
        models, path = self.models, core.obj.path

        def show(kind: str, address: int, size: int, value: int) -> None:
            hit = window.find(address)
            arrow = "->" if kind == "read" else "<-"
            if hit is None:
                if tracer.wants("guest_errors"):
                    tracer.line(path, "guest_errors", f"{kind} of {size} bytes at {address:#x}, "
                                f"where no device is {arrow} {value:#x}")  # fmt: skip
                return
            obj, offset = hit[0], hit[1]
            category = "unimp" if isinstance(models.get(obj), Unimplemented) else "mmio"
            if tracer.wants(category):
                tracer.line(path, category, f"{kind} {obj.path} +{offset:#x} ({size} "
                            f"byte{'s'[: size != 1]}) {arrow} {value:#x}")  # fmt: skip

        def traced_read(uc: Uc, offset: int, size: int, user: object) -> int:
            value: int = read(uc, offset, size, user)
            show("read", window.start + offset, size, value)
            return value

        def traced_write(uc: Uc, offset: int, size: int, value: int, user: object) -> None:
            write(uc, offset, size, value, user)
            show("write", window.start + offset, size, value)

        return traced_read, traced_write

    # --- images -----------------------------------------------------------------------

    def _load(self, images: list[Image], kernels: list[Kernel]) -> None:
        by_cpu = {core.obj: core for core in self.cores}
        entries: dict[Core, int] = {}
        for image in images:  # read and checked to fit by the pre-flight check
            memory = GuestMemory(self, image.space)
            for address, data in image.chunks:
                memory.write(address, data)
            core = by_cpu.get(image.cpu) if image.cpu is not None else None
            if core is not None:
                entries[core] = image.entry if image.entry is not None else image.obj.get("address")
        dtb = self._place_device_tree()
        starts = {core: (entries.get(core, core.obj.get("reset_vector") or 0), dtb)
                  for core in self.cores}  # fmt: skip
        off = self._secondaries(entries)
        for kernel in kernels:
            self._boot_kernel(kernel, by_cpu, starts, off)
        for core in self.cores:
            core.reset(*starts[core])
            if core in off:
                core.power_off()
            core.uc.ctl_flush_tb()

    def _secondaries(self, entries: dict[Core, int]) -> set[Core]:
        """The cores that start powered off because an earlier core of their address
        space runs the same firmware and turns them on (:attr:`ArchInfo.secondaries_off`):
        those with no image of their own, after the first such core of their
        architecture in their address space."""
        off: set[Core] = set()
        first: set[tuple[int, str]] = set()
        for core in self.cores:
            arch = core.obj.info.arch_info
            if arch is None or core in entries:
                continue
            key = (id(self.machine.space_of(core.obj)), arch.name)
            if key in first and arch.secondaries_off:
                off.add(core)
            first.add(key)
        return off

    def _boot_kernel(self, kernel: Kernel, by_cpu: dict[Object, Core],
                     starts: dict[Core, tuple[int, int]], off: set[Core]) -> None:  # fmt: skip
        """Place a kernel, its initrd and device tree where its architecture's boot
        protocol put them (read and placed by the pre-flight check), and set where its
        CPUs start (see :mod:`qconf.emu.kernel`)."""
        from qconf.dtb import Chosen, device_tree_blob

        group, plan, initrd = kernel.group, kernel.boot, kernel.initrd
        m, first = self.machine, group.cpus[0]
        arch = first.info.arch_info
        assert arch is not None
        memory = GuestMemory(self, m.space_of(first))
        _write_chunks(memory, plan.chunks, group.kernel, first, "kernel")
        span = None
        if initrd is not None and plan.initrd is not None:
            _write_chunks(memory, [(plan.initrd, initrd)], group.initrd or "", first, "initrd")
            span = (plan.initrd, plan.initrd + len(initrd))
        dtb = 0
        if arch.device_tree is not None:  # a kernel gets a tree, as QEMU gives it one
            blob = device_tree_blob(m, Chosen(group.append, span))
            _write_chunks(memory, [(plan.dtb, blob)], "the device tree", first, "kernel")
            dtb = plan.dtb
        for i, cpu in enumerate(group.cpus):
            core = by_cpu[cpu]
            starts[core] = (plan.entry if plan.entry is not None else starts[core][0], dtb)
            if i and plan.secondaries_off:
                off.add(core)
            elif not i:  # a kernel's boot CPU runs, whatever CPU ran the same firmware
                off.discard(core)

    def _place_device_tree(self) -> int:
        """Generate and place the device tree if the machine asks for one; its address:
        at the start of the first RAM where the architecture's boot protocol says so
        (Arm ``virt``), else near its end, 2 MiB aligned (as QEMU does for RISC-V)."""
        if self.machine.root.get("device_tree") != "auto":
            return 0
        from qconf.dtb import device_tree_blob, tree_arch

        blob = device_tree_blob(self.machine)
        rams = self.machine.rams()
        if not rams:
            raise RunError("device_tree: auto needs a RAM to hold the tree", code="E908",
                           origin=self.machine.root.origins.get("device_tree"))  # fmt: skip
        ram = rams[0]
        found = tree_arch(self.machine)
        if found is not None and found[0].tree_at_ram_start:
            address = ram.get("base")
        else:
            end = ram.get("base") + ram.get("size")
            address = (end - len(blob)) & ~((2 << 20) - 1)
        self.buffer(ram).write(address - ram.get("base"), blob)
        return int(address)

    # --- hotplug (see qconf.assembly.hotplug) -------------------------------------------

    def plug_memory(self, obj: Object) -> None:
        """Map the RAM ``obj``, just added to the machine, into every core that sees its
        address space (fresh zeroed memory); translated code is dropped.

        :raises RunError: it cannot be mapped (not on 4 KiB boundaries, or it shares a
            page with a device); nothing was mapped.
        """
        from unicorn import UcError

        base, size = obj.get("base"), obj.get("size")
        if base % 0x1000 or size % 0x1000:
            raise RunError(f"at {base:#x}, size {size:#x}, it is not on 4 KiB boundaries",
                           code="E907", path=obj.key,
                           hint="RAM added to a running machine starts and ends on a 4 KiB "
                                "boundary")  # fmt: skip
        backend = self.machine.backends[(obj, "memory")]
        buf = self.buffers[backend] = HostBuffer(size, obj)
        mapped: list[Core] = []
        try:
            for core in self._cores_seeing(obj):
                core.uc.mem_map_ptr(base, size, UC_PROT_ALL, buf.address)
                mapped.append(core)
                core.ram.append((base, size, buf.address))
        except UcError as exc:
            for core in mapped:
                core.uc.mem_unmap(base, size)
                core.ram = [r for r in core.ram if r[0] != base]
            del self.buffers[backend]
            buf.close()
            raise RunError(f"cannot map {obj.key} at {base:#x}: {exc}",
                           code="E907", path=obj.key,
                           hint="something already uses those pages (a device's 4 KiB page)"
                           ) from None  # fmt: skip
        for core in self.cores:
            core.uc.ctl_flush_tb()
            core.memory_changed()

    def unplug_memory(self, obj: Object) -> None:
        """Unmap the RAM ``obj`` from every core, and free it; translated code is dropped."""
        base, size = obj.get("base"), obj.get("size")
        for core in self._cores_seeing(obj):
            core.uc.mem_unmap(base, size)
            core.ram = [r for r in core.ram if r[0] != base]
        for core in self.cores:
            core.uc.ctl_flush_tb()
            core.memory_changed()
        backend = self.machine.backends.get((obj, "memory"))
        buf = self.buffers.pop(backend, None) if backend is not None else None
        if buf is not None:
            buf.close()

    def close(self) -> None:
        """Close the cores (each engine and its translation buffer), the buffers and the
        backends."""
        for core in self.cores:
            core.close()
        for buf in self.buffers.values():
            buf.close()
        self.consoles.close()
        self.cores.clear()
        self.buffers.clear()


def _write_chunks(memory: GuestMemory, chunks: list[Chunk], file: str, obj: Object,
                  prop: str = "file") -> None:  # fmt: skip
    """Write an image's chunks into ``memory``.

    :raises RunError: a chunk is not in any RAM or ROM.
    """
    for address, data in chunks:
        try:
            memory.write(address, data)
        except ValueError:
            raise RunError(
                f"{file}: {len(data)} bytes at {address:#x} do not fit in any RAM or ROM",
                code="E907", origin=obj.origin if prop == "file" else obj.origins.get(prop),
                path=obj.key, hint="link the program for this machine's memory map (qconf "
                "mtree shows it)" if prop == "file" else "give the machine more RAM",
            ) from None  # fmt: skip
