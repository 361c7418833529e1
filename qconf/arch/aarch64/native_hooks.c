/*
 * AArch64 hooks on hot paths (see native_hooks.h): system register accesses (MRS/MSR:
 * Linux reads sp_el0 millions of times), cache and TLB maintenance (SYS), and TLB fills
 * answered from remembered translations tagged by ASID. Python's equivalents are in
 * sysregs.py and mmu.py.
 */
#include <string.h>

#include "native_hooks.h"

#define UC_ARM64_REG_PSTATE 265 /* include/unicorn/arm64.h */
#define UC_MEM_WRITE 17         /* include/unicorn/unicorn.h: uc_mem_type */
#define UC_MEM_FETCH 18

static uint64_t set_of(uint64_t number)
{
    return number ^ (number >> 11) ^ (number >> 23);
}

static uint32_t current_asid(const qc_a64 *t)
{
    uint64_t ttbr = (t->tcr >> 22) & 1 ? t->ttbr1 : t->ttbr0; /* TCR.A1 */
    return (uint32_t)(ttbr >> 48) & ((t->tcr >> 36) & 1 ? 0xffff : 0xff); /* TCR.AS */
}

static void drop_all(qc_a64 *t)
{
    memset(t->ways, 0, (size_t)(t->sets_mask + 1) * QC_A64_WAYS * sizeof *t->ways);
}

static void drop_asid(qc_a64 *t, uint32_t asid)
{
    size_t n = (size_t)(t->sets_mask + 1) * QC_A64_WAYS;
    for (size_t i = 0; i < n; i++) {
        qc_a64_way *w = &t->ways[i];
        if (w->tag && !w->global && w->asid == asid) {
            w->tag = 0;
        }
    }
}

static void drop_page(qc_a64 *t, uint64_t number, int any_asid, uint32_t asid)
{
    qc_a64_way *set = &t->ways[(set_of(number) & t->sets_mask) * QC_A64_WAYS];
    for (int i = 0; i < QC_A64_WAYS; i++) {
        qc_a64_way *w = &set[i];
        if (w->tag == number + 1 && (any_asid || w->global || w->asid == asid)) {
            w->tag = 0;
        }
    }
}

/* TLBI at EL1 (op1 0, CRn 8): by VA and ASID, by VA for every ASID, by ASID, all */
static void invalidate(qc_a64 *t, const uc_arm64_cp_reg *cp)
{
    uint32_t asid_mask = (t->tcr >> 36) & 1 ? 0xffff : 0xff;
    uint32_t asid = (uint32_t)(cp->val >> 48) & asid_mask;
    /* Xt[43:0] is VA[55:12]; bit 55 says which half of the address space */
    uint64_t number = cp->val & 0xfffffffffffull;
    if (number >> 43) {
        number |= 0xffull << 44;
    }
    if (cp->op1 != 0) {
        drop_all(t); /* EL2, EL3 */
        return;
    }
    switch (cp->op2) {
    case 1: /* VAE1 */
    case 5: /* VALE1 */
        drop_page(t, number, 0, asid);
        break;
    case 3: /* VAAE1 */
    case 7: /* VAALE1 */
        drop_page(t, number, 1, 0);
        break;
    case 2: /* ASIDE1 */
        drop_asid(t, asid);
        break;
    default: /* VMALLE1 and anything else: everything */
        drop_all(t);
        break;
    }
}

uint32_t qc_a64_sys(uc_engine *uc, int reg, const uc_arm64_cp_reg *cp, qc_a64 *t)
{
    (void)uc;
    (void)reg;
    t->sys++;
    if (cp->crn == 8) {
        /* CRm 3: inner shareable, 1: outer shareable: every core's TLB */
        int broadcast = cp->op1 == 0 && (cp->crm == 3 || cp->crm == 1);
        t->tlbi++;
        invalidate(t, cp);
        if (broadcast) {
            for (uint32_t i = 0; i < t->npeers; i++) {
                invalidate(t->peers[i], cp);
                t->peers[i]->flush_pending = 1;
            }
        }
    } else if (cp->crn == 7 && (cp->crm == 1 || cp->crm == 5) && t->npeers) {
        /* ic ialluis, iallu, ivau: code changed; another engine's translations of it
           are dropped before it runs again (one engine sees its own stores) */
        for (uint32_t i = 0; i < t->npeers; i++) {
            t->peers[i]->flush_pending |= 2;
        }
    }
    return 0; /* Unicorn carries it out on its own TLB and caches */
}

uint32_t qc_a64_mrs(uc_engine *uc, int reg, const uc_arm64_cp_reg *cp, qc_a64 *t)
{
    t->mrs++;
    /* the generic timer (op1 3, CRn 14) and the ID registers (op1 0, CRn 0) */
    if (cp->op0 == 3 && ((cp->op1 == 3 && cp->crn == 14) || (cp->op1 == 0 && cp->crn == 0))) {
        return t->python_mrs(uc, reg, cp, t);
    }
    return 0;
}

uint32_t qc_a64_msr(uc_engine *uc, int reg, const uc_arm64_cp_reg *cp, qc_a64 *t)
{
    t->msr++;
    if (cp->op0 != 3) {
        return 0;
    }
    if (cp->op1 == 0 && cp->crm == 0) {
        if (cp->crn == 2 && cp->op2 <= 2) {
            if (cp->op2 == 0) {
                t->ttbr0 = cp->val; /* tagged by ASID: nothing to forget */
            } else if (cp->op2 == 1) {
                t->ttbr1 = cp->val;
            } else {
                if (t->tcr != cp->val) {
                    drop_all(t);
                }
                t->tcr = cp->val;
            }
            return 0;
        }
        if (cp->crn == 1 && cp->op2 == 0) {
            if ((t->sctlr ^ cp->val) & ((1u << 0) | (1u << 19))) { /* M, WXN */
                drop_all(t);
            }
            t->sctlr = cp->val;
            return 0;
        }
    }
    if (cp->op1 == 3 && cp->crn == 14) {
        return t->python_msr(uc, reg, cp, t);
    }
    return 0;
}

bool qc_a64_tlb_fill(uc_engine *uc, uint64_t vaddr, int type, uc_tlb_entry *result,
                     qc_a64 *t)
{
    uint64_t pstate = 0;
    uint64_t number = vaddr >> 12;
    uint32_t asid, shift, need;
    qc_a64_way *set;
    t->fills++;
    if (!(t->sctlr & 1)) {
        result->paddr = vaddr; /* the MMU is off */
        result->perms = 7;
        return true;
    }
    t->reg_read(uc, UC_ARM64_REG_PSTATE, &pstate);
    /* the regime asking: EL0, EL1, EL1 with PAN */
    shift = ((pstate >> 2) & 3) == 0 ? 0 : ((pstate >> 22) & 1 ? 6 : 3);
    need = type == UC_MEM_FETCH ? 4 : type == UC_MEM_WRITE ? 2 : 1;
    asid = current_asid(t);
    set = &t->ways[(set_of(number) & t->sets_mask) * QC_A64_WAYS];
    for (int i = 0; i < QC_A64_WAYS; i++) {
        qc_a64_way *w = &set[i];
        if (w->tag == number + 1 && (w->global || w->asid == asid)) {
            uint32_t perms = (w->perms >> shift) & 7;
            if (!(perms & need)) {
                break; /* a permission fault: the walk says which */
            }
            t->fill_hits++;
            result->paddr = w->paddr | (vaddr & 0xfff);
            result->perms = perms;
            return true;
        }
    }
    return t->python_fill(uc, vaddr, type, result, t);
}
