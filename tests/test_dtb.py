"""Device trees generated from machines."""

from __future__ import annotations

import subprocess

import fdt
from click.testing import CliRunner

from qconf.cli import main
from tests.external import require_program


def dts(*args: str) -> str:
    r = CliRunner().invoke(main, ["dtb", "-c", "riscv-virt", *args])
    assert r.exit_code == 0, r.output
    return r.stdout


def _nodes(tree: fdt.FDT) -> dict[str, dict[str, object]]:
    out = {}
    for path, _subnodes, _props in tree.walk():
        node = tree.get_node(path)
        # properties as comparable values: word lists, string lists (QEMU's dump writes
        # "a\\0b" for two strings), or True for flags
        out[path] = {p.name: _values(p) for p in node.props}
    return out


def _values(prop: object) -> object:
    data = getattr(prop, "data", None)
    if data is None:
        return True
    items: list[object] = []
    for item in data:
        items.extend(item.split("\\0") if isinstance(item, str) else [item])
    return items


QEMU_HART = "rv64,h=off,zba=off,zbb=off,zbc=off,zbs=off,sstc=off"
"""QEMU 7.2's riscv64 hart without what Unicorn 2.1.4 does not execute."""


def test_riscv_virt_tree_matches_qemu_for_what_is_modelled(tmp_path):
    # QEMU's own tree for the same board, dumped by QEMU and decompiled by dtc; its hart
    # without the extensions Unicorn does not execute (docs/profiles.md)
    qemu_bin = require_program("qemu-system-riscv64", "qemu-system-misc")
    dtc = require_program("dtc", "device-tree-compiler")
    blob = tmp_path / "qemu.dtb"
    subprocess.run([qemu_bin, "-M", f"virt,dumpdtb={blob}", "-cpu", QEMU_HART,
                    "-display", "none"], check=True, capture_output=True)  # fmt: skip
    text = subprocess.run([dtc, "-I", "dtb", "-O", "dts", str(blob)], check=True,
                          capture_output=True, text=True).stdout  # fmt: skip
    ours = _nodes(fdt.parse_dts(dts()))
    qemu = _nodes(fdt.parse_dts(text))
    compared = 0
    for path, props in ours.items():
        if path in ("/chosen",):
            continue
        assert path in qemu, f"{path} is not in QEMU's tree"
        for name in ("compatible", "reg", "interrupts", "riscv,isa", "timebase-frequency",
                     "riscv,ndev", "interrupts-extended", "device_type"):  # fmt: skip
            if name in props or name in qemu[path]:
                assert props.get(name) == qemu[path].get(name), (path, name)
                compared += 1
    assert compared >= 20
    assert ours["/chosen"]["stdout-path"] == qemu["/chosen"]["stdout-path"]


def test_set_reaches_the_tree():
    text = dts("--set", "ram.size=256MiB", "--set", "soc.uart0.base=0x1000_1000")
    assert "reg = <0x0 0x80000000 0x0 0x10000000>;" in text
    assert "serial@10001000 {" in text
    assert 'stdout-path = "/soc/serial@10001000";' in text


def test_dtc_reads_the_blob(tmp_path):
    dtc = require_program("dtc", "device-tree-compiler")
    out = tmp_path / "board.dtb"
    r = CliRunner().invoke(main, ["dtb", "-c", "riscv-virt", "-o", str(out)])
    assert r.exit_code == 0, r.output
    done = subprocess.run([dtc, "-I", "dtb", "-O", "dts", str(out)], capture_output=True,
                          text=True, check=True)  # fmt: skip
    assert 'compatible = "sifive,plic-1.0.0\\0riscv,plic0";' in done.stdout
    # the only warning is the one QEMU's own tree gets too
    warnings = [w for w in done.stderr.splitlines() if "Warning" in w]
    assert all("interrupt_provider" in w for w in warnings), warnings
