"""The GICv2 model (a distributor and one CPU interface per AArch64 core it serves) and
its device-tree node.

INTID 0-15 are software-generated interrupts (SGIs, sent with ``GICD_SGIR``), 16-31 each
core's private peripheral interrupts (the generic timer: 27 virtual, 30 physical), both
banked per core: their enable, pending, active and priority registers are the accessing
core's. 32 and up are the shared ``in`` lines (``gic.in[33]`` is SPI 1), routed to the
cores in their ``GICD_ITARGETSR`` byte. Level-sensitive; an acknowledged interrupt is
active until the core that took it writes EOIR (an SGI's ``GICC_IAR`` also says which core
sent it). The core that makes an access is the one whose engine called the platform's
MMIO callback (:meth:`Gic.read_from`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qconf.devices.base import Device
from qconf.dtb import TreeWriter, cells
from qconf.emu.context import DeviceContext, cores_of
from qconf.emu.state import StateError, load_attributes, save_attributes
from qconf.model.objects import Object

__all__ = ("Gic", "GicCpu", "fdt_node")

SPURIOUS = 1023
MAX_CPUS = 8  # GICv2's CPU target lists are 8 bits wide


class GicCpu:
    """One core's CPU interface and banked distributor state."""

    def __init__(self, gic: Gic, index: int, core: Any) -> None:
        self.gic, self.index, self.core = gic, index, core
        self.enabled = 0  # INTID 0-31
        self.pend = 0  # SGIs pending (from any source) and PPIs made pending by software
        self.active = 0
        self.prio = bytearray(32)
        self.sgi_sources = [0] * 16  # per SGI: the cores that sent it, a bit each
        self.ctlr = self.pmr = self.bpr = 0

    def irq_level(self) -> bool:
        """The IRQ line to the core."""
        return self.gic.irq_level(self)


