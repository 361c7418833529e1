"""The --set grammar (table tests) and how overrides apply to the document."""

from __future__ import annotations

import pytest

import qconf
from qconf.config.node import to_plain
from qconf.config.overrides import Action, parse_override
from qconf.errors import OverrideError, Problems
from tests.helpers import PROFILES, value, where

GOOD = [
    ("cpu0.freq=1GHz", Action.ASSIGN, ("cpu0", "freq"), "1GHz"),
    ("cpu0.isa=[i,m,a]", Action.ASSIGN, ("cpu0", "isa"), ["i", "m", "a"]),
    ("cpu0.isa=[i, m, a]", Action.ASSIGN, ("cpu0", "isa"), ["i", "m", "a"]),
    ('soc."uart.0".baud=1', Action.ASSIGN, ("soc", "uart.0", "baud"), "1"),
    ("soc.'uart.0'.baud=1", Action.ASSIGN, ("soc", "uart.0", "baud"), "1"),
    (r"a\.b=1", Action.ASSIGN, ("a.b",), "1"),
    ("+x.y=1", Action.ADD, ("x", "y"), "1"),
    ("++x=1", Action.UPSERT, ("x",), "1"),
    ("~soc.test", Action.DELETE, ("soc", "test"), None),
    ("cpu0.isa+=[f]", Action.APPEND, ("cpu0", "isa"), ["f"]),
    ("cpu0.isa+=v", Action.APPEND, ("cpu0", "isa"), "v"),
    ("cpu0.isa[1]=m", Action.ASSIGN, ("cpu0", "isa", 1), "m"),
    ("bootargs=console=ttyS0 root=/dev/vda", Action.ASSIGN, ("bootargs",),
     "console=ttyS0 root=/dev/vda"),
    ("description=Board: rev #2", Action.ASSIGN, ("description",), "Board: rev #2"),
    ("version=1.10", Action.ASSIGN, ("version",), "1.10"),
    ("x='quoted text'", Action.ASSIGN, ("x",), "quoted text"),
    ('x="null"', Action.ASSIGN, ("x",), "null"),
    ("x=null", Action.ASSIGN, ("x",), None),
    ("x=", Action.ASSIGN, ("x",), ""),
    ("soc.uart1={type: ns16550a, base: 0x1000}", Action.ASSIGN, ("soc", "uart1"),
     {"type": "ns16550a", "base": "0x1000"}),
]  # fmt: skip


@pytest.mark.parametrize(("text", "action", "path", "expected"), GOOD, ids=[g[0] for g in GOOD])
def test_grammar(text, action, path, expected):
    ov = parse_override(text, 1)
    assert ov.action is action
    assert ov.path == path
    assert (to_plain(ov.value) if ov.value is not None else None) == expected


BAD = [
    ("cpu0..freq=1", "bad path: empty name in path (at column 6)"),
    ("cpu0.freq", "missing '=value'"),
    ("=1", "bad path: empty path"),
    ("cpu0.freq.=1", "bad path: path ends with '.'"),
    ("cpu0[x]=1", "list index must be an integer"),
    ("cpu0[1=1", "unclosed '['"),
    ('"cpu0=1', 'unclosed " in path'),
    ("~cpu0.freq=1", "~path deletes and takes no value"),
    ("+cpu0.isa+=[v]", "+= cannot be combined"),
    ("cpu0.isa=[i, m", "bad value: YAML syntax error"),
    ("cpu0 freq=1", "unexpected ' ' in name"),
]


@pytest.mark.parametrize(("text", "fragment"), BAD, ids=[b[0] for b in BAD])
def test_grammar_errors(text, fragment):
    with pytest.raises(OverrideError) as info:
        parse_override(text, 3)
    err = info.value
    assert err.code == "E301"
    assert fragment in err.message
    assert err.origin.where() == f"--set #3 '{text}'"
    assert "path=value (override)" in (err.hint or "") or err.hint


def resolve(*sets):
    return qconf.resolve([PROFILES / "riscv-virt.yaml"], list(sets))


def test_typo_names_argument_and_suggests():
    with pytest.raises(OverrideError) as info:
        resolve("cpu0.frq=1GHz")
    err = info.value
    assert err.code == "E302"
    assert err.origin.where() == "--set #1 'cpu0.frq=1GHz'"
    assert err.path == "cpu0.frq"
    assert "did you mean 'freq'?" in err.hint
    assert "+cpu0.frq=..." in err.hint


def test_declared_but_unset_property_can_be_overridden():
    doc = resolve("soc.uart0.reg_shift=2")
    assert value(doc, "soc.uart0.reg_shift") == 2


def test_add_existing_is_an_error():
    with pytest.raises(OverrideError) as info:
        resolve("+cpu0.freq=2GHz")
    assert info.value.code == "E304"
    assert "riscv-virt.yaml:13:9" in info.value.message
    assert "++cpu0.freq=..." in info.value.hint


def test_add_and_upsert():
    doc = resolve("+soc.uart1={type: ns16550a, base: 0x1000_0100}", "++soc.uart1.reg_shift=1")
    assert value(doc, "soc.uart1.base") == 0x1000_0100
    assert value(doc, "soc.uart1.reg_shift") == 1
    assert (
        where(doc, "soc.uart1.base") == "--set #1 '+soc.uart1={type: ns16550a, base: 0x1000_0100}'"
    )


def test_delete_then_default_returns():
    doc = resolve("~cpu0.freq")
    assert value(doc, "cpu0.freq") == 1_000_000_000
    assert where(doc, "cpu0.freq") == "default of riscv64"
    doc = resolve("~soc.test")
    assert doc.lookup(("soc", "test")) is None


def test_delete_of_default_only_property_is_an_error():
    with pytest.raises(OverrideError) as info:
        resolve("~mrom.file")
    assert "has its type's default" in info.value.message


def test_append_and_index():
    doc = resolve("cpu0.isa+=[zicbop]", "cpu0.isa[1]=zmmul")
    isa = [n.value for n in doc.lookup(("cpu0", "isa")).value]
    assert isa[1] == "zmmul" and isa[-1] == "zicbop"


def test_index_out_of_range():
    with pytest.raises(OverrideError) as info:
        resolve("cpu0.isa[99]=v")
    assert "out of range" in info.value.message


def test_map_value_merges_into_object():
    doc = resolve("soc.uart0={clock: 1843200}")
    assert value(doc, "soc.uart0.clock") == 1_843_200
    assert value(doc, "soc.uart0.base") == 0x1000_0000


def test_replace_marker_in_value():
    doc = resolve("soc.plic=!replace {type: plic, base: 0xc00_0000}")
    assert value(doc, "soc.plic.num_sources") == 95
    assert where(doc, "soc.plic.num_sources") == "default of plic"


def test_schema_types_the_text():
    # the same text is a frequency for freq and stays text for description
    doc = resolve("cpu0.freq=1.5GHz", "description=1.10")
    assert value(doc, "cpu0.freq") == 1_500_000_000
    assert value(doc, "description") == "1.10"


def test_bad_value_is_located_at_the_argument():
    with pytest.raises(Problems) as info:
        resolve("cpu0.freq=fast")
    (err,) = info.value.errors
    assert err.origin.where() == "--set #1 'cpu0.freq=fast'"
    assert err.path == "cpu0.freq"
    assert err.origin.source.layer == "--set #1"
