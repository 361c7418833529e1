"""The views of a built machine: tree, mtree, irqs, clocks, resets, graph."""

from __future__ import annotations

from click.testing import CliRunner

from qconf.cli import main
from tests.external import require_program
from tests.helpers import write

BOARD = """\
extends: riscv-virt
clocks:
  type: container
  ref: {type: clock, freq: 48MHz}
  apb: {type: clock, source: ref, div: 4}
soc:
  uart0:
    clock: /clocks/apb
  uart1:
    type: ns16550a
    base: 0x1000_0100
    irq: plic.in[10]
boot:
  type: alias
  target: ram
  base: 0x2000_0000
  size: 1MiB
patch:
  type: ram
  base: 0x8000_0000
  size: 4KiB
  priority: 1
rst:
  type: reset-domain
  members: [soc.uart1]
"""


def run(tmp_path, monkeypatch, *args: str):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "board.yaml", BOARD)
    r = CliRunner().invoke(main, [*args, "-c", "board.yaml"])
    assert r.exit_code == 0, r.output
    return r.stdout.splitlines()


def test_tree(tmp_path, monkeypatch):
    lines = run(tmp_path, monkeypatch, "tree")
    assert lines[0] == "/machine (machine)  model=riscv-virtio,qemu"
    assert "  soc (riscv-virt-soc)" in lines
    assert (
        "    uart1 (ns16550a)  base=0x10000100 size=256B irq=plic.in[10] clock=3686400Hz" in lines
    )
    assert "    apb (clock)  source=ref mul=1 div=4" in lines
    assert "      soc-uart0 (chardev)  backend=stdio" in lines


def test_mtree(tmp_path, monkeypatch):
    lines = run(tmp_path, monkeypatch, "mtree")
    assert lines[0] == "address-space: system  cpus: cpu0"
    assert (
        "  0000000020000000-00000000200fffff (prio 0, alias): boot [alias, 1MiB] -> ram @0x0"
        in lines
    )
    assert (
        "  0000000080000000-0000000087ffffff (prio 0, ram): ram [ram, 128MiB]"
        "  (hidden where patch overlaps)" in lines
    )
    assert "  0000000080000000-0000000080000fff (prio 1, ram): patch [ram, 4KiB]" in lines


def test_irqs_show_or(tmp_path, monkeypatch):
    assert run(tmp_path, monkeypatch, "irqs") == [
        "soc.plic (plic, inputs in[0..96])",
        "  in[10] <- soc.uart0.irq | soc.uart1.irq  (ORed)",
    ]


def test_clocks(tmp_path, monkeypatch):
    assert run(tmp_path, monkeypatch, "clocks") == [
        "clocks.ref 48MHz",
        "  clocks.apb 12MHz (= clocks.ref * 1 / 4)",
        "    soc.uart0.clock 12MHz",
        "fixed-frequency clock inputs:",
        "  soc.uart1.clock 3686400Hz",
    ]


def test_resets(tmp_path, monkeypatch):
    lines = run(tmp_path, monkeypatch, "resets")
    assert lines[:2] == ["/machine", "  cpu0"]
    assert "  rst (reset domain)" in lines
    assert lines[lines.index("  rst (reset domain)") + 1] == "    soc.uart1"
    assert "    soc.uart1" not in lines[: lines.index("  rst (reset domain)")]


def test_graph_dot_source(tmp_path, monkeypatch):
    run(tmp_path, monkeypatch, "graph", "-o", "m.dot")
    dot = (tmp_path / "m.dot").read_text()
    assert dot.startswith("digraph machine {")
    assert "subgraph cluster_n_machine_soc {" in dot
    assert 'n_machine_soc_uart1 -> n_machine_soc_plic [label="irq → in[10]"' in dot
    assert "n_machine_clocks_apb -> n_machine_soc_uart0 [label=clock" in dot
    assert "memory map: system" in dot


