"""Device trees generated from a built machine: RISC-V machines (the `virt` board's
layout) and AArch64 machines (the arm `virt` board's).

The tree is written as DTS text from the machine (CPUs with their ISA string, memory from
the RAM regions, the CLINT's timebase, each device's node from its type and its IRQ
wires) and compiled to a flattened tree with the ``fdt`` package. Device types without a
node here are left out, with a comment in the DTS.
"""

from __future__ import annotations

from collections.abc import Callable

import fdt

from qconf.assembly.machine import Machine
from qconf.model.objects import Object

__all__ = ("device_tree_blob", "device_tree_source")

SINGLE = "imafdqcbkjtpvnhe"


def _isa(cpu: Object) -> str:
    letters = [x for x in cpu.get("isa") if len(x) == 1]
    multi = [x for x in cpu.get("isa") if len(x) > 1]
    order = sorted(letters, key=lambda x: SINGLE.index(x) if x in SINGLE else 99)
    base = "rv64" if cpu.info.name == "riscv64" else "rv32"
    return base + "".join(order) + "".join(f"_{m}" for m in multi)


def _cells(value: int) -> str:
    return f"0x{value >> 32:x} 0x{value & 0xFFFFFFFF:x}"


class _Writer:
    def __init__(self, machine: Machine) -> None:
        self.m = machine
        self.lines: list[str] = []
        self.phandles: dict[str, int] = {}

    def phandle(self, key: str) -> int:
        return self.phandles.setdefault(key, len(self.phandles) + 1)

    def emit(self, depth: int, text: str) -> None:
        self.lines.append("\t" * depth + text)


def device_tree_source(machine: Machine) -> str:
    """The machine's device tree as DTS text."""
    if any(o.info.name == "aarch64" for o in machine.objects()):
        return _arm64_tree(machine)
    return _riscv_tree(machine)


def _riscv_tree(machine: Machine) -> str:
    w = _Writer(machine)
    root = machine.root
    cpus = [o for o in machine.objects() if o.info.name in ("riscv64", "riscv32")]
    clints = [o for o in machine.objects() if o.info.name == "clint"]
    rams = [o for o in machine.objects() if o.info.name == "ram"]
    uarts = [o for o in machine.objects() if o.info.name == "ns16550a"]
    w.emit(0, "/dts-v1/;")
    w.emit(0, "")
    w.emit(0, "/ {")
    w.emit(1, "#address-cells = <0x02>;")
    w.emit(1, "#size-cells = <0x02>;")
    compatible = root.get("compatible") or ["qconf,machine"]
    w.emit(1, "compatible = " + ", ".join(f'"{c}"' for c in compatible) + ";")
    w.emit(1, f'model = "{root.get("model") or "qconf"}";')
    w.emit(1, "chosen {")
    if uarts:
        w.emit(2, f'stdout-path = "/soc/serial@{uarts[0].get("base"):x}";')
    if root.get("bootargs"):
        w.emit(2, f'bootargs = "{root.get("bootargs")}";')
    w.emit(1, "};")
    for ram in rams:
        w.emit(1, f"memory@{ram.get('base'):x} {{")
        w.emit(2, 'device_type = "memory";')
        w.emit(2, f"reg = <{_cells(ram.get('base'))} {_cells(ram.get('size'))}>;")
        w.emit(1, "};")
    w.emit(1, "cpus {")
    w.emit(2, "#address-cells = <0x01>;")
    w.emit(2, "#size-cells = <0x00>;")
    if clints:
        w.emit(2, f"timebase-frequency = <0x{clints[0].get('timebase'):x}>;")
    for cpu in cpus:
        hart = cpu.get("hartid")
        w.emit(2, f"cpu@{hart:x} {{")
        w.emit(3, f"phandle = <0x{w.phandle(cpu.path):x}>;")
        w.emit(3, 'device_type = "cpu";')
        w.emit(3, f"reg = <0x{hart:x}>;")
        w.emit(3, 'status = "okay";')
        w.emit(3, 'compatible = "riscv";')
        w.emit(3, f'riscv,isa = "{_isa(cpu)}";')
        if cpu.get("mmu") != "none":
            w.emit(3, f'mmu-type = "riscv,{cpu.get("mmu")}";')
        w.emit(3, "interrupt-controller {")
        w.emit(4, "#interrupt-cells = <0x01>;")
        w.emit(4, "interrupt-controller;")
        w.emit(4, 'compatible = "riscv,cpu-intc";')
        w.emit(4, f"phandle = <0x{w.phandle(cpu.path + '/intc'):x}>;")
        w.emit(3, "};")
        w.emit(2, "};")
    w.emit(1, "};")
    w.emit(1, "soc {")
    w.emit(2, "#address-cells = <0x02>;")
    w.emit(2, "#size-cells = <0x02>;")
    w.emit(2, 'compatible = "simple-bus";')
    w.emit(2, "ranges;")
    tests = []
    for obj in machine.objects():
        node = NODES.get(obj.info.name)
        if node is not None:
            node(w, obj, cpus)
            if obj.info.name == "sifive-test":
                tests.append(obj)
    w.emit(1, "};")
    for test in tests[:1]:
        for name, value in (("poweroff", 0x5555), ("reboot", 0x7777)):
            w.emit(1, f"{name} {{")
            w.emit(2, f"value = <0x{value:x}>;")
            w.emit(2, "offset = <0x00>;")
            w.emit(2, f"regmap = <0x{w.phandle(test.path):x}>;")
            w.emit(2, f'compatible = "syscon-{name}";')
            w.emit(1, "};")
    w.emit(0, "};")
    return "\n".join(w.lines) + "\n"


