"""What a RISC-V hart on Unicorn 2.1.4 executes: the ISA extensions a hart's ``isa`` may
name, each with an instruction of it (its *probe*) and whether the engine runs it.

A hart's ``isa`` becomes its device tree's ``riscv,isa``, which firmware and kernels
believe: an extension listed there that the engine does not execute makes a guest built
for it trap on its first such instruction. So ``isa`` may list only what runs; the others
are validation errors that say why. ``tests/test_riscv_isa.py`` executes every probe, in
M-mode with the FPU and vector units on, on a bare engine of each width and checks
:attr:`Extension.runs` against what happened (an illegal-instruction trap or not).

Pure data: importing it imports nothing heavy (validation reads it).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ("EXTENSIONS", "Extension", "offered", "refusal")


@dataclass(frozen=True)
class Extension:
    """One ISA extension as the ``isa`` property names it.

    :param name: its name in ``isa`` (``m``, ``zicsr``).
    :param what: what it is, briefly.
    :param insn: the first instruction of its probe, as assembly.
    :param probe: instruction words of it, run one after the other (16-bit ones are
        compressed instructions); ``probe32`` where RV32's encoding differs.
    :param runs: whether Unicorn 2.1.4 executes the probe (no illegal-instruction trap).
    :param offered: whether a hart may list it: it runs, and runs as the extension says.
    :param note: why an extension that runs is not offered.
    """

    name: str
    what: str
    insn: str
    probe: tuple[int, ...]
    runs: bool
    offered: bool = True
    note: str = ""
    probe32: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if not self.runs:
            object.__setattr__(self, "offered", False)


EXTENSIONS: dict[str, Extension] = {e.name: e for e in (
    Extension("i", "base integer instructions", "addi", (0x00150513,), True),
    Extension("m", "multiply and divide", "mul", (0x02B50533,), True),
    Extension("a", "atomics", "amoadd.w", (0x00B1252F,), True),
    Extension("f", "single-precision floating point", "fadd.s", (0x00C5F553,), True),
    Extension("d", "double-precision floating point", "fadd.d", (0x02C5F553,), True),
    Extension("q", "quad-precision floating point", "fadd.q", (0x06C5F553,), False),
    Extension("c", "compressed instructions", "c.addi", (0x0505,), True),
    Extension("h", "the hypervisor", "csrr hstatus", (0x60002573, 0x62000073),
              False),
    Extension("v", "vectors", "vsetvli", (0x0D05F557,), False),
    Extension("zicsr", "CSR instructions", "csrr mscratch", (0x34002573,), True),
    Extension("zifencei", "instruction-fetch fence", "fence.i", (0x0000100F,), True),
    Extension("zihintpause", "the pause hint", "pause", (0x0100000F,), True),
    Extension("zicbop", "cache-block prefetch hints", "prefetch.r", (0x00116013,), True),
    Extension("zicbom", "cache-block management", "cbo.clean", (0x0011200F,), False),
    Extension("zicboz", "cache-block zero", "cbo.zero", (0x0041200F,), False),
    Extension("zicntr", "base counters", "rdcycle", (0xC0002573,), True, False,
              "cycle and instret read the host's time-stamp counter (not deterministic); "
              "qconf executes rdtime itself, from the CLINT"),
    Extension("zicond", "conditional zero", "czero.eqz", (0x0EC5D533,), False),
    Extension("zawrs", "wait on reservation set", "wrs.nto", (0x00D00073,), False),
    Extension("zmmul", "multiply only", "mul", (0x02B50533,), True),
    Extension("zfh", "half-precision floating point", "fadd.h", (0x04C5F553,), False),
    Extension("zfhmin", "half-precision moves", "fmv.x.h", (0xE4058553,), False),
    Extension("zba", "address generation", "sh1add", (0x20C5A533,), False),
    Extension("zbb", "basic bit manipulation", "andn",
              (0x40C5F533, 0x60059513, 0x0805C53B), False, probe32=(0x40C5F533, 0x60059513,
                                                                     0x0805C533)),
    Extension("zbc", "carry-less multiplication", "clmul", (0x0AC59533,), False),
    Extension("zbs", "single-bit instructions", "bset", (0x28C59533,), False),
    Extension("zbkb", "bit manipulation for cryptography", "pack", (0x08C5C533,), False),
    Extension("zbkc", "carry-less multiplication for cryptography", "clmul", (0x0AC59533,),
              False),
    Extension("zbkx", "crossbar permutations", "xperm4", (0x28C5A533,), False),
    Extension("zknd", "AES decryption", "aes64ds", (0x3AC58533,), False, probe32=(0x2AC58533,)),
    Extension("zkne", "AES encryption", "aes64es", (0x32C58533,), False, probe32=(0x22C58533,)),
    Extension("zknh", "SHA-2", "sha256sig0", (0x10259513,), False),
    Extension("zksed", "SM4", "sm4ed", (0x30C58533,), False),
    Extension("zksh", "SM3", "sm3p0", (0x10859513,), False),
    Extension("zkr", "entropy source", "csrr seed", (0x01502573,), False),
    Extension("sstc", "supervisor timer compare", "csrr stimecmp", (0x14D02573,), False),
    Extension("sscofpmf", "counter overflow", "csrr scountovf", (0xDA002573,), False),
    Extension("svinval", "fine-grained TLB invalidation", "sinval.vma", (0x16B50073,), False),
    Extension("svpbmt", "page-based memory types, enabled in menvcfg", "csrr menvcfg",
              (0x30A02573,), False),
    Extension("smaia", "advanced interrupts, M level", "csrr miselect", (0x35002573,), False),
    Extension("ssaia", "advanced interrupts, S level", "csrr siselect", (0x15002573,), False),
    Extension("smstateen", "state enables", "csrr mstateen0", (0x30C02573,), False),
)}  # fmt: skip
"""Every extension qconf knows, by name."""


def offered() -> list[str]:
    """The extensions a hart may list, in the table's order."""
    return [e.name for e in EXTENSIONS.values() if e.offered]


def refusal(name: str, xlen: int = 64) -> tuple[str, str] | None:
    """Why a hart may not list the extension ``name`` (a name the specifications define),
    as a message and a hint; None if it may. The one place that decides what a hart may
    advertise: :func:`qconf.arch.riscv.isa_names.check_name` asks it after checking the
    name. ``xlen`` is the hart's width (the table's verdicts hold for both).
    """
    runs = "harts run on Unicorn 2.1.4 and execute " + " ".join(offered())
    if name == "e":
        return (
            "RV32E/RV64E (16 registers) is not what Unicorn 2.1.4 runs: it has 32",
            "list 'i', the base integer ISA, instead",
        )
    ext = EXTENSIONS.get(name)
    if ext is None:
        return (
            f"Unicorn 2.1.4 is not known to execute {name}: qconf/arch/riscv/isa.py has no "
            "probe of it, so a hart cannot advertise it",
            runs,
        )
    if not ext.runs:
        return (
            f"Unicorn 2.1.4 does not execute {name} ({ext.what}): {ext.insn} traps as an "
            "illegal instruction, so a hart cannot advertise it",
            f"{runs}; see docs/profiles.md",
        )
    if not ext.offered:
        return f"qconf does not offer {name} ({ext.what}): {ext.note}", runs
    return None
