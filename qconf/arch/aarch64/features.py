"""What an AArch64 core advertises in its ID registers: only what the engine executes
and qconf takes as the architecture says.

Unicorn's CPU models (QEMU 5.0's) report these (``ID_AA64*`` read at reset):

=============  =====================  ==================================================
register       cortex-a57 / a72       max
=============  =====================  ==================================================
PFR0           0x2222                 0x1_0011_2222 (SVE, FP16)
PFR1           0                      0x1 (BTI)
ISAR0          0x11120 (AES+PMULL,    0x1021111110212120 (+ RNDR, flag manipulation,
               SHA1, SHA256, CRC32)   FHM, dot product, SM3/SM4, SHA3/512, RDM, LSE)
ISAR1          0                      0x11101211012 (pointer authentication, JSCVT,
                                      FCMA, LRCPC, DPB, SB, FRINTTS...)
MMFR1 / MMFR2  0 / 0                  0x211120 (PAN with AT S1E1RP, VH...) / 0x11
=============  =====================  ==================================================

What qconf changes, and why:

- **AArch32** (PFR0 EL0/EL1 = 2): qconf enters exceptions for AArch64 only (the vectors
  at +0x600 from a 32-bit EL0 are not modelled), so the cores say AArch64 only; Linux
  then runs no 32-bit programs. EL2 and EL3 are not the guest's (the core starts in EL1
  and qconf answers ``hvc`` as firmware): not implemented.
- **SVE** (PFR0, max): its traps (EC 0x19) and **BTI** (PFR1, max: branch target
  exceptions, EC 0x0D) would reach qconf as undefined instructions, whose syndrome
  Unicorn does not give: hidden. Linux then uses neither.
- **RNDR** (ISAR0, max): Unicorn answers it from the host's random numbers, which would
  make two runs differ: hidden.

Everything else stays: the cryptography, CRC32 and LSE instructions execute in Unicorn;
PAN is taken on exception entry by qconf as the architecture says (``SCTLR_EL1.SPAN``).
"""

from __future__ import annotations

__all__ = ("READ", "has_pan", "id_overrides")

PFR0, PFR1, ISAR0 = (4, 0), (4, 1), (6, 0)  # (CRm, op2) of ID_AA64PFR0/PFR1/ISAR0_EL1
READ = (PFR0, PFR1, ISAR0)
"""The ID registers :func:`id_overrides` changes."""


def _field(value: int, shift: int, new: int) -> int:
    return (value & ~(0xF << shift)) | (new << shift)


def id_overrides(read: dict[tuple[int, int], int]) -> dict[tuple[int, int], int]:
    """The ID register values a core shows instead of Unicorn's, by (CRm, op2), given
    Unicorn's values ``read`` for PFR0, PFR1 and ISAR0."""
    pfr0 = read[PFR0]
    for shift in (0, 4):  # EL0, EL1: AArch64 only
        if (pfr0 >> shift) & 0xF:
            pfr0 = _field(pfr0, shift, 1)
    pfr0 = _field(_field(pfr0, 8, 0), 12, 0)  # EL2, EL3: not the guest's
    pfr0 = _field(pfr0, 32, 0)  # SVE
    pfr1 = _field(read[PFR1], 0, 0)  # BT
    isar0 = _field(read[ISAR0], 60, 0)  # RNDR
    return {PFR0: pfr0, PFR1: pfr1, ISAR0: isar0}


def has_pan(mmfr1: int) -> bool:
    """Whether ID_AA64MMFR1_EL1 says the core has PAN."""
    return (mmfr1 >> 20) & 0xF != 0
