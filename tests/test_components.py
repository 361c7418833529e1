"""Composite components: parameters, templates, replication, overrides, nesting."""

from __future__ import annotations

import json

import jsonschema
import pytest
from click.testing import CliRunner

import qconf
from qconf.cli import main
from tests.helpers import value, where, write

CLUSTER = """\
components:
  hart-cluster:
    description: N riscv64 harts with consecutive hart ids
    params:
      harts: {type: integer, default: 2, min: 1, max: 8, description: Harts.}
      freq: {type: frequency, default: 1GHz, description: Core clock of every hart.}
      first_id: {type: integer, default: 0, description: Hart id of cpu0.}
    children:
      cpu[${harts}]:
        type: riscv64
        freq: ${freq}
        hartid: ${first_id + i}
        isa: [i, m, a, c]
  board-soc:
    description: a cluster, a RAM per hart, and a riscv-virt-soc
    params:
      harts: {type: integer, default: 2}
      ram_base: {type: address, default: 0x8000_0000}
    children:
      cluster:
        type: hart-cluster
        harts: ${harts}
        freq: ${harts * 500MHz}
      ram[0..${harts - 1}]:
        type: ram
        base: ${ram_base + i * 16MiB}
        size: 16MiB
      devs:
        type: riscv-virt-soc
        harts: ${harts}
        uart_irq: ${harts + 8}
type: machine
top:
  type: board-soc
  harts: 3
"""


def resolve(tmp_path, text=CLUSTER, *sets):
    write(tmp_path, "board.yaml", text)
    return qconf.resolve([tmp_path / "board.yaml"], list(sets))


def test_replicated_children_get_stable_names_and_values(tmp_path):
    doc = resolve(tmp_path)
    assert [k for k in doc.lookup(("top", "cluster")).value if k.startswith("cpu")] == [
        "cpu0",
        "cpu1",
        "cpu2",
    ]
    assert [value(doc, f"top.cluster.cpu{i}.hartid") for i in range(3)] == [0, 1, 2]
    assert value(doc, "top.cluster.cpu2.freq") == 1_500_000_000  # 3 * 500MHz
    assert [value(doc, f"top.ram{i}.base") for i in range(3)] == [
        0x8000_0000,
        0x8100_0000,
        0x8200_0000,
    ]
    assert value(doc, "top.devs.clint.num_harts") == 3
    assert value(doc, "top.devs.uart0.irq") == "plic.in[11]"
    # each value remembers the template text that made it
    assert where(doc, "top.ram2.base").endswith("board.yaml:26:15")
    assert where(doc, "top.devs.uart0.base").endswith("components/riscv-virt-soc.yaml:51:11")


def test_expanded_machine_builds_and_wires(tmp_path):
    m = qconf.build(resolve(tmp_path))
    plic = m.object("top.devs.plic")
    assert [w.source.key for w in m.sources(plic, "in", 11)] == ["top.devs.uart0"]
    assert [c.key for c in m.space_of(m.root).cpus] == [
        "top.cluster.cpu0",
        "top.cluster.cpu1",
        "top.cluster.cpu2",
    ]


def test_parameters_set_from_later_layers_reexpand(tmp_path):
    doc = resolve(tmp_path, CLUSTER, "top.harts=5")
    assert [value(doc, f"top.cluster.cpu{i}.hartid") for i in range(5)] == [0, 1, 2, 3, 4]
    assert doc.lookup(("top", "ram4")) is not None
    assert doc.lookup(("top", "ram5")) is None


@pytest.mark.parametrize(
    ("sets", "path", "expected"),
    [
        (["top.cluster.cpu1.freq=2GHz"], "top.cluster.cpu1.freq", 2_000_000_000),
        (["top.devs.uart0.reg_shift=2"], "top.devs.uart0.reg_shift", 2),
        (["top.cluster.cpu0.isa+=[f, d]"], "top.cluster.cpu0.isa", ["i", "m", "a", "c", "f", "d"]),
        (["+top.extra={type: ram, base: 0x9000_0000, size: 4KiB}"], "top.extra.size", 4096),
        (["top.devs.plic=!replace {type: plic, base: 0xc00_0000}"], "top.devs.plic.num_harts", 1),
    ],
    ids=["override", "default-only-prop", "append", "add", "replace"],
)
def test_set_reaches_inside_instances(tmp_path, sets, path, expected):
    doc = resolve(tmp_path, CLUSTER, *sets)
    got = value(doc, path)
    if isinstance(got, list):
        got = [n.value for n in got]
    assert got == expected
    assert where(doc, path).startswith("--set #1") or path.endswith("num_harts")


