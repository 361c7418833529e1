"""RISC-V ISA extension names: their syntax, the names the specifications define, and the
hook for what the engine can execute (the ``isa`` property's checks, item by item).

An ``isa`` property is a list of extension names (``[i, m, a, c, zicsr]``). Each item is
checked here in three steps:

1. syntax: one letter, or a multi-letter name of the ``z``, ``s`` (``sv``, ``sm``,
   ``ss``, ``sh``) or ``x`` (vendor) families;
2. known: a name the RISC-V specifications define (:data:`KNOWN`), with did-you-mean for a
   typo; vendor ``x...`` names cannot be listed and pass on their syntax;
3. executable: :func:`not_executable`, which asks the table of what Unicorn 2.1.4
   executes (:func:`qconf.arch.riscv.isa.refusal`, the one place that decides): a known
   name the engine does not run, or that qconf has no probe of, is refused there.
"""

from __future__ import annotations

import difflib
import re

from qconf.arch.riscv.isa import refusal
from qconf.model.messages import ValueProblem

__all__ = ("KNOWN", "check_isa", "check_name", "not_executable")

SINGLE = {
    "i": "base integer", "e": "base integer, 16 registers", "g": "imafd + zicsr + zifencei",
    "m": "multiply and divide", "a": "atomics", "f": "single-precision float",
    "d": "double-precision float", "q": "quad-precision float", "c": "compressed",
    "b": "bit manipulation", "v": "vector", "h": "hypervisor", "p": "packed SIMD (draft)",
}  # fmt: skip

MULTI = frozenset({
    "zicsr", "zifencei", "zicntr", "zihpm", "zihintpause", "zihintntl", "zicbom", "zicbop",
    "zicboz", "zicond", "zimop", "zicfilp", "zicfiss", "zic64b", "ziccamoa", "ziccif", "zicclsm",
    "ziccrse", "zawrs", "zacas", "zabha", "zaamo", "zalrsc", "zama16b", "za64rs", "za128rs",
    "ztso", "zmmul", "zfh", "zfhmin", "zfa", "zfbfmin", "zfinx", "zdinx", "zhinx", "zhinxmin",
    "zca", "zcb", "zcd", "zcf", "zcmp", "zcmt", "zcmop", "zba", "zbb", "zbc", "zbs", "zbkb",
    "zbkc", "zbkx", "zk", "zkn", "zknd", "zkne", "zknh", "zkr", "zks", "zksed", "zksh", "zkt",
    "zve32x", "zve32f", "zve64x", "zve64f", "zve64d", "zvl32b", "zvl64b", "zvl128b", "zvl256b",
    "zvl512b", "zvl1024b", "zvl2048b", "zvl4096b", "zvl8192b", "zvl16384b", "zvl32768b",
    "zvl65536b", "zvbb", "zvbc", "zvkb", "zvkg", "zvkned", "zvknha", "zvknhb", "zvksed", "zvksh",
    "zvkn", "zvknc", "zvkng", "zvks", "zvksc", "zvksg", "zvkt", "zvfh", "zvfhmin", "zvfbfmin",
    "zvfbfwma", "sstc", "sscofpmf", "smstateen", "ssstateen", "svinval", "svnapot", "svpbmt",
    "svadu", "svade", "svbare", "svvptc", "smaia", "ssaia", "smepmp", "smrnmi", "smcntrpmf",
    "sscsrind", "smcsrind", "ssccptr", "sstvecd", "sstvala", "sscounterenw", "ssu64xl",
    "shcounterenw", "shgatpa", "shtvala", "shvsatpa", "shvstvala", "shvstvecd", "smmpm", "smnpm",
    "ssnpm", "sspm", "supm", "sha", "smcdeleg", "smdbltrp", "ssdbltrp", "ssqosid",
})  # fmt: skip

KNOWN = frozenset(SINGLE) | MULTI
"""Every extension name the RISC-V specifications define (vendor ``x...`` names aside)."""

_SYNTAX = re.compile(r"^(?:[a-z]|z[a-z][a-z0-9]*|s[a-z][a-z0-9]*|x[a-z][a-z0-9]*)$")


def not_executable(ext: str, xlen: int) -> tuple[str, str] | None:
    """Why the known extension ``ext`` cannot be listed by an ``xlen``-bit hart, as a
    message and a hint, or None when it can.

    Called for every known name after its syntax and name are checked; a reason it returns
    is a validation error at that item (E405). The table of what Unicorn executes
    (:func:`qconf.arch.riscv.isa.refusal`) answers it.
    """
    return refusal(ext, xlen)


def check_name(ext: str, xlen: int = 64) -> str:
    """``ext`` in lower case, if it is a well-formed, known and executable extension name.

    :raises ValueProblem: what is wrong, with did-you-mean over the known names.
    """
    e = ext.strip().lower()
    if e.startswith(("rv32", "rv64")) and len(e) > 4:
        rest = e[4:]
        first = [ch for ch in rest.split("_")[0]]
        items = ", ".join(first + rest.split("_")[1:])
        raise ValueProblem(
            f"{ext!r} is a whole ISA string, not an extension",
            hint=f"list one extension per item, e.g. [{items}]",
        )
    if len(e) > 1 and all(ch in SINGLE for ch in e) and len(set(e)) == len(e):
        raise ValueProblem(
            f"{ext!r} is not an extension name: several single-letter extensions",
            hint=f"list one extension per item, e.g. [{', '.join(e)}]",
        )
    close = difflib.get_close_matches(e, sorted(KNOWN), n=3, cutoff=0.6)
    if not _SYNTAX.match(e):
        raise ValueProblem(
            f"{ext!r} is not a RISC-V extension name",
            hint=("did you mean " + " or ".join(repr(c) for c in close) + "? " if close else "")
            + "a name is one letter (i m a f d c v h ...) or z.../s.../x... (zicsr, sstc)",
        )
    if e not in KNOWN and not e.startswith("x"):
        raise ValueProblem(
            f"unknown RISC-V extension {ext!r}",
            hint=("did you mean " + " or ".join(repr(c) for c in close) + "?")
            if close
            else "qconf types riscv64 describes isa; the RISC-V specifications list the names",
        )
    refused = not_executable(e, xlen)
    if refused is not None:
        message, hint = refused
        raise ValueProblem(message, hint=hint)
    return e


def check_isa(exts: list[str]) -> list[str]:
    """A whole ``isa`` list: no name twice, and one base integer ISA (``i`` or ``e``;
    ``g`` includes ``i``).

    :raises ValueProblem: what is wrong (at the item at fault).
    """
    seen: dict[str, int] = {}
    for i, e in enumerate(exts):
        if e in seen:
            raise ValueProblem(f"extension {e!r} is listed twice (items [{seen[e]}] and [{i}])",
                               hint="remove one of them", index=i, other=seen[e])  # fmt: skip
        seen[e] = i
    if not seen.keys() & {"i", "e", "g"}:
        raise ValueProblem("the base integer ISA is missing",
                           hint="include 'i'")  # fmt: skip
    if "e" in seen and seen.keys() & {"i", "g"}:
        raise ValueProblem("'i' and 'e' are both base integer ISAs", index=seen["e"],
                           hint="list one of them")  # fmt: skip
    return exts