class Gic(Device):
    """GICv2 distributor and CPU interfaces (up to eight cores)."""

    STATE = ("enabled", "pend", "prio", "targets", "cfg", "dctlr")
    active: dict[int, GicCpu]
    CPU_STATE = ("enabled", "pend", "active", "prio", "sgi_sources", "ctlr", "pmr", "bpr")

    def state(self) -> dict[str, Any]:
        """The distributor's state, the acknowledged SPIs by the index of the interface
        that took them, and each CPU interface's (banked) state."""
        return {**save_attributes(self, self.STATE),
                "active": {str(intid): cpu.index for intid, cpu in self.active.items()},
                "cpus": [save_attributes(cpu, self.CPU_STATE) for cpu in self.cpus]}  # fmt: skip

    def load_state(self, state: dict[str, Any]) -> None:
        load_attributes(self, self.STATE, state)
        if len(state["cpus"]) != len(self.cpus):
            raise StateError(f"the GIC served {len(state['cpus'])} CPUs, this one "
                             f"{len(self.cpus)}")  # fmt: skip
        for cpu, saved in zip(self.cpus, state["cpus"], strict=True):
            load_attributes(cpu, self.CPU_STATE, saved)
        self.active = {int(intid): self.cpus[index] for intid, index in state["active"].items()}

    def __init__(self, ctx: DeviceContext) -> None:
        super().__init__(ctx)
        obj = ctx.obj
        self.lines: int = obj.get("num_irq")
        words = (self.lines + 31) // 32
        self.enabled = [0] * words  # word 0 is banked (GicCpu.enabled)
        self.pend = [0] * words
        self.active = {}  # SPIs acknowledged, by the core that took them
        self.prio = bytearray(self.lines)
        self.targets = bytearray(self.lines)
        self.cfg = [0] * (words * 2)
        self.dctlr = 0
        self.cpus: list[GicCpu] = []
        self._by_core: dict[int, GicCpu] = {}

    def connect(self, cores: Sequence[Any]) -> None:
        """Serve the AArch64 cores that see it and have no GIC yet (eight at most), a CPU
        interface each, in the machine's order."""
        for core in cores_of(cores, "aarch64"):
            if core.gic is None and len(self.cpus) < MAX_CPUS:
                cpu = GicCpu(self, len(self.cpus), core)
                self.cpus.append(cpu)
                self._by_core[id(core)] = cpu
                core.gic = cpu

    def _cpu(self, core: Any) -> GicCpu:
        cpu = self._by_core.get(id(core))
        if cpu is None:  # a core it does not serve: as the first interface
            if not self.cpus:
                self.cpus.append(GicCpu(self, 0, None))
            cpu = self.cpus[0]
        return cpu

    # --- what is pending --------------------------------------------------------------

    def _pending(self, cpu: GicCpu, intid: int) -> bool:
        if intid < 32:
            bit = 1 << intid
            if cpu.active & bit:
                return False
            if cpu.pend & bit:
                return True
            return intid >= 16 and cpu.core is not None and bool(cpu.core.timer_level(intid))
        if intid in self.active:
            return False
        latched = self.pend[intid >> 5] >> (intid & 31) & 1
        return bool(latched) or self.ctx.input_level("in", intid)

    def highest(self, cpu: GicCpu) -> int | None:
        """The highest-priority interrupt pending for ``cpu`` and let through by its
        priority mask, or None."""
        best: tuple[int, int] | None = None
        bits = cpu.enabled
        while bits:
            low = bits & -bits
            intid = low.bit_length() - 1
            bits ^= low
            prio = cpu.prio[intid]
            better = prio < cpu.pmr and (best is None or (prio, intid) < best)
            if better and self._pending(cpu, intid):
                best = (prio, intid)
        mask = 1 << cpu.index
        for word in range(1, len(self.enabled)):
            bits = self.enabled[word]
            while bits:
                low = bits & -bits
                intid = word * 32 + low.bit_length() - 1
                bits ^= low
                if intid >= self.lines or not self.targets[intid] & mask:
                    continue
                prio = self.prio[intid]
                better = prio < cpu.pmr and (best is None or (prio, intid) < best)
                if better and self._pending(cpu, intid):
                    best = (prio, intid)
        return None if best is None else best[1]

    def irq_level(self, cpu: GicCpu) -> bool:
        """The IRQ line to ``cpu``'s core."""
        return bool(self.dctlr & 1 and cpu.ctlr & 1) and self.highest(cpu) is not None

    def _sync(self) -> None:
        for cpu in self.cpus:
            if cpu.core is not None:
                cpu.core.update_irq()

    # --- registers --------------------------------------------------------------------

    def read_from(self, core: Any, region: str, offset: int, size: int) -> int:
        """A read by ``core`` (banked registers are its own)."""
        cpu = self._cpu(core)
        if region == "cpu":
            return self._read_cpu(cpu, offset)
        return self._read_dist(cpu, offset, size)

    def write_from(self, core: Any, region: str, offset: int, size: int, value: int) -> None:
        """A write by ``core``."""
        cpu = self._cpu(core)
        if region == "cpu":
            self._write_cpu(cpu, offset, value)
        else:
            self._write_dist(cpu, offset, size, value)
        self._sync()

    def _acknowledge(self, cpu: GicCpu) -> int:
        intid = self.highest(cpu) if self.dctlr & 1 and cpu.ctlr & 1 else None
        if intid is None:
            return SPURIOUS
        if intid < 16:
            sources = cpu.sgi_sources[intid]
            source = (sources & -sources).bit_length() - 1
            cpu.sgi_sources[intid] = sources & ~(1 << source)
            if not cpu.sgi_sources[intid]:
                cpu.pend &= ~(1 << intid)
            cpu.active |= 1 << intid
            value = intid | max(source, 0) << 10
        elif intid < 32:
            cpu.active |= 1 << intid
            cpu.pend &= ~(1 << intid)
            value = intid
        else:
            self.active[intid] = cpu
            self.pend[intid >> 5] &= ~(1 << (intid & 31))
            value = intid
        self._sync()
        return value

    def _read_cpu(self, cpu: GicCpu, offset: int) -> int:
        if offset == 0x00:
            return cpu.ctlr
        if offset == 0x04:
            return cpu.pmr
        if offset == 0x08:
            return cpu.bpr
        if offset == 0x0C:  # IAR: acknowledges
            return self._acknowledge(cpu)
        if offset == 0x18:  # HPPIR: only looks
            intid = self.highest(cpu) if self.dctlr & 1 and cpu.ctlr & 1 else None
            return SPURIOUS if intid is None else intid
        if offset == 0xFC:
            return 0x0202143B  # GICC_IIDR of a GIC-400
        return 0

    def _write_cpu(self, cpu: GicCpu, offset: int, value: int) -> None:
        if offset == 0x00:
            cpu.ctlr = value & 1
        elif offset == 0x04:
            cpu.pmr = value & 0xFF
        elif offset == 0x08:
            cpu.bpr = value & 7
        elif offset == 0x10:  # EOIR
            intid = value & 0x3FF
            if intid < 32:
                cpu.active &= ~(1 << intid)
            elif self.active.get(intid) is cpu:
                del self.active[intid]

    def _read_dist(self, cpu: GicCpu, offset: int, size: int) -> int:
        if offset == 0x000:
            return self.dctlr
        if offset == 0x004:  # TYPER: CPUNumber, ITLinesNumber
            return (max(len(self.cpus), 1) - 1) << 5 | ((self.lines // 32) - 1)
        if 0x100 <= offset < 0x200:  # ISENABLER / ICENABLER
            i = (offset & 0x7F) >> 2
            if i == 0:
                return cpu.enabled
            return self.enabled[i] if i < len(self.enabled) else 0
        if 0x200 <= offset < 0x300:  # ISPENDR / ICPENDR
            i = (offset & 0x7F) >> 2
            if i >= len(self.pend):
                return 0
            return sum(1 << b for b in range(32)
                       if i * 32 + b < self.lines and self._pending(cpu, i * 32 + b))  # fmt: skip
        if 0x300 <= offset < 0x400:  # ISACTIVER / ICACTIVER
            i = (offset & 0x7F) >> 2
            if i == 0:
                return cpu.active
            return sum(1 << b for b in range(32) if i * 32 + b in self.active)
        if 0x400 <= offset < 0x400 + self.lines:
            n = offset - 0x400
            prio = cpu.prio + self.prio[32:] if n < 32 else self.prio
            return int.from_bytes(prio[n : n + size].ljust(size, b"\0"), "little")
        if 0x800 <= offset < 0x800 + self.lines:
            n = offset - 0x800
            if n < 32:
                return int.from_bytes(bytes([1 << cpu.index]) * size, "little")
            return int.from_bytes(self.targets[n : n + size].ljust(size, b"\0"), "little")
        if 0xC00 <= offset < 0xC00 + 4 * len(self.cfg):
            return self.cfg[(offset - 0xC00) >> 2]
        if 0xF10 <= offset < 0xF30:  # CPENDSGIR / SPENDSGIR: a byte per SGI, a bit per source
            n = (offset - 0xF10) & 0xF
            sources = cpu.sgi_sources
            return sum((sources[n + k] & 0xFF) << (8 * k) for k in range(size) if n + k < 16)
        if offset == 0xFE8:
            return 0x2B  # ICPIDR2: GICv2
        return 0

    def _write_dist(self, cpu: GicCpu, offset: int, size: int, value: int) -> None:
        if offset == 0x000:
            self.dctlr = value & 1
        elif 0x100 <= offset < 0x300:
            setting = offset < 0x180 or 0x200 <= offset < 0x280
            i = (offset & 0x7F) >> 2
            words = self.enabled if offset < 0x200 else self.pend
            if i == 0:
                field = "enabled" if offset < 0x200 else "pend"
                mine = getattr(cpu, field)
                if field == "pend":
                    value &= ~0xFFFF  # SGIs are made pending through GICD_SGIR
                setattr(cpu, field, mine | value if setting else mine & ~value)
            elif i < len(words):
                words[i] = words[i] | value if setting else words[i] & ~value
        elif 0x380 <= offset < 0x400:  # ICACTIVER
            i = (offset & 0x7F) >> 2
            if i == 0:
                cpu.active &= ~value
            for b in range(32):
                if value >> b & 1:
                    self.active.pop(i * 32 + b, None)
        elif 0x400 <= offset < 0x400 + self.lines:
            n = offset - 0x400
            data = value.to_bytes(size, "little")
            for k, byte in enumerate(data):
                if n + k < 32:
                    cpu.prio[n + k] = byte
                elif n + k < self.lines:
                    self.prio[n + k] = byte
        elif 0x820 <= offset < 0x800 + self.lines:
            n = offset - 0x800
            self.targets[n : n + size] = value.to_bytes(size, "little")[: self.lines - n]
        elif 0xC00 <= offset < 0xC00 + 4 * len(self.cfg):
            self.cfg[(offset - 0xC00) >> 2] = value
        elif offset == 0xF00:
            self._sgi(cpu, value)

    def _sgi(self, sender: GicCpu, value: int) -> None:
        """GICD_SGIR: send SGI ``value[3:0]`` to the listed cores (filter 0), every other
        core (1), or the sender (2)."""
        intid, filter_ = value & 0xF, (value >> 24) & 3
        if filter_ == 0:
            targets = [c for c in self.cpus if (value >> 16) & (1 << c.index)]
        elif filter_ == 1:
            targets = [c for c in self.cpus if c is not sender]
        elif filter_ == 2:
            targets = [sender]
        else:
            return
        for cpu in targets:
            cpu.sgi_sources[intid] |= 1 << sender.index
            cpu.pend |= 1 << intid

    def read(self, offset: int, size: int) -> int:  # pragma: no cover - windows by name
        return self.read_from(None, "dist", offset, size)

    def write(self, offset: int, size: int, value: int) -> None:  # pragma: no cover
        self.write_from(None, "dist", offset, size, value)


def fdt_node(w: TreeWriter, obj: Object, depth: int) -> str:
    """``intc@DIST``: the distributor and the CPU interface, three interrupt cells."""
    name = f"intc@{obj.get('dist_base'):x}"
    w.emit(depth, f"{name} {{")
    w.emit(depth + 1, f"phandle = <0x{w.phandle(obj.path):x}>;")
    w.emit(depth + 1, f"reg = <{cells(obj.get('dist_base'))} {cells(0x10000)} "
                      f"{cells(obj.get('cpu_base'))} {cells(0x10000)}>;")  # fmt: skip
    w.emit(depth + 1, 'compatible = "arm,cortex-a15-gic";')
    w.emit(depth + 1, "interrupt-controller;")
    w.emit(depth + 1, "#interrupt-cells = <0x03>;")
    w.emit(depth, "};")
    return name