def test_delete_inside_instances(tmp_path):
    doc = resolve(tmp_path, CLUSTER, "~top.devs.test", "~top.ram1")
    assert doc.lookup(("top", "devs", "test")) is None
    assert doc.lookup(("top", "ram1")) is None
    assert doc.lookup(("top", "ram2")) is not None


def test_delete_of_an_added_child_inside_an_instance(tmp_path):
    doc = resolve(tmp_path, CLUSTER, "+top.extra={type: ram, base: 0x9000_0000, size: 4KiB}",
                  "~top.extra")  # fmt: skip
    assert doc.lookup(("top", "extra")) is None


def test_typo_inside_an_instance_is_located_at_the_set(tmp_path):
    with pytest.raises(qconf.QconfError) as err:
        resolve(tmp_path, CLUSTER, "top.cluster.cpu1.frq=2GHz")
    assert err.value.lines()[:3] == [
        "--set #1 'top.cluster.cpu1.frq=2GHz': top.cluster.cpu1.frq: unknown property 'frq' "
        "of riscv64 [E402]",
        "  layer: --set #1",
        "  hint: did you mean 'freq'?",
    ]


def test_resolved_output_resolves_to_the_same_document(tmp_path):
    runner = CliRunner()
    write(tmp_path, "board.yaml", CLUSTER)
    first = runner.invoke(main, ["resolve", "-c", str(tmp_path / "board.yaml")])
    assert first.exit_code == 0, first.output
    # the resolved document keeps the components' instances; their types must be known to
    # read it back, so it is read together with the file that declares them
    write(tmp_path, "resolved.yaml", first.stdout)
    again = runner.invoke(
        main, ["resolve", "-c", str(tmp_path / "board.yaml"), "-c", str(tmp_path / "resolved.yaml")]
    )
    assert again.exit_code == 0, again.output
    assert again.stdout == first.stdout


def test_components_from_an_include_dir(tmp_path, monkeypatch):
    (tmp_path / "lib" / "components").mkdir(parents=True)
    write(tmp_path / "lib" / "components", "twin-ram.toml", """\
description = "two RAMs side by side"
[params.base]
type = "address"
default = 0x9000_0000
[params.size]
type = "size"
default = "1MiB"
[children."r[0..1]"]
type = "ram"
base = "${base + i * size}"
size = "${size}"
""")  # fmt: skip
    write(tmp_path, "board.yaml", "extends: riscv-virt\nmem:\n  type: twin-ram\n  size: 2MiB\n")
    monkeypatch.chdir(tmp_path)
    doc = qconf.resolve(["board.yaml"], include_dirs=["lib"])
    assert value(doc, "mem.r1.base") == 0x9020_0000
    r = CliRunner().invoke(main, ["types", "-I", "lib", "twin-ram"])
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[0] == "twin-ram: two RAMs side by side"
    assert "    r[0..1] (ram)" in r.stdout


def test_components_appear_in_the_schema(tmp_path):
    r = CliRunner().invoke(main, ["schema"])
    schema = json.loads(r.stdout)
    assert set(schema["$defs"]["riscv-virt-soc"]["properties"]) >= {"harts", "timebase"}
    jsonschema.validate({"extends": "riscv-virt", "soc": {"harts": 2}}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"soc": {"type": "riscv-virt-soc", "harts": "many"}}, schema)
    # a document that declares components validates too
    jsonschema.validate(
        {"components": {"x": {"params": {"n": {"type": "integer", "default": 1}},
                              "children": {}}}},
        schema,
    )  # fmt: skip


def test_profiles_are_compositions():
    doc = qconf.resolve(["mps2-an385"])
    assert value(doc, "apb.type") == "cmsdk-apb-subsystem"
    assert [value(doc, f"apb.uart{i}.base") for i in range(3)] == [
        0x4000_4000,
        0x4000_5000,
        0x4000_6000,
    ]
    m = qconf.build(doc)
    assert m.clock_rate(m.object("apb.uart2"), "clock") == 25_000_000
    doc = qconf.resolve(["mps2-an385"], ["apb.uarts=5", "apb.clock=50MHz"])
    m = qconf.build(doc)
    assert m.clock_rate(m.object("apb.uart4"), "clock") == 50_000_000
    assert sorted(w.input_name for w in m.wires if w.source.key == "apb.uart4") == [
        "nvic.in[8]",
        "nvic.in[9]",
    ]
