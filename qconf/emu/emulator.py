"""Run a built machine: memory, device models, CPUs, images, and the scheduler loop.

The scheduler runs every CPU in turn for one time slice (``quantum`` instructions of the
fastest CPU; slower CPUs run proportionally fewer), then advances virtual time by the
slice, runs due timer events and delivers interrupts. A CPU waiting in ``wfi`` is skipped
until an enabled interrupt is pending; when every CPU waits, time jumps to the next timer
deadline. Nothing depends on the host clock, so two runs give the same output and counts.
"""

from __future__ import annotations

import select
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from unicorn import UC_PROT_ALL, UC_PROT_EXEC, UC_PROT_READ, Uc

from qconf.assembly.machine import Machine
from qconf.emu.aarch64 import Aarch64Core
from qconf.emu.chardev import Chardev, NullChardev, Scripted, open_chardev
from qconf.emu.cortexm import CortexM
from qconf.emu.devices import MODELS, MmioModel
from qconf.emu.faults import GuestFault
from qconf.emu.loader import read_image
from qconf.emu.memory import HostBuffer, MmioPages, RunError, flatten, mmio_windows
from qconf.emu.riscv import MEI, MSI, MTI, SEI, RiscvHart
from qconf.emu.vtime import VirtualTime
from qconf.model.objects import Object

__all__ = ("EXIT_FAULT", "EXIT_INTERRUPTED", "EXIT_LIMIT", "Emulation", "Outcome", "run")

EXIT_FAULT, EXIT_LIMIT, EXIT_INTERRUPTED = 3, 124, 130
LONE_CPU_QUANTA = 100
"""How many quanta a slice may last when only one CPU runs (it still ends at the next
timer deadline, or as soon as a device raises an interrupt line)."""
CONTROLLER_PERIOD_S = 0.005
"""With a controller (QMP), a lone CPU's slice that polls devices ends after this much
host time, so commands are answered within a few milliseconds."""
CPU_TYPES: dict[str, Callable[[Object, Emulation], Any]] = {
    "riscv64": RiscvHart,
    "riscv32": RiscvHart,
    "cortex-m0": CortexM,
    "cortex-m3": CortexM,
    "cortex-m4": CortexM,
    "aarch64": Aarch64Core,
}


@dataclass
class Outcome:
    """How a run ended."""

    exit_code: int
    reason: str
    time_ns: int
    instructions: dict[str, int]
    wall_s: float
    fault: GuestFault | None = None

    def stats_lines(self) -> list[str]:
        out = [f"qconf: {self.reason}", f"  virtual time {self.time_ns / 1e6:.6f} ms, "
               f"wall {self.wall_s:.3f} s"]  # fmt: skip
        for cpu, n in self.instructions.items():
            mips = n / self.wall_s / 1e6 if self.wall_s else 0.0
            out.append(f"  {cpu}: {n} instructions, {mips:.1f} MIPS")
        return out


class IrqLines:
    """Interrupt wires at run time: levels by output, ORed into each input."""

    def __init__(self, machine: Machine, emu: Emulation) -> None:
        self.machine = machine
        self.emu = emu
        self.levels: dict[tuple[Object, str], bool] = {}
        self.drivers: dict[tuple[Object, str, int], list[tuple[Object, str]]] = {}
        for w in machine.wires:
            self.drivers.setdefault((w.sink, w.line, w.index), []).append((w.source, w.output))

    def set(self, source: Object, output: str, level: bool) -> None:
        key = (source, output)
        if level and not self.levels.get(key, False):
            self.emu.cut_slice()  # deliver it without waiting for the slice to end
        self.levels[key] = level

    def input_level(self, sink: Object, line: str, index: int) -> bool:
        drivers = self.drivers.get((sink, line, index))
        return drivers is not None and any(self.levels.get(d, False) for d in drivers)