def test_graph_svg(tmp_path, monkeypatch):
    require_program("dot", "graphviz")
    run(tmp_path, monkeypatch, "graph", "-o", "m.svg")
    svg = (tmp_path / "m.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert ">uart1<" in svg and "memory map: system" in svg


def test_graph_without_dot_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "board.yaml", BOARD)
    r = CliRunner().invoke(main, ["graph", "-c", "board.yaml", "-o", "m.svg"])
    assert r.exit_code == 1
    assert r.stderr.splitlines() == [
        "qconf: error: Graphviz's `dot` program is not installed, so the picture cannot be "
        "drawn [E802]",
        "  hint: install it (Debian/Ubuntu: apt-get install graphviz), or write .dot and "
        "render it elsewhere",
    ]


def test_graph_unknown_format(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "board.yaml", BOARD)
    r = CliRunner().invoke(main, ["graph", "-c", "board.yaml", "-o", "m.bmp"])
    assert r.exit_code == 1
    assert r.stderr.startswith("qconf: error: cannot draw m.bmp: unknown picture format 'bmp'")


def as_json(tmp_path, monkeypatch, *args: str):
    import json

    return json.loads("\n".join(run(tmp_path, monkeypatch, *args, "--format", "json")))


def test_views_as_json_say_what_the_text_says(tmp_path, monkeypatch):
    tree = {o["path"]: o for o in as_json(tmp_path, monkeypatch, "tree")}
    assert tree["/machine/soc/uart1"] == {
        "path": "/machine/soc/uart1", "type": "ns16550a",
        "properties": {"base": 0x1000_0100, "size": 256, "irq": "plic.in[10]",
                       "clock": 3686400}}  # fmt: skip
    every = {o["path"]: o for o in as_json(tmp_path, monkeypatch, "tree", "--all")}
    assert every["/machine/soc/uart1"]["properties"]["reg_shift"] == 0
    [system] = as_json(tmp_path, monkeypatch, "mtree")
    assert system["name"] == "system" and system["cpus"] == ["cpu0"]
    ram = next(r for r in system["regions"] if r["owner"] == "ram")
    assert ram == {"base": 0x8000_0000, "end": 0x87FF_FFFF, "size": 128 << 20, "priority": 0,
                   "kind": "ram", "owner": "ram", "region": "ram", "type": "ram",
                   "target": None, "offset": None, "hidden_where": ["patch"]}  # fmt: skip
    boot = next(r for r in system["regions"] if r["owner"] == "boot")
    assert (boot["target"], boot["offset"]) == ("ram", 0)
    assert as_json(tmp_path, monkeypatch, "irqs") == {"wires": [
        {"source": s, "output": "irq", "sink": "soc.plic", "line": "in", "index": 10}
        for s in ("soc.uart0", "soc.uart1")], "unwired": []}  # fmt: skip
    assert as_json(tmp_path, monkeypatch, "clocks") == {
        "clocks": [{"clock": "clocks.ref", "freq": 48_000_000, "source": None, "mul": 1, "div": 1},
                   {"clock": "clocks.apb", "freq": 12_000_000, "source": "clocks.ref", "mul": 1,
                    "div": 4}],
        "inputs": [{"input": "soc.uart0.clock", "clock": "clocks.apb", "freq": 12_000_000},
                   {"input": "soc.uart1.clock", "clock": None, "freq": 3686400}]}  # fmt: skip
    resets = as_json(tmp_path, monkeypatch, "resets")
    rst = next(r for r in resets["resets"] if r["object"] == "rst")
    assert rst == {"object": "rst", "domain": True,
                   "resets": [{"object": "soc.uart1", "domain": False, "resets": []}]}  # fmt: skip


def test_graph_without_output_writes_dot_to_stdout(tmp_path, monkeypatch):
    dot = "\n".join(run(tmp_path, monkeypatch, "graph"))
    assert dot.startswith("digraph machine {") and "memory map: system" in dot
    assert not list(tmp_path.glob("*.dot"))
    # the harts a CLINT and a PLIC serve are edges; backends can be left out
    assert "n_machine_soc_clint -> n_machine_cpu0 [label=interrupts" in dot
    assert "n_machine_soc_plic -> n_machine_cpu0 [label=interrupts" in dot
    assert "n_machine_backends_chardev_soc_uart0" in dot
    bare = "\n".join(run(tmp_path, monkeypatch, "graph", "--no-backends"))
    assert "backends" not in bare and "n_machine_soc_uart1" in bare
