/*
 * AArch64 hooks that run on every cache maintenance instruction and every TLB miss, kept
 * out of Python where their answer is simple (see qconf/arch/aarch64/core.py and
 * mmu.py; both have Python equivalents used where this extension is not built). The
 * structure layouts are mirrored by ctypes in mmu.py and core.py.
 */
#include "../../emu/native/unicorn_abi.h"

/* ---- SYS instructions: only tlbi (CRn = 8) reaches Python ---- */

typedef uint32_t (*qc_sys_fn)(uc_engine *uc, int reg, const uc_arm64_cp_reg *cp,
                              void *user_data);

struct qc_sys_filter;
uint32_t qc_a64_sys(uc_engine *uc, int reg, const uc_arm64_cp_reg *cp,
                    struct qc_sys_filter *f);
struct qc_tlb;
bool qc_a64_tlb_fill(uc_engine *uc, uint64_t vaddr, int type, uc_tlb_entry *result,
                     struct qc_tlb *t);

typedef struct qc_sys_filter {
    qc_sys_fn python; /* the Python callback (ctypes) */
} qc_sys_filter;

uint32_t qc_a64_sys(uc_engine *uc, int reg, const uc_arm64_cp_reg *cp, qc_sys_filter *f)
{
    if (cp->crn != 8) {
        return 0; /* dc, ic, ...: Unicorn carries them out */
    }
    return f->python(uc, reg, cp, f);
}

/* ---- TLB fill: remembered translations answered here, the rest by the walk ---- */

typedef struct qc_tlb_slot {
    uint64_t tag; /* page number + 1; 0: empty */
    uint64_t paddr;
    uint64_t perms;
} qc_tlb_slot;

typedef bool (*qc_fill_fn)(uc_engine *uc, uint64_t vaddr, int type, uc_tlb_entry *result,
                           void *user_data);

typedef struct qc_tlb {
    uint64_t mask;
    qc_fill_fn python;  /* the page-table walk (ctypes) */
    qc_tlb_slot slots[]; /* mask + 1 of them, direct-mapped by page number */
} qc_tlb;

bool qc_a64_tlb_fill(uc_engine *uc, uint64_t vaddr, int type, uc_tlb_entry *result,
                     qc_tlb *t)
{
    uint64_t number = vaddr >> 12;
    /* an alias and its target differ above bit 12 */
    qc_tlb_slot *slot = &t->slots[(number ^ number >> 12) & t->mask];
    if (slot->tag == number + 1) {
        /* Unicorn's pages may be smaller than 4 KiB: the page plus the offset in it */
        result->paddr = slot->paddr | (vaddr & 0xfff);
        result->perms = (uint32_t)slot->perms;
        return true;
    }
    return t->python(uc, vaddr, type, result, t);
}
