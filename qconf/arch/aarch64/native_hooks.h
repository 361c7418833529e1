/*
 * AArch64 hooks that run on every system register access, cache and TLB maintenance
 * instruction and TLB miss, kept out of Python where their answer is simple (see
 * qconf/arch/aarch64/sysregs.py and mmu.py; both have Python equivalents used where this
 * extension is not built). The layout of qc_a64 is mirrored by ctypes in
 * qconf/arch/aarch64/mmu.py: change both together (the module checks the size).
 */
#ifndef QCONF_A64_HOOKS_H
#define QCONF_A64_HOOKS_H

#include "../../emu/native/unicorn_abi.h"

#define QC_A64_WAYS 4

/*
 * One remembered translation: a 4 KiB page of one address space (an ASID) or of all
 * (global), and what each regime may do there (uc_prot bits, 3 per regime: EL0, EL1,
 * EL1 with PSTATE.PAN set).
 */
typedef struct qc_a64_way {
    uint64_t tag;   /* virtual page number + 1; 0: empty */
    uint64_t paddr; /* the page's physical address */
    uint32_t asid;
    uint16_t global;
    uint16_t perms; /* bits 0-2: EL0, 3-5: EL1, 6-8: EL1 with PAN */
} qc_a64_way;

typedef uint32_t (*qc_sys_fn)(uc_engine *uc, int reg, const uc_arm64_cp_reg *cp,
                              void *user_data);
typedef bool (*qc_fill_fn)(uc_engine *uc, uint64_t vaddr, int type, uc_tlb_entry *result,
                           void *user_data);

/* guest RAM the walk reads descriptors from (else it asks Python) */
typedef struct qc_a64_ram {
    uint64_t base;
    uint64_t size;
    uint8_t *host;
} qc_a64_ram;

/* physical memory as Unicorn maps it (uc_mem_regions): a store outside it, or to a range
   that does not take stores (a ROM), is refused by the fill (see stores.py) */
typedef struct qc_a64_span {
    uint64_t base;
    uint64_t size;
    uint32_t writable;
    uint32_t reserved;
} qc_a64_span;

typedef struct qc_a64 {
    qc_sys_fn python_mrs;   /* the registers Python serves (the timer, ID registers) */
    qc_sys_fn python_msr;
    qc_fill_fn python_fill; /* the page-table walk */
    uc_reg_read_fn reg_read;
    /* the translation registers as the guest last wrote them (MSR; Python at reset) */
    uint64_t sctlr, tcr, ttbr0, ttbr1;
    /* counts, for --stats and the bench */
    uint64_t fills, fill_hits, mrs, msr, sys, tlbi;
    struct qc_a64 **peers; /* the other cores a broadcast (IS) tlbi reaches */
    uint32_t npeers;
    uint32_t flush_pending; /* a peer's broadcast tlbi: flush Unicorn's TLB before running */
    uint32_t sets_mask;     /* sets - 1; each set has QC_A64_WAYS ways */
    uint32_t nrams;
    qc_a64_way *ways;
    qc_a64_ram *rams;
    /* the last fill refused: its fault status code (0: none), address and access */
    uint64_t fault_vaddr;
    uint32_t fault_status;
    uint32_t fault_access;
    uint64_t walks;  /* walks done here (Python counts its own) */
    uint32_t victim; /* the way a full set gives up next */
    uint32_t reserved;
    qc_a64_span *spans; /* none: every store is taken */
    uint32_t nspans;
    uint32_t refused_store; /* the last store refused: 1 read-only memory, 2 unmapped */
} qc_a64;

uint32_t qc_a64_mrs(uc_engine *uc, int reg, const uc_arm64_cp_reg *cp, qc_a64 *t);
uint32_t qc_a64_msr(uc_engine *uc, int reg, const uc_arm64_cp_reg *cp, qc_a64 *t);
uint32_t qc_a64_sys(uc_engine *uc, int reg, const uc_arm64_cp_reg *cp, qc_a64 *t);
bool qc_a64_tlb_fill(uc_engine *uc, uint64_t vaddr, int type, uc_tlb_entry *result,
                     qc_a64 *t);

#endif
