"""RISC-V ISA items: syntax, known names with did-you-mean, and the hook for what runs."""

from __future__ import annotations

import re

import pytest

import qconf
from qconf.arch.riscv import isa_names
from qconf.arch.riscv.isa_names import KNOWN, check_isa, check_name
from qconf.model.messages import ValueProblem


@pytest.mark.parametrize("name", ["i", "m", "c", "zicsr", "ZIFENCEI", "zihintpause"])
def test_known_names_the_engine_runs_pass(name: str) -> None:
    assert check_name(name) == name.lower()


@pytest.mark.parametrize(
    ("name", "message", "hint"),
    [
        ("zicssr", "unknown RISC-V extension 'zicssr'", "did you mean 'zicsr'"),
        ("sstcc", "unknown RISC-V extension 'sstcc'", "did you mean 'sstc'"),
        ("imac", "several single-letter extensions", "e.g. [i, m, a, c]"),
        ("rv64gc", "a whole ISA string", "e.g. [g, c]"),
        ("rv32imac_zicsr", "a whole ISA string", "e.g. [i, m, a, c, zicsr]"),
        ("qq", "not a RISC-V extension name", "did you mean 'q'?"),
        ("1x", "not a RISC-V extension name", "one letter"),
    ],
)
def test_wrong_names_say_why_and_suggest(name: str, message: str, hint: str) -> None:
    with pytest.raises(ValueProblem) as err:
        check_name(name)
    assert message in str(err.value)
    assert err.value.hint is not None and hint in err.value.hint


def test_every_profile_isa_is_known() -> None:
    doc = qconf.resolve(["riscv-virt"])
    isa = [n.value for n in doc.lookup(("cpu0", "isa")).value]  # type: ignore[union-attr]
    assert set(isa) <= KNOWN


@pytest.mark.parametrize(
    ("isa", "message", "index"),
    [
        (["i", "m", "m"], "'m' is listed twice", 2),
        (["m", "a"], "the base integer ISA is missing", None),
        (["i", "e"], "both base integer ISAs", 1),
    ],
)
def test_the_whole_list(isa: list[str], message: str, index: int | None) -> None:
    with pytest.raises(ValueProblem) as err:
        check_isa(isa)
    assert message in str(err.value) and err.value.index == index


def test_not_executable_asks_the_table_of_what_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, int]] = []

    def engine(ext: str, xlen: int) -> tuple[str, str] | None:
        seen.append((ext, xlen))
        return ("Unicorn does not execute it", "list another") if ext == "m" else None

    monkeypatch.setattr(isa_names, "not_executable", engine)
    assert check_name("a", 32) == "a"
    with pytest.raises(ValueProblem, match="Unicorn does not execute it") as err:
        check_name("m", 64)
    assert err.value.hint == "list another"
    assert seen == [("a", 32), ("m", 64)]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("q", "Unicorn 2.1.4 does not execute q (quad-precision floating point)"),
        ("svnapot", "Unicorn 2.1.4 is not known to execute svnapot"),
        ("xventanacondops", "Unicorn 2.1.4 is not known to execute xventanacondops"),
        ("e", "RV32E/RV64E (16 registers) is not what Unicorn 2.1.4 runs"),
    ],
)
def test_known_names_the_engine_does_not_run_are_refused(name: str, message: str) -> None:
    assert isa_names.not_executable(name, 64) is not None
    with pytest.raises(ValueProblem, match=re.escape(message)):
        check_name(name)


def test_a_resolved_isa_item_the_engine_does_not_run_is_located() -> None:
    with pytest.raises(qconf.Problems) as err:
        qconf.resolve(["riscv-virt"], ["cpu0.isa[1]=q"])
    assert "cpu0.isa[1]: Unicorn 2.1.4 does not execute q" in str(err.value)