def _arm64_tree(machine: Machine) -> str:
    w = _Writer(machine)
    root = machine.root
    cpus = [o for o in machine.objects() if o.info.name == "aarch64"]
    gics = [o for o in machine.objects() if o.info.name == "gic"]
    rams = [o for o in machine.objects() if o.info.name == "ram"]
    uarts = [o for o in machine.objects() if o.info.name == "pl011"]
    gic = gics[0] if gics else None
    w.emit(0, "/dts-v1/;")
    w.emit(0, "")
    w.emit(0, "/ {")
    if gic is not None:
        w.emit(1, f"interrupt-parent = <0x{w.phandle(gic.path):x}>;")
    w.emit(1, f'model = "{root.get("model") or "qconf"}";')
    w.emit(1, "#size-cells = <0x02>;")
    w.emit(1, "#address-cells = <0x02>;")
    compatible = root.get("compatible") or ["qconf,machine"]
    w.emit(1, "compatible = " + ", ".join(f'"{c}"' for c in compatible) + ";")
    w.emit(1, "psci {")
    w.emit(2, "migrate = <0xc4000005>;")
    w.emit(2, "cpu_on = <0xc4000003>;")
    w.emit(2, "cpu_off = <0x84000002>;")
    w.emit(2, "cpu_suspend = <0xc4000001>;")
    w.emit(2, 'method = "hvc";')
    w.emit(2, 'compatible = "arm,psci-1.0", "arm,psci-0.2", "arm,psci";')
    w.emit(1, "};")
    for ram in rams:
        w.emit(1, f"memory@{ram.get('base'):x} {{")
        w.emit(2, f"reg = <{_cells(ram.get('base'))} {_cells(ram.get('size'))}>;")
        w.emit(2, 'device_type = "memory";')
        w.emit(1, "};")
    clocks: dict[int, int] = {}
    for uart in uarts:
        rate = machine.clock_rate(uart, "clock")
        clocks.setdefault(rate, w.phandle(f"clock/{rate}"))
    for uart in uarts:
        rate = machine.clock_rate(uart, "clock")
        w.emit(1, f"pl011@{uart.get('base'):x} {{")
        w.emit(2, 'clock-names = "uartclk", "apb_pclk";')
        w.emit(2, f"clocks = <0x{clocks[rate]:x} 0x{clocks[rate]:x}>;")
        wires = [wire for wire in machine.wires if wire.source is uart and wire.index >= 32]
        if wires:
            w.emit(2, f"interrupts = <0x00 0x{wires[0].index - 32:x} 0x04>;")
        _reg(w, uart, 2)
        w.emit(2, 'compatible = "arm,pl011", "arm,primecell";')
        w.emit(1, "};")
    if gic is not None:
        w.emit(1, f"intc@{gic.get('dist_base'):x} {{")
        w.emit(2, f"phandle = <0x{w.phandle(gic.path):x}>;")
        w.emit(2, f"reg = <{_cells(gic.get('dist_base'))} {_cells(0x10000)} "
                  f"{_cells(gic.get('cpu_base'))} {_cells(0x10000)}>;")  # fmt: skip
        w.emit(2, 'compatible = "arm,cortex-a15-gic";')
        w.emit(2, "interrupt-controller;")
        w.emit(2, "#interrupt-cells = <0x03>;")
        w.emit(1, "};")
    w.emit(1, "cpus {")
    w.emit(2, "#size-cells = <0x00>;")
    w.emit(2, "#address-cells = <0x01>;")
    for i, cpu in enumerate(cpus):
        w.emit(2, f"cpu@{i:x} {{")
        w.emit(3, f"phandle = <0x{w.phandle(cpu.path):x}>;")
        w.emit(3, f"reg = <0x{cpu.get('mpidr'):x}>;")
        w.emit(3, f'compatible = "arm,{cpu.get("model")}";')
        w.emit(3, 'device_type = "cpu";')
        if len(cpus) > 1:
            w.emit(3, 'enable-method = "psci";')
        w.emit(2, "};")
    w.emit(1, "};")
    w.emit(1, "timer {")
    w.emit(2, "interrupts = <0x01 0x0d 0x104 0x01 0x0e 0x104 0x01 0x0b 0x104 0x01 0x0a 0x104>;")
    w.emit(2, "always-on;")
    w.emit(2, 'compatible = "arm,armv8-timer", "arm,armv7-timer";')
    w.emit(1, "};")
    for rate, handle in clocks.items():
        w.emit(1, "apb-pclk {")
        w.emit(2, f"phandle = <0x{handle:x}>;")
        w.emit(2, f'clock-output-names = "clk{rate // 1_000_000}mhz";')
        w.emit(2, f"clock-frequency = <0x{rate:x}>;")
        w.emit(2, "#clock-cells = <0x00>;")
        w.emit(2, 'compatible = "fixed-clock";')
        w.emit(1, "};")
    w.emit(1, "chosen {")
    if uarts:
        w.emit(2, f'stdout-path = "/pl011@{uarts[0].get("base"):x}";')
    if root.get("bootargs"):
        w.emit(2, f'bootargs = "{root.get("bootargs")}";')
    w.emit(1, "};")
    w.emit(0, "};")
    return "\n".join(w.lines) + "\n"


