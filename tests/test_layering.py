"""Layering: one precedence test per neighbouring pair of layers, and the merge markers
(same results in YAML and TOML)."""

from __future__ import annotations

import pytest

import qconf
from qconf.errors import LayerError
from tests.helpers import value, where, write

BASE = """\
type: machine
cpu0:
  type: riscv64
  freq: 1GHz
  isa: [i, m, a]
ram:
  type: ram
  base: 0x8000_0000
  size: 64MiB
soc:
  type: container
  uart0: {type: ns16550a, base: 0x1000_0000}
  test: {type: sifive-test, base: 0x10_0000}
"""


@pytest.fixture
def profile_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # paths in origins print relative to the working directory
    d = tmp_path / "profiles"
    d.mkdir()
    write(d, "base.yaml", BASE)
    write(d, "fast.yaml", "extends: base\ncpu0:\n  freq: 2GHz\n")
    return d


def resolve(tmp_path, profile_dir, files, sets=()):
    return qconf.resolve([tmp_path / f for f in files], sets, include_dirs=[profile_dir])


def test_precedence_profile_over_type_default(tmp_path, profile_dir):
    write(tmp_path, "b.yaml", "extends: base\n")
    doc = resolve(tmp_path, profile_dir, ["b.yaml"])
    assert value(doc, "cpu0.freq") == 1_000_000_000
    assert where(doc, "cpu0.freq") == "profiles/base.yaml:4:9"
    assert doc.lookup(("cpu0", "freq")).origin.source.layer == "profile base"
    # a property no layer sets comes from the type
    assert value(doc, "cpu0.hartid") == 0
    assert where(doc, "cpu0.hartid") == "default of riscv64"


def test_precedence_later_extends_over_earlier(tmp_path, profile_dir):
    write(profile_dir, "slow.yaml", "cpu0:\n  freq: 100MHz\n")
    write(tmp_path, "b.yaml", "extends: [fast, slow]\n")
    doc = resolve(tmp_path, profile_dir, ["b.yaml"])
    assert value(doc, "cpu0.freq") == 100_000_000
    assert doc.lookup(("cpu0", "freq")).origin.source.layer == "profile slow"


def test_precedence_user_file_over_profile(tmp_path, profile_dir):
    write(tmp_path, "b.yaml", "extends: base\ncpu0:\n  freq: 500MHz\n")
    doc = resolve(tmp_path, profile_dir, ["b.yaml"])
    assert value(doc, "cpu0.freq") == 500_000_000
    assert where(doc, "cpu0.freq") == "b.yaml:3:9"


def test_precedence_own_keys_over_include(tmp_path, profile_dir):
    write(tmp_path, "frag.yaml", "cpu0:\n  freq: 3GHz\n  hartid: 5\n")
    write(tmp_path, "b.yaml", "extends: base\ninclude: frag.yaml\ncpu0:\n  freq: 4GHz\n")
    doc = resolve(tmp_path, profile_dir, ["b.yaml"])
    assert value(doc, "cpu0.freq") == 4_000_000_000
    assert value(doc, "cpu0.hartid") == 5
    assert where(doc, "cpu0.hartid").endswith("frag.yaml:3:11")
    assert doc.lookup(("cpu0", "hartid")).origin.source.layer.endswith("b.yaml")


def test_include_mounted_at_a_key(tmp_path, profile_dir):
    write(tmp_path, "uarts.toml", '[uart1]\ntype = "ns16550a"\nbase = 0x1000_0100\n')
    write(tmp_path, "b.yaml", "extends: base\ninclude: [{path: uarts.toml, at: soc}]\n")
    doc = resolve(tmp_path, profile_dir, ["b.yaml"])
    assert value(doc, "soc.uart1.base") == 0x1000_0100
    assert where(doc, "soc.uart1.base").endswith("uarts.toml:3:1")


def test_precedence_later_user_file_over_earlier(tmp_path, profile_dir):
    write(tmp_path, "a.yaml", "extends: base\ncpu0:\n  freq: 500MHz\n")
    write(tmp_path, "b.toml", '[cpu0]\nfreq = "600MHz"\n')
    doc = resolve(tmp_path, profile_dir, ["a.yaml", "b.toml"])
    assert value(doc, "cpu0.freq") == 600_000_000
    assert where(doc, "cpu0.freq").endswith("b.toml:2:1")


def test_precedence_set_over_user_file(tmp_path, profile_dir):
    write(tmp_path, "b.yaml", "extends: base\ncpu0:\n  freq: 500MHz\n")
    doc = resolve(tmp_path, profile_dir, ["b.yaml"], ["cpu0.freq=700MHz"])
    assert value(doc, "cpu0.freq") == 700_000_000
    assert where(doc, "cpu0.freq") == "--set #1 'cpu0.freq=700MHz'"


def test_precedence_later_set_over_earlier_set(tmp_path, profile_dir):
    write(tmp_path, "b.yaml", "extends: base\n")
    doc = resolve(tmp_path, profile_dir, ["b.yaml"], ["cpu0.freq=1MHz", "cpu0.freq=2MHz"])
    assert value(doc, "cpu0.freq") == 2_000_000
    assert where(doc, "cpu0.freq") == "--set #2 'cpu0.freq=2MHz'"


