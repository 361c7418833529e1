"""Round trips: a resolved dump (YAML, TOML, JSON, with or without origins) resolves to
the same document; `qconf set` keeps everything it was not asked to change."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import qconf
from qconf.cli import main
from qconf.config.node import to_plain
from tests.helpers import MACHINES, PROFILES, write

SOURCES = [*sorted(PROFILES.glob("*.yaml")), *sorted(MACHINES.glob("*/board.*"))]


# --show-origin JSON wraps the document with an origins table: it is for tools
FORMATS = [("yaml", False), ("yaml", True), ("toml", False), ("toml", True), ("json", False)]


@pytest.mark.parametrize(("fmt", "origins"), FORMATS,
                         ids=[f + ("-origins" if o else "") for f, o in FORMATS])  # fmt: skip
@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.parent.name + "/" + p.name)
def test_resolve_round_trip(tmp_path, source, fmt, origins):
    args = ["resolve", "-c", str(source), "--format", fmt]
    if origins:
        args.append("--show-origin")
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.stderr
    dump = write(tmp_path, f"dump.{fmt}", r.stdout)
    first = qconf.resolve([source])
    again = qconf.resolve([dump])
    assert to_plain(again.tree) == to_plain(first.tree)
    # and dumping the dump gives the same text (a fixed point)
    r2 = CliRunner().invoke(main, ["resolve", "-c", str(dump), "--format", fmt])
    if not origins:
        assert r2.stdout == r.stdout


EDITABLE = """\
# My board: a comment at the top
extends: riscv-virt

cpu0:
  freq: 500MHz      # trailing comment kept
  # a comment line inside a map
  hartid: 0

soc:
  uart1: {type: ns16550a, base: 0x1000_0100}   # flow style kept
"""


def set_(path, *assignments):
    return CliRunner().invoke(main, ["set", str(path), *assignments])


def test_set_keeps_comments_and_order(tmp_path):
    f = write(tmp_path, "board.yaml", EDITABLE)
    r = set_(f, "cpu0.freq=800MHz")
    assert r.exit_code == 0, r.stderr
    assert f.read_text() == EDITABLE.replace("freq: 500MHz", "freq: 800MHz")
    assert qconf.resolve([f]).lookup(("cpu0", "freq")).value == 800_000_000


def test_set_adds_nested_and_appends(tmp_path):
    f = write(tmp_path, "board.yaml", EDITABLE)
    r = set_(f, "ram.size=256MiB", "cpu0.isa+=[zicbop]", "+soc.uart1.reg_shift=2")
    assert r.exit_code == 0, r.stderr
    doc = qconf.resolve([f])
    assert doc.lookup(("ram", "size")).value == 256 * 2**20
    assert doc.lookup(("cpu0", "isa")).value[-1].value == "zicbop"
    assert doc.lookup(("soc", "uart1", "reg_shift")).value == 2
    assert f.read_text().startswith(EDITABLE.rstrip("\n").rsplit("\n", 2)[0])


def test_set_delete_writes_marker_for_lower_layer_key(tmp_path):
    f = write(tmp_path, "board.yaml", EDITABLE)
    assert set_(f, "~soc.test").exit_code == 0
    assert "test: {$delete: true}" in f.read_text()
    assert qconf.resolve([f]).lookup(("soc", "test")) is None
    assert set_(f, "~soc.uart1").exit_code == 0  # only the file sets it: just removed
    assert "uart1" not in f.read_text()
    assert set_(f, "~cpu0.hartid").exit_code == 0  # the profile sets it too: a marker
    assert "  hartid: {$delete: true}" in f.read_text()


def test_set_refuses_invalid_result(tmp_path):
    f = write(tmp_path, "board.yaml", EDITABLE)
    r = set_(f, "cpu0.freq=8XHz")
    assert r.exit_code == 1
    assert "qconf: error: board.yaml:5:9: cpu0.freq: unknown frequency unit 'XHz'" in (
        r.stderr.replace(str(tmp_path) + "/", "")
    )
    assert f.read_text() == EDITABLE


def test_set_toml_and_dry_run(tmp_path):
    text = '# hetero\nextends = "hetero-soc"\n\n[mcu.cpu0]\nfreq = "168MHz"  # fast\n'
    f = write(tmp_path, "board.toml", text)
    r = set_(f, "mcu.cpu0.freq=200MHz", "~app.test", "--dry-run")
    assert r.exit_code == 0
    assert f.read_text() == text
    assert 'freq = "200MHz"  # fast' in r.stdout
    assert '[app]\ntest = {"$delete" = true}' in r.stdout
    assert set_(f, "mcu.cpu0.freq=200MHz").exit_code == 0
    assert f.read_text() == text.replace("168MHz", "200MHz")
