"""The device tree of an AArch64 machine: the layout of QEMU's Arm ``virt`` board (every
node at the root, PSCI by ``hvc``, the architected timer)."""

from __future__ import annotations

from qconf.dtb import TreeWriter, cells

__all__ = ("device_tree",)


def device_tree(w: TreeWriter) -> None:
    machine, root = w.machine, w.machine.root
    w.devices(1)  # first, so that /chosen can name the console and the clocks are known
    devices, w.lines = w.lines, []
    controllers = [o for o in machine.objects() if o.info.irq_inputs is not None
                   and o.info.fdt is not None]  # fmt: skip
    w.emit(0, "/dts-v1/;")
    w.emit(0, "")
    w.emit(0, "/ {")
    if controllers:
        w.emit(1, f"interrupt-parent = <0x{w.phandle(controllers[0].path):x}>;")
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
    for ram in machine.rams():
        w.emit(1, f"memory@{ram.get('base'):x} {{")
        w.emit(2, f"reg = <{cells(ram.get('base'))} {cells(ram.get('size'))}>;")
        w.emit(2, 'device_type = "memory";')
        w.emit(1, "};")
    w.lines += devices
    w.emit(1, "cpus {")
    w.emit(2, "#size-cells = <0x00>;")
    w.emit(2, "#address-cells = <0x01>;")
    for i, cpu in enumerate(w.cpus):
        w.emit(2, f"cpu@{i:x} {{")
        w.emit(3, f"phandle = <0x{w.phandle(cpu.path):x}>;")
        w.emit(3, f"reg = <0x{cpu.get('mpidr'):x}>;")
        w.emit(3, f'compatible = "arm,{cpu.get("model")}";')
        w.emit(3, 'device_type = "cpu";')
        if len(w.cpus) > 1:
            w.emit(3, 'enable-method = "psci";')
        w.emit(2, "};")
    w.emit(1, "};")
    w.emit(1, "timer {")
    w.emit(2, "interrupts = <0x01 0x0d 0x104 0x01 0x0e 0x104 0x01 0x0b 0x104 0x01 0x0a 0x104>;")
    w.emit(2, "always-on;")
    w.emit(2, 'compatible = "arm,armv8-timer", "arm,armv7-timer";')
    w.emit(1, "};")
    for rate, handle in w.clocks.items():
        w.emit(1, "apb-pclk {")
        w.emit(2, f"phandle = <0x{handle:x}>;")
        w.emit(2, f'clock-output-names = "clk{rate // 1_000_000}mhz";')
        w.emit(2, f"clock-frequency = <0x{rate:x}>;")
        w.emit(2, "#clock-cells = <0x00>;")
        w.emit(2, 'compatible = "fixed-clock";')
        w.emit(1, "};")
    w.root_nodes(1)
    w.emit(1, "chosen {")
    if w.stdout is not None:
        w.emit(2, f'stdout-path = "/{w.stdout}";')
    w.chosen_props(2)
    w.emit(1, "};")
    w.emit(0, "};")
