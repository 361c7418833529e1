"""The device tree of a RISC-V machine: the layout of QEMU's ``virt`` board (memory and
harts at the root, devices under ``/soc``)."""

from __future__ import annotations

from qconf.dtb import TreeWriter, cells
from qconf.model.objects import Object

__all__ = ("device_tree", "interrupts_extended")

SINGLE = "imafdqcbkjtpvnhe"


def isa_string(cpu: Object) -> str:
    """The ``riscv,isa`` string of a hart (``rv64imafdc_zicsr_zifencei``)."""
    letters = [x for x in cpu.get("isa") if len(x) == 1]
    multi = [x for x in cpu.get("isa") if len(x) > 1]
    order = sorted(letters, key=lambda x: SINGLE.index(x) if x in SINGLE else 99)
    arch = cpu.info.arch_info
    base = f"rv{arch.bits if arch is not None else 64}"
    return base + "".join(order) + "".join(f"_{m}" for m in multi)


def interrupts_extended(w: TreeWriter, causes: tuple[int, ...]) -> str:
    """An ``interrupts-extended`` value: each hart's interrupt controller with ``causes``."""
    return " ".join(f"0x{w.phandle(cpu.path + '/intc'):x} 0x{cause:x}"
                    for cpu in w.cpus for cause in causes)  # fmt: skip


def device_tree(w: TreeWriter) -> None:
    machine, root = w.machine, w.machine.root
    w.devices(2)  # first, so that /chosen can name the console
    devices, w.lines = w.lines, []
    w.emit(0, "/dts-v1/;")
    w.emit(0, "")
    w.emit(0, "/ {")
    w.emit(1, "#address-cells = <0x02>;")
    w.emit(1, "#size-cells = <0x02>;")
    compatible = root.get("compatible") or ["qconf,machine"]
    w.emit(1, "compatible = " + ", ".join(f'"{c}"' for c in compatible) + ";")
    w.emit(1, f'model = "{root.get("model") or "qconf"}";')
    w.emit(1, "chosen {")
    if w.stdout is not None:
        w.emit(2, f'stdout-path = "/soc/{w.stdout}";')
    w.chosen_props(2)
    w.emit(1, "};")
    for ram in machine.rams():
        w.emit(1, f"memory@{ram.get('base'):x} {{")
        w.emit(2, 'device_type = "memory";')
        w.emit(2, f"reg = <{cells(ram.get('base'))} {cells(ram.get('size'))}>;")
        w.emit(1, "};")
    w.emit(1, "cpus {")
    w.emit(2, "#address-cells = <0x01>;")
    w.emit(2, "#size-cells = <0x00>;")
    timers = [o for o in machine.objects() if "timebase" in o.info.prop_names]
    if timers:
        w.emit(2, f"timebase-frequency = <0x{timers[0].get('timebase'):x}>;")
    for cpu in w.cpus:
        hart = cpu.get("hartid")
        w.emit(2, f"cpu@{hart:x} {{")
        w.emit(3, f"phandle = <0x{w.phandle(cpu.path):x}>;")
        w.emit(3, 'device_type = "cpu";')
        w.emit(3, f"reg = <0x{hart:x}>;")
        w.emit(3, 'status = "okay";')
        w.emit(3, 'compatible = "riscv";')
        w.emit(3, f'riscv,isa = "{isa_string(cpu)}";')
        if cpu.get("mmu") != "none":
            w.emit(3, f'mmu-type = "riscv,{cpu.get("mmu")}";')
        w.emit(3, "interrupt-controller {")
        w.emit(4, "#interrupt-cells = <0x01>;")
        w.emit(4, "interrupt-controller;")
        w.emit(4, 'compatible = "riscv,cpu-intc";')
        w.emit(4, f"phandle = <0x{w.phandle(cpu.path + '/intc'):x}>;")
        w.emit(3, "};")
        w.emit(2, "};")
    if w.cpus:  # one cluster, as QEMU writes it for one socket
        w.emit(2, "cpu-map {")
        w.emit(3, "cluster0 {")
        for i, cpu in enumerate(w.cpus):
            w.emit(4, f"core{i} {{")
            w.emit(5, f"cpu = <0x{w.phandle(cpu.path):x}>;")
            w.emit(4, "};")
        w.emit(3, "};")
        w.emit(2, "};")
    w.emit(1, "};")
    w.emit(1, "soc {")
    w.emit(2, "#address-cells = <0x02>;")
    w.emit(2, "#size-cells = <0x02>;")
    w.emit(2, 'compatible = "simple-bus";')
    w.emit(2, "ranges;")
    w.lines += devices
    w.emit(1, "};")
    w.root_nodes(1)
    w.emit(0, "};")
