"""RISC-V ISA items: syntax, known names with did-you-mean, and the hook for what runs."""

from __future__ import annotations

import pytest

import qconf
from qconf.arch.riscv import isa_names
from qconf.arch.riscv.isa_names import KNOWN, check_isa, check_name
from qconf.model.messages import ValueProblem


@pytest.mark.parametrize("name", ["i", "m", "q", "zicsr", "ZIFENCEI", "sstc", "svnapot",
                                  "zvl128b", "xventanacondops"])  # fmt: skip
def test_known_and_vendor_names_pass(name: str) -> None:
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


def test_not_executable_is_the_hook_for_what_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, int]] = []

    def engine(ext: str, xlen: int) -> str | None:
        seen.append((ext, xlen))
        return "Unicorn does not execute it" if ext == "q" else None

    monkeypatch.setattr(isa_names, "not_executable", engine)
    assert check_name("m", 32) == "m"
    with pytest.raises(ValueProblem, match="'q' cannot run here: Unicorn does not execute it"):
        check_name("q", 64)
    assert seen == [("m", 32), ("q", 64)]
    with pytest.raises(qconf.Problems) as err:
        qconf.resolve(["riscv-virt"], ["cpu0.isa[1]=q"])
    assert "cannot run here" in str(err.value)