def test_profile_applied_once(tmp_path, profile_dir):
    write(tmp_path, "a.yaml", "extends: base\ncpu0:\n  freq: 5MHz\n")
    write(tmp_path, "b.yaml", "extends: base\n")
    doc = resolve(tmp_path, profile_dir, ["a.yaml", "b.yaml"])
    # base is not re-applied above a.yaml by b.yaml's extends
    assert value(doc, "cpu0.freq") == 5_000_000
    assert [layer.name for layer in doc.layers] == ["profile base", "file a.yaml", "file b.yaml"]


MARKERS = [
    ("delete-object", "soc:\n  test: !delete\n", '[soc.test]\n"$delete" = true\n',
     lambda d: d.lookup(("soc", "test")) is None),
    ("delete-object-key", "soc:\n  test: {$delete: true}\n", 'soc.test = {"$delete" = true}\n',
     lambda d: d.lookup(("soc", "test")) is None),
    ("replace-map", "soc: !replace\n  type: container\n  x: {type: sifive-test, base: 0}\n",
     '[soc]\n"$replace" = true\ntype = "container"\nx = {type = "sifive-test", base = 0}\n',
     lambda d: sorted(d.lookup(("soc",)).value) == ["address_space", "description", "type", "x"]),
    ("append", "cpu0:\n  isa: !append [c]\n", 'cpu0.isa = {"$append" = ["c"]}\n',
     lambda d: value(d, "cpu0.isa") and [n.value for n in d.lookup(("cpu0", "isa")).value]
     == ["i", "m", "a", "c"]),
    ("prepend", "cpu0:\n  isa: {$prepend: [zicsr]}\n", 'cpu0.isa = {"$prepend" = ["zicsr"]}\n',
     lambda d: [n.value for n in d.lookup(("cpu0", "isa")).value] == ["zicsr", "i", "m", "a"]),
    ("delete-property-restores-default", "cpu0:\n  freq: !delete\n",
     '[cpu0]\nfreq = {"$delete" = true}\n',
     lambda d: value(d, "cpu0.freq") == 1_000_000_000 and where(d, "cpu0.freq")
     == "default of riscv64"),
]  # fmt: skip


@pytest.mark.parametrize("fmt", ["yaml", "toml"])
@pytest.mark.parametrize(("case", "yaml_text", "toml_text", "check"), MARKERS,
                         ids=[m[0] for m in MARKERS])  # fmt: skip
def test_markers_same_in_yaml_and_toml(tmp_path, profile_dir, fmt, case, yaml_text, toml_text,
                                       check):  # fmt: skip
    if fmt == "yaml":
        write(tmp_path, "b.yaml", "extends: base\n" + yaml_text)
    else:
        write(tmp_path, "b.toml", 'extends = "base"\n' + toml_text)
    doc = resolve(tmp_path, profile_dir, [f"b.{fmt}"])
    assert check(doc)


def test_delete_of_nothing_is_an_error(tmp_path, profile_dir):
    write(tmp_path, "b.yaml", "extends: base\nsoc:\n  nothing: !delete\n")
    with pytest.raises(LayerError) as info:
        resolve(tmp_path, profile_dir, ["b.yaml"])
    assert info.value.code == "E220"
    assert info.value.path == "soc.nothing"
    assert info.value.origin.where().endswith("b.yaml:3:3")


def test_append_onto_nothing_is_a_plain_list(tmp_path, profile_dir):
    write(tmp_path, "c.yaml", "cpu0:\n  type: riscv32\n  isa: !append [i, c]\n")
    doc = resolve(tmp_path, profile_dir, ["c.yaml"])
    assert [n.value for n in doc.lookup(("cpu0", "isa")).value] == ["i", "c"]


def test_include_cycle_shows_the_chain(tmp_path, profile_dir):
    write(tmp_path, "a.yaml", "include: b.yaml\n")
    write(tmp_path, "b.yaml", "include: [c.yaml]\n")
    write(tmp_path, "c.yaml", "include: a.yaml\n")
    with pytest.raises(LayerError) as info:
        resolve(tmp_path, profile_dir, ["a.yaml"])
    assert info.value.message == "include cycle: a.yaml -> b.yaml -> c.yaml -> a.yaml"
    assert info.value.origin.where() == "c.yaml:1:10"


def test_depth_limit(tmp_path, profile_dir):
    for i in range(20):
        write(tmp_path, f"f{i}.yaml", f"include: f{i + 1}.yaml\n")
    write(tmp_path, "f20.yaml", "type: machine\n")
    with pytest.raises(LayerError) as info:
        resolve(tmp_path, profile_dir, ["f0.yaml"])
    assert info.value.code == "E203"


def test_qconf_path_env(tmp_path, monkeypatch):
    d = tmp_path / "mine"
    d.mkdir()
    write(d, "tiny.yaml", "type: machine\nram: {type: ram, base: 0, size: 4KiB}\n")
    monkeypatch.setenv("QCONF_PATH", str(d))
    write(tmp_path, "b.yaml", "extends: tiny\n")
    doc = qconf.resolve([tmp_path / "b.yaml"])
    assert value(doc, "ram.size") == 4096