def _reg(w: _Writer, obj: Object, depth: int) -> None:
    w.emit(depth, f"reg = <{_cells(obj.get('base'))} {_cells(obj.get('size'))}>;")


def _intc_pairs(w: _Writer, cpus: list[Object], causes: tuple[int, ...]) -> str:
    cells = []
    for cpu in cpus:
        for cause in causes:
            cells.append(f"0x{w.phandle(cpu.path + '/intc'):x} 0x{cause:x}")
    return " ".join(cells)


def _clint(w: _Writer, obj: Object, cpus: list[Object]) -> None:
    w.emit(2, f"clint@{obj.get('base'):x} {{")
    w.emit(3, f"interrupts-extended = <{_intc_pairs(w, cpus, (3, 7))}>;")
    _reg(w, obj, 3)
    w.emit(3, 'compatible = "sifive,clint0", "riscv,clint0";')
    w.emit(2, "};")


def _plic(w: _Writer, obj: Object, cpus: list[Object]) -> None:
    w.emit(2, f"plic@{obj.get('base'):x} {{")
    w.emit(3, f"phandle = <0x{w.phandle(obj.path):x}>;")
    w.emit(3, f"riscv,ndev = <0x{obj.get('num_sources'):x}>;")
    _reg(w, obj, 3)
    w.emit(3, f"interrupts-extended = <{_intc_pairs(w, cpus, (11, 9))}>;")
    w.emit(3, "interrupt-controller;")
    w.emit(3, 'compatible = "sifive,plic-1.0.0", "riscv,plic0";')
    w.emit(3, "#address-cells = <0x00>;")
    w.emit(3, "#interrupt-cells = <0x01>;")
    w.emit(2, "};")


def _uart(w: _Writer, obj: Object, cpus: list[Object]) -> None:
    w.emit(2, f"serial@{obj.get('base'):x} {{")
    wires = [wire for wire in w.m.wires if wire.source is obj]
    if wires:
        w.emit(3, f"interrupts = <0x{wires[0].index:x}>;")
        w.emit(3, f"interrupt-parent = <0x{w.phandle(wires[0].sink.path):x}>;")
    w.emit(3, f"clock-frequency = <0x{w.m.clock_rate(obj, 'clock'):x}>;")
    _reg(w, obj, 3)
    w.emit(3, 'compatible = "ns16550a";')
    w.emit(2, "};")


def _test(w: _Writer, obj: Object, cpus: list[Object]) -> None:
    w.emit(2, f"test@{obj.get('base'):x} {{")
    w.emit(3, f"phandle = <0x{w.phandle(obj.path):x}>;")
    _reg(w, obj, 3)
    w.emit(3, 'compatible = "sifive,test1", "sifive,test0", "syscon";')
    w.emit(2, "};")


NODES: dict[str, Callable[[_Writer, Object, list[Object]], None]] = {
    "clint": _clint,
    "plic": _plic,
    "ns16550a": _uart,
    "sifive-test": _test,
}
"""How each device type appears in the tree."""


def device_tree_blob(machine: Machine) -> bytes:
    """The machine's flattened device tree (DTB, version 17)."""
    tree = fdt.parse_dts(device_tree_source(machine))
    blob: bytes = tree.to_dtb(version=17)
    return blob