@dataclass
class Emulation:
    """What device models and CPUs share while a machine runs."""

    machine: Machine
    time: VirtualTime = field(default_factory=VirtualTime)
    stopping: bool = False
    exit_code: int = 0
    reason: str = ""
    chardevs: dict[Object, Chardev] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    irqs: IrqLines = field(init=False)
    running: Any = None  # the CPU executing now, if any
    slice_start: int = 0
    slice_end: int = 0
    alone: bool = False  # the running CPU is the only one running
    skipped: int = 0  # ns of busy-waiting skipped in this slice
    wall_deadline: float = 0.0  # a lone CPU's slice ends at its next device read after
    # this host time (time.monotonic()), so that a controller (QMP) is served at least
    # every few ms however busy the guest's device polling is; 0: no limit
    skip_waits: bool = True
    script: list[tuple[bytes, bytes]] = field(default_factory=list)
    console: Chardev | None = None
    cpus: list[Any] = field(default_factory=list)  # the running CPU models, by the emulator
    listeners: list[Callable[[Object, bytes], None]] = field(default_factory=list)
    console_input: dict[Object, deque[int]] = field(default_factory=dict)  # typed over QMP
    host: Any = None  # the Emulator running this (hotplug maps memory through it)

    def __post_init__(self) -> None:
        self.irqs = IrqLines(self.machine, self)

    def now(self) -> int:
        """Virtual time as a device sees it: the start of the current slice plus what the
        running CPU has executed of it (to the translated block, in fast timing), plus any
        busy-wait it skipped."""
        cpu = self.running
        if cpu is None or cpu.budget is None:
            return self.time.now
        done: int = cpu.budget.executed()
        return self.slice_start + done * 1_000_000_000 // int(cpu.freq) + self.skipped

    def skip(self, ns: int) -> bool:
        """Let the running CPU's time jump ``ns`` ahead: it is polling the clock in a loop.
        Only a lone running CPU may (others would fall behind it); the slice ends when the
        jump reaches its end, so timer events still come on time. Whether it skipped."""
        if not self.alone or not self.skip_waits:
            return False
        self.skipped += ns
        if self.now() >= self.slice_end:
            self.cut_slice()
        return True

    def cut_slice(self) -> None:
        """End the running CPU's slice at its next block: something it did (raising an
        interrupt line, arming a timer in the past) needs the scheduler now."""
        cpu = self.running
        if cpu is not None and cpu.budget is not None:
            cpu.budget.exhaust()

    def request_stop(self, code: int, reason: str) -> None:
        if not self.stopping:
            self.stopping, self.exit_code, self.reason = True, code, reason

    def chardev_of(self, device: Object) -> Chardev:
        backend = self.machine.backends.get((device, "chardev"))
        if backend is None:
            return NullChardev()
        found = self.chardevs.get(backend)
        if found is None:
            found = open_chardev(
                backend.get("backend"), backend.get("path"), backend.get("host"),
                backend.get("port"),
                on_quit=lambda: self.request_stop(0, "quit from the console (Ctrl-A X)"),
            )  # fmt: skip
            if self.script and self.console is None:  # the first UART is the console
                found = Scripted(found, self.script)
            self.chardevs[backend] = found
        if self.console is None:
            self.console = found
        return found

    def note(self, message: str) -> None:
        if message not in self.log:
            self.log.append(message)
            print(f"qconf: note: {message}", file=sys.stderr)


class Unimplemented:
    """A device with no model yet: reads 0, ignores writes, logs the first access."""

    def __init__(self, obj: Object, emu: Emulation) -> None:
        self.obj, self.emu = obj, emu

    def read(self, offset: int, size: int) -> int:
        self.emu.note(f"{self.obj.key} ({self.obj.info.name}) is not modelled: read at "
                      f"+{offset:#x} returns 0")  # fmt: skip
        return 0

    def write(self, offset: int, size: int, value: int) -> None:
        self.emu.note(f"{self.obj.key} ({self.obj.info.name}) is not modelled: write at "
                      f"+{offset:#x} ignored")  # fmt: skip


