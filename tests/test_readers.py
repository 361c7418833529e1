"""The YAML and TOML readers: positions, text kept as written, merge keys, markers."""

from __future__ import annotations

from pathlib import Path

from qconf.config.node import Op, to_plain
from qconf.config.origin import Source
from qconf.config.toml_source import load_toml
from qconf.config.yaml_source import load_yaml

SRC = Source("f")


def test_yaml_positions_of_values_and_collections():
    root = load_yaml("a:\n  b: 1GHz\n  c: [x, y]\n", SRC)
    b = root.lookup(("a", "b"))
    assert (b.origin.line, b.origin.col) == (2, 6)
    c = root.lookup(("a", "c"))
    assert (c.origin.line, c.origin.col) == (3, 3)  # collections point at their key
    assert (root.lookup(("a", "c", 1)).origin.line, root.lookup(("a", "c", 1)).origin.col) == (
        3, 10)  # fmt: skip


def test_yaml_scalars_stay_text_and_null():
    root = load_yaml("v: 1.10\nn: no\ne:\nq: 'null'\nz: ~\nh: 0x10\n", SRC)
    assert to_plain(root) == {"v": "1.10", "n": "no", "e": None, "q": "null", "z": None,
                              "h": "0x10"}  # fmt: skip


def test_yaml_merge_key():
    root = load_yaml("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n", SRC)
    assert to_plain(root)["d"] == {"x": "1", "y": "3"}


def test_yaml_marker_tags():
    root = load_yaml("a: !delete\nb: !append [x]\nc: !replace {k: v}\nd: {$prepend: [y]}\n",
                     SRC)  # fmt: skip
    ops = {k: n.op for k, n in root.value.items()}
    assert ops == {"a": Op.DELETE, "b": Op.APPEND, "c": Op.REPLACE, "d": Op.PREPEND}


def test_toml_positions():
    text = (
        'extends = "x"\n\n[soc.uart0]\nbase = 0x1000  # c\nirq.line = 3\n\n[cpu0]\nfreq = "1GHz"\n'
    )
    root = load_toml(text, SRC)
    assert root.lookup(("soc", "uart0")).origin.line == 3
    assert root.lookup(("soc", "uart0", "base")).origin.where() == "f:4:1"
    assert root.lookup(("soc", "uart0", "irq", "line")).origin.line == 5
    assert root.lookup(("cpu0", "freq")).origin.where() == "f:8:1"
    assert root.lookup(("soc", "uart0", "base")).value == 0x1000


def test_toml_quoted_keys_and_markers():
    root = load_toml('[soc."my.dev"]\n"$delete" = true\n', SRC)
    node = root.lookup(("soc", "my.dev"))
    assert node.op is Op.DELETE and node.origin.line == 1


def test_example_files_parse(tmp_path: Path):
    for f in Path(__file__).resolve().parent.parent.glob("machines/*/board.*"):
        text = f.read_text()
        root = load_toml(text, SRC) if f.suffix == ".toml" else load_yaml(text, SRC)
        assert "extends" in root.value
