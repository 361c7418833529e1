"""The table of RISC-V extensions (qconf/arch/riscv/isa.py) against Unicorn itself: each
probe executed on a bare engine of each width, in M-mode with the FPU and vector units
on; and what validation says of a hart's ``isa``."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from qconf.arch.riscv.isa import EXTENSIONS, Extension, offered
from qconf.cli import main

CODE, DATA = 0x1000, 0x2000
ILLEGAL_INSTRUCTION = 2


def executes(words: tuple[int, ...], xlen: int) -> bool:
    """Whether a bare engine runs ``words`` without an illegal-instruction trap."""
    from unicorn import UC_ARCH_RISCV, UC_HOOK_INTR, UC_MODE_RISCV32, UC_MODE_RISCV64, Uc
    from unicorn import riscv_const as rv

    uc = Uc(UC_ARCH_RISCV, UC_MODE_RISCV64 if xlen == 64 else UC_MODE_RISCV32)
    uc.mem_map(CODE, 0x1000)
    uc.mem_map(DATA, 0x1000)
    code = b"".join(w.to_bytes(4 if w & 3 == 3 else 2, "little") for w in words)
    uc.mem_write(CODE, code)
    uc.reg_write(rv.UC_RISCV_REG_SP, DATA)
    uc.reg_write(rv.UC_RISCV_REG_MSTATUS, 1 << 13 | 1 << 9)  # FS and VS: initial
    traps: list[int] = []

    def trap(uc: Uc, intno: int, user_data: object) -> None:
        traps.append(intno)
        uc.emu_stop()

    uc.hook_add(UC_HOOK_INTR, trap)
    uc.emu_start(CODE, CODE + len(code))
    assert traps in ([], [ILLEGAL_INSTRUCTION]), traps
    return not traps


@pytest.mark.parametrize("xlen", [64, 32])
@pytest.mark.parametrize("ext", list(EXTENSIONS.values()), ids=lambda e: e.name)
def test_the_table_says_what_unicorn_executes(ext: Extension, xlen: int) -> None:
    probe = ext.probe32 if xlen == 32 and ext.probe32 is not None else ext.probe
    assert executes(probe, xlen) == ext.runs


def test_what_a_hart_may_list() -> None:
    assert offered() == ["i", "m", "a", "f", "d", "c", "zicsr", "zifencei", "zihintpause",
                         "zicbop", "zmmul"]  # fmt: skip


def validate(*sets: str):
    return CliRunner().invoke(main, ["validate", "-c", "riscv-virt", *[f"--set={s}" for s in sets]])


@pytest.mark.parametrize(
    ("isa", "message", "hint"),
    [
        ("[i, m, zba]", "cpu0.isa[2]: Unicorn 2.1.4 does not execute zba (address "
         "generation): sh1add traps as an illegal instruction, so a hart cannot advertise "
         "it [E405]", "hint: harts run on Unicorn 2.1.4 and execute i m a f d c zicsr"),
        ("[i, m, a, sstc]", "cpu0.isa[3]: Unicorn 2.1.4 does not execute sstc", ""),
        ("[i, m, a, h]", "cpu0.isa[3]: Unicorn 2.1.4 does not execute h (the hypervisor)", ""),
        ("[i, zifenci]", "cpu0.isa[1]: unknown RISC-V extension 'zifenci' [E405]",
         "hint: did you mean 'zifencei'"),
        ("[i, zicntr]", "qconf does not offer zicntr (base counters): cycle and instret read "
         "the host's time-stamp counter", ""),
        ("[e, m]", "RV32E/RV64E (16 registers) is not what Unicorn 2.1.4 runs", "list 'i'"),
        ("[m, a]", "the base integer ISA is missing", "hint: include 'i'"),
    ],
    ids=["zba", "sstc", "h", "typo", "zicntr", "rve", "no-base"],
)  # fmt: skip
def test_an_isa_lists_only_what_runs(isa: str, message: str, hint: str) -> None:
    r = validate(f"cpu0.isa={isa}")
    assert r.exit_code == 1
    assert message in r.stderr and hint in r.stderr, r.stderr
    assert "--set #1" in r.stderr  # located at the argument that wrote it


def test_riscv_virt_advertises_what_runs() -> None:
    from qconf.assembly.builder import build
    from qconf.dtb import device_tree_source
    from qconf.resolve import resolve

    tree = device_tree_source(build(resolve(["riscv-virt"])))
    assert 'riscv,isa = "rv64imafdc_zicsr_zifencei_zihintpause";' in tree