class Emulator:
    """One run of one machine."""

    def __init__(
        self,
        machine: Machine,
        chardevs: dict[str, Chardev] | None = None,
        script: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        self.machine = machine
        self.emu = Emulation(machine, script=list(script or []),
                             skip_waits=machine.root.get("skip_busy_waits"))  # fmt: skip
        for path, dev in (chardevs or {}).items():
            self.emu.chardevs[machine.object(path)] = dev
        self.buffers: dict[Object, HostBuffer] = {}
        self.models: dict[Object, MmioModel] = {}
        self.cpus: list[Any] = []
        self._callbacks: list[Any] = []  # keep ctypes callbacks alive
        self._controllers: dict[Any, tuple[list[Any], list[Any]]] = {}
        self.emu.host = self

    # --- set-up ---------------------------------------------------------------------

    def prepare(self) -> None:
        m = self.machine
        for obj in m.objects():
            if obj.info.name == "memory-backend":
                self.buffers[obj] = HostBuffer(obj.get("size"))
        for obj in m.objects():
            if obj.info.category == "cpu":
                make = CPU_TYPES.get(obj.info.name)
                if make is None:
                    raise RunError(
                        f"{obj.info.name} CPUs cannot run yet", code="E905", path=obj.key,
                        hint="every built-in CPU type runs; this one has no run-time model",
                    )  # fmt: skip
                self.cpus.append(make(obj, self.emu))
            elif any(mp.obj is obj and mp.region.kind == "mmio"
                     for sp in m.spaces.values() for mp in sp.mappings):  # fmt: skip
                model = MODELS.get(obj.info.name, Unimplemented)
                self.models[obj] = model(obj, self.emu)
        if not self.cpus:
            raise RunError("the machine has no CPU to run", code="E906")
        self.emu.cpus = self.cpus
        for cpu in self.cpus:
            if isinstance(cpu, RiscvHart):
                clints = self.pending_sources(cpu)[0]
                cpu.clint = clints[0] if clints else None
            if isinstance(cpu, CortexM):
                cpu.nvic = self._nvic_for(cpu)
                if cpu.nvic is not None:
                    cpu.nvic.core = cpu
            elif isinstance(cpu, Aarch64Core):
                chain = list(self.machine.space_of(cpu.obj).chain())
                for obj, gic in self.models.items():
                    if obj.info.name == "gic" and self.machine.space_of(obj) in chain:
                        cpu.gic = gic
                        gic.core = cpu  # type: ignore[attr-defined]
                        break
        for cpu in self.cpus:
            self._map(cpu)
        self._load()

    def _nvic_for(self, cpu: CortexM) -> Any:
        """The NVIC that names this core (``cpu``), else the one in its address space."""
        chain = list(self.machine.space_of(cpu.obj).chain())
        found: Any = None
        for obj, model in self.models.items():
            if obj.info.name != "nvic":
                continue
            named = obj.get("cpu")
            if named is not None and self.machine.find(named) is cpu.obj:
                found = model
                break
            if named is None and self.machine.space_of(obj) in chain and found is None:
                found = model
        if found is not None:
            found.cpu_freq, found.cpu_model = cpu.freq, cpu.obj.info.name
        return found

    def _buffer(self, mem: Object) -> HostBuffer:
        return self.buffers[self.machine.backends[(mem, "memory")]]

    # --- hotplug (see qconf.assembly.hotplug) ---------------------------------------------

    def plug_memory(self, obj: Object) -> None:
        """Map the RAM ``obj``, just added to the machine, into every CPU that sees its
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
        buf = self.buffers[backend] = HostBuffer(size)
        mapped: list[Any] = []
        try:
            for cpu in self._cpus_seeing(obj):
                cpu.uc.mem_map_ptr(base, size, UC_PROT_ALL, buf.address)
                mapped.append(cpu)
        except UcError as exc:
            for cpu in mapped:
                cpu.uc.mem_unmap(base, size)
            del self.buffers[backend]
            buf.close()
            raise RunError(f"cannot map {obj.key} at {base:#x} in {cpu.obj.key}: {exc}",
                           code="E907", path=obj.key,
                           hint="something already uses those pages (a device's 4 KiB page)"
                           ) from None  # fmt: skip
        for cpu in self.cpus:
            cpu.uc.ctl_flush_tb()

    def unplug_memory(self, obj: Object) -> None:
        """Unmap the RAM ``obj`` from every CPU, and free it; translated code is dropped."""
        base, size = obj.get("base"), obj.get("size")
        for cpu in self._cpus_seeing(obj):
            cpu.uc.mem_unmap(base, size)
        for cpu in self.cpus:
            cpu.uc.ctl_flush_tb()
        backend = self.machine.backends.get((obj, "memory"))
        buf = self.buffers.pop(backend, None) if backend is not None else None
        if buf is not None:
            buf.close()

    def _cpus_seeing(self, obj: Object) -> list[Any]:
        space = self.machine.space_of(obj)
        return [cpu for cpu in self.cpus if space in self.machine.space_of(cpu.obj).chain()]

    def _map(self, cpu: Any) -> None:
        space = self.machine.space_of(cpu.obj)
        memory, windows = mmio_windows(flatten(space))
        uc = cpu.uc
        for seg in memory:
            mp = seg.mapping
            target = mp.target if mp.region.kind == "alias" else mp.obj
            assert target is not None
            buf = self._buffer(target)
            offset = (mp.offset if mp.region.kind == "alias" else 0) + seg.start - mp.base
            perms = UC_PROT_READ | UC_PROT_EXEC if target.info.name == "rom" else UC_PROT_ALL
            uc.mem_map_ptr(seg.start, seg.end - seg.start, perms, buf.address + offset)
        for window in windows:
            self._map_mmio(uc, window)

    def _map_mmio(self, uc: Uc, window: MmioPages) -> None:
        models = self.models
        emu = self.emu

        def read(uc: Uc, offset: int, size: int, user: object) -> int:
            if emu.wall_deadline and emu.alone and time.monotonic() > emu.wall_deadline:
                emu.cut_slice()  # polling a device for long: let the controller in
            address = window.start + offset
            hit = window.find(address)
            try:
                if hit is None:
                    emu.note(f"read of {size} bytes at unassigned {address:#x} returns 0")
                    return 0
                model = models[hit[0]]
                if hasattr(model, "read_region"):  # a device with several windows
                    return int(model.read_region(hit[2], hit[1], size)) & ((1 << (size * 8)) - 1)
                return model.read(hit[1], size) & ((1 << (size * 8)) - 1)
            except Exception as exc:  # never into C
                emu.request_stop(EXIT_FAULT, f"device model error at {address:#x}: {exc!r}")
                uc.emu_stop()
                return 0

        def write(uc: Uc, offset: int, size: int, value: int, user: object) -> None:
            address = window.start + offset
            hit = window.find(address)
            try:
                if hit is None:
                    emu.note(f"write of {size} bytes at unassigned {address:#x} ignored")
                    return
                model = models[hit[0]]
                if hasattr(model, "write_region"):
                    model.write_region(hit[2], hit[1], size, value)
                else:
                    model.write(hit[1], size, value)
            except Exception as exc:  # never into C
                emu.request_stop(EXIT_FAULT, f"device model error at {address:#x}: {exc!r}")
            if emu.stopping:
                uc.emu_stop()  # a final stop (poweroff): safe from a callback

        self._callbacks += [read, write]
        uc.mmio_map(window.start, window.end - window.start, read, None, write, None)

    def _load(self) -> None:
        by_cpu = {cpu.obj: cpu for cpu in self.cpus}
        entries: dict[Any, int] = {}
        for obj in self.machine.objects():
            if obj.info.name != "image":
                continue
            target = self.machine.find(obj.get("target") or "")
            chunks, entry = read_image(obj.get("file"), obj.get("address"),
                                       obj.origins.get("file"))  # fmt: skip
            cpu = by_cpu.get(target) if target is not None else None
            space = self.machine.space_of(cpu.obj if cpu else target or self.machine.root)
            for address, data in chunks:
                self._write(space, address, data, obj)
            if cpu is not None:
                entries[cpu] = entry if entry is not None else obj.get("address")
        dtb = self._place_device_tree()
        for cpu in self.cpus:
            cpu.reset(entries.get(cpu, cpu.obj.get("reset_vector") or 0), dtb)
            cpu.uc.ctl_flush_tb()

    def _place_device_tree(self) -> int:
        """Generate and place the device tree if the machine asks for one; its address."""
        if self.machine.root.get("device_tree") != "auto":
            return 0
        from qconf.dtb import device_tree_blob

        blob = device_tree_blob(self.machine)
        rams = [o for o in self.machine.objects() if o.info.name == "ram"]
        if not rams:
            raise RunError("device_tree: auto needs a RAM to hold the tree", code="E908")
        ram = rams[0]
        if any(isinstance(cpu, Aarch64Core) for cpu in self.cpus):
            address = ram.get("base")  # arm virt: the tree starts the RAM (U-Boot looks there)
        else:
            end = ram.get("base") + ram.get("size")
            address = (end - len(blob)) & ~((2 << 20) - 1)
        self._buffer(ram).write(address - ram.get("base"), blob)
        return int(address)

    def _write(self, space: Any, address: int, data: bytes, image: Object) -> None:
        for seg in flatten(space):
            mp = seg.mapping
            if seg.start <= address < seg.end and mp.region.kind in ("ram", "rom", "alias"):
                if address + len(data) > seg.end:
                    break
                target = mp.target if mp.region.kind == "alias" else mp.obj
                assert target is not None
                offset = (mp.offset if mp.region.kind == "alias" else 0) + address - mp.base
                self._buffer(target).write(offset, data)
                return
        raise RunError(
            f"{image.get('file')}: {len(data)} bytes at {address:#x} do not fit in any RAM "
            "or ROM", code="E907", origin=image.origin, path=image.key,
            hint="link the program for this machine's memory map (qconf mtree shows it)",
        )  # fmt: skip

    # --- running --------------------------------------------------------------------

    def pending(self, cpu: Any) -> int:
        """The external and core-local interrupts (mip bits) pending for a RISC-V ``cpu``:
        from the CLINTs and PLICs in its address space (found once)."""
        clints, plics = self.pending_sources(cpu)
        bits = 0
        for clint in clints:
            if clint.timer_pending(cpu.hartid):
                bits |= 1 << MTI
            if clint.soft_pending(cpu.hartid):
                bits |= 1 << MSI
        for plic in plics:
            if plic.context_pending(2 * cpu.hartid):
                bits |= 1 << MEI
            if plic.context_pending(2 * cpu.hartid + 1):
                bits |= 1 << SEI
        return bits

    def pending_sources(self, cpu: Any) -> tuple[list[Any], list[Any]]:
        """The CLINTs and PLICs in ``cpu``'s address space (found once)."""
        found = self._controllers.get(cpu)
        if found is None:
            chain = list(self.machine.space_of(cpu.obj).chain())
            found = self._controllers[cpu] = (
                [m for o, m in self.models.items()
                 if o.info.name == "clint" and self.machine.space_of(o) in chain],
                [m for o, m in self.models.items()
                 if o.info.name == "plic" and self.machine.space_of(o) in chain],
            )  # fmt: skip
        return found

    def run(
        self,
        max_insns: int | None = None,
        timeout: float | None = None,
        status: Callable[[str], None] | None = None,
        tick: Callable[[Emulation], None] | None = None,
    ) -> Outcome:
        emu, clock = self.emu, self.emu.time
        quantum = self.machine.root.get("quantum")
        fastest = max(cpu.freq for cpu in self.cpus)
        quantum_ns = max(1, quantum * 1_000_000_000 // fastest)
        start = time.monotonic()
        next_status = start + 1.0  # short runs show no status line
        total = 0
        fault: GuestFault | None = None

        def interrupted(signum: int, frame: object) -> None:
            # Ctrl-C: a flag, not an exception, which could land inside an engine callback
            # and be lost there; the running slice ends at its next block
            emu.request_stop(EXIT_INTERRUPTED, "interrupted (Ctrl-C)")
            emu.cut_slice()

        previous = _install_sigint(interrupted)
        inputs: list[Any] = [m for m in self.models.values() if hasattr(m, "poll_input")]
        try:
            while not emu.stopping:
                if timeout is not None and time.monotonic() - start > timeout:
                    emu.request_stop(EXIT_LIMIT, f"stopped after {timeout:g} s (--timeout)")
                    break
                if tick is not None:  # a controller (QMP) between slices; it may block
                    tick(emu)
                    if emu.stopping:
                        break
                for model in inputs:  # input that arrived raises receive interrupts
                    model.poll_input()
                for cpu in self.cpus:
                    cpu.deliver(self.pending(cpu))
                runnable = [cpu for cpu in self.cpus if not cpu.waiting]
                deadline = clock.next_deadline()
                if not runnable:
                    if deadline is None:
                        fds = [
                            fd
                            for m in inputs  # input that could wake a CPU
                            if m.input_wakes() and (fd := m.out.wait_fd()) is not None
                        ]
                        if not fds and tick is None:
                            emu.request_stop(EXIT_FAULT, "every CPU waits for an interrupt "
                                             "and no timer is armed: the guest hung")  # fmt: skip
                            break
                        # waiting for input (a console) or for a controller (QMP): virtual
                        # time stands still meanwhile, as nothing can happen in it
                        select.select(fds, [], [], 0.01 if tick is not None else 0.1)
                        continue
                    clock.advance(deadline)
                    continue
                # a lone CPU that can be cut short runs long slices; every slice ends at the
                # next timer deadline, so timer interrupts arrive exactly on time
                alone = len(runnable) == 1 and runnable[0].budget is not None
                span = quantum_ns * (LONE_CPU_QUANTA if alone else 1)
                if deadline is not None:
                    span = max(1, min(span, deadline - clock.now))
                if max_insns is not None:  # do not run far past the limit
                    left = max(1, max_insns - total)
                    span = min(span, max(1, left * 1_000_000_000 // fastest))
                emu.slice_start, emu.slice_end = clock.now, clock.now + span
                if tick is not None:
                    emu.wall_deadline = time.monotonic() + CONTROLLER_PERIOD_S
                emu.alone, emu.skipped = alone, 0
                elapsed = span
                for cpu in runnable:
                    budget = max(1, span * cpu.freq // 1_000_000_000)
                    before = cpu.instructions
                    emu.running = cpu
                    cpu.run(budget)
                    ran = cpu.instructions - before
                    total += ran
                    if alone and (ran < budget or emu.skipped):
                        # cut short (wfi, an interrupt raised) or jumped ahead: the time it
                        # ran, and what it skipped
                        elapsed = max(1, -(-ran * 1_000_000_000 // cpu.freq) + emu.skipped)
                    if emu.stopping:
                        break
                emu.running = None
                if emu.stopping:
                    break
                clock.advance(emu.slice_start + elapsed)
                if max_insns is not None and total >= max_insns:
                    emu.request_stop(EXIT_LIMIT, f"stopped after {total} instructions "
                                     "(--max-insns)")  # fmt: skip
                now = time.monotonic()
                if status is not None and now >= next_status:
                    next_status = now + 0.5
                    status(f"virtual {clock.now / 1e6:.3f} ms, {total / 1e6:.1f} M instructions, "
                           f"{total / max(now - start, 1e-9) / 1e6:.0f} MIPS")  # fmt: skip
        except GuestFault as exc:
            fault = exc
            emu.request_stop(EXIT_FAULT, f"guest fault on {exc.cpu}")
        except KeyboardInterrupt:
            emu.request_stop(EXIT_INTERRUPTED, "interrupted (Ctrl-C)")
        finally:
            _install_sigint(previous)
        emu.running = None
        return Outcome(emu.exit_code, emu.reason, clock.now,
                       {cpu.obj.path: cpu.instructions for cpu in self.cpus},
                       time.monotonic() - start, fault)  # fmt: skip

    def close(self) -> None:
        for cpu in self.cpus:
            cpu.close()
        for buf in self.buffers.values():
            buf.close()
        for dev in self.emu.chardevs.values():
            dev.close()
        self.cpus.clear()
        self.buffers.clear()


def _install_sigint(handler: Any) -> Any:
    """Set the SIGINT handler (in the main thread only); the one it replaces."""
    import signal
    import threading

    if handler is None or threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, handler)


def run(
    machine: Machine,
    *,
    max_insns: int | None = None,
    timeout: float | None = None,
    chardevs: dict[str, Chardev] | None = None,
    status: Callable[[str], None] | None = None,
    script: list[tuple[bytes, bytes]] | None = None,
    tick: Callable[[Emulation], None] | None = None,
    prepared: Emulator | None = None,
) -> Outcome:
    """Run ``machine`` until the guest powers off, faults, or a limit is reached.

    ``chardevs`` replaces backends by path (``{"/machine/backends/chardev/soc-uart0":
    MemoryChardev()}``), for tests and scripts. ``status`` is called with a progress line
    about twice a second once a run has lasted a second. ``script`` drives the console (the
    first UART): ``[(b"Hit any key", b"\\n"), (b"=> ", b"version\\n")]`` types each text once
    the output shows its pattern, in order. ``prepared`` is an ``Emulator`` of ``machine``
    already prepared (images loaded), which this run uses and closes.

    :raises RunError: the machine cannot be mapped or its images loaded.
    """
    emulator = prepared
    try:
        if emulator is None:
            emulator = Emulator(machine, chardevs, script)
            emulator.prepare()
        return emulator.run(max_insns, timeout, status, tick)
    finally:
        if emulator is not None:
            emulator.close()
