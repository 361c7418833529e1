"""The SiFive test finisher model and its device-tree nodes."""

from __future__ import annotations

from qconf.devices.base import Device
from qconf.dtb import TreeWriter
from qconf.model.objects import Object


class SifiveTest(Device):
    """The test finisher: 0x5555 pass (status 0), 0x3333 | code << 16 fail, 0x7777 reset."""

    STATE = ()

    def read(self, offset: int, size: int) -> int:
        return 0

    def write(self, offset: int, size: int, value: int) -> None:
        kind, code = value & 0xFFFF, (value >> 16) & 0xFFFF
        if kind == 0x5555:
            self.ctx.run.request_stop(0, f"{self.obj.key}: guest powered off (pass)")
        elif kind == 0x3333:
            self.ctx.run.request_stop(code or 1, f"{self.obj.key}: guest reported failure {code}")
        elif kind == 0x7777:
            self.ctx.run.request_stop(0, f"{self.obj.key}: guest asked for a reset")


def fdt_node(w: TreeWriter, obj: Object, depth: int) -> str:
    """``test@BASE``, and for the first one the ``syscon-poweroff`` and ``syscon-reboot``
    nodes at the root that name it (how Linux and U-Boot power off)."""
    name = f"test@{obj.get('base'):x}"
    w.emit(depth, f"{name} {{")
    w.emit(depth + 1, f"phandle = <0x{w.phandle(obj.path):x}>;")
    w.reg(obj, depth + 1)
    w.emit(depth + 1, 'compatible = "sifive,test1", "sifive,test0", "syscon";')
    w.emit(depth, "};")
    if "syscon" not in w.once:
        w.once.add("syscon")

        def syscon(w: TreeWriter, depth: int) -> None:
            for node, value in (("poweroff", 0x5555), ("reboot", 0x7777)):
                w.emit(depth, f"{node} {{")
                w.emit(depth + 1, f"value = <0x{value:x}>;")
                w.emit(depth + 1, "offset = <0x00>;")
                w.emit(depth + 1, f"regmap = <0x{w.phandle(obj.path):x}>;")
                w.emit(depth + 1, f'compatible = "syscon-{node}";')
                w.emit(depth, "};")

        w.at_root.append(syscon)
    return name
