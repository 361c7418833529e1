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

/* ---- the page-table walk (Translator.translate in mmu.py, step for step) ---- */

#define ADDRESS_MASK ((1ull << 48) - 1)
#define LAST_PAGE (~0ull - 0xfff)
#define READ 1
#define WRITE 2
#define EXEC 4

static int read_desc(const qc_a64 *t, uint64_t pa, uint64_t *out)
{
    for (uint32_t i = 0; i < t->nrams; i++) {
        const qc_a64_ram *r = &t->rams[i];
        if (pa >= r->base && pa - r->base <= r->size - 8) {
            memcpy(out, r->host + (pa - r->base), 8);
            return 1;
        }
    }
    return 0;
}

/* nine permission bits: EL0, EL1, EL1 with PAN (permissions() in mmu.py) */
static uint32_t permissions(uint64_t desc, uint64_t table_attrs)
{
    int readonly = ((desc >> 7) & 1) || ((table_attrs >> 62) & 1);
    int user = ((desc >> 6) & 1) && !((table_attrs >> 61) & 1);
    int uxn = ((desc >> 54) & 1) || ((table_attrs >> 60) & 1);
    int pxn = ((desc >> 53) & 1) || ((table_attrs >> 59) & 1);
    uint32_t data = READ | (readonly ? 0 : WRITE);
    uint32_t el0 = (user ? data : 0) | (uxn ? 0 : EXEC);
    uint32_t el1_exec = (pxn || (user && !readonly)) ? 0 : EXEC;
    uint32_t el1 = data | el1_exec;
    uint32_t el1_pan = (user ? 0 : data) | el1_exec;
    return el0 | el1 << 3 | el1_pan << 6;
}

/* 1: translated; 0: a fault (*status); -1: a descriptor outside RAM (Python walks) */
static int walk(qc_a64 *t, uint64_t vaddr, uint64_t *page, uint32_t *perms, int *global,
                uint32_t *status)
{
    static const int granule0[4] = {12, 16, 14, 12}; /* TG0 */
    static const int granule1[4] = {12, 14, 12, 16}; /* TG1 */
    uint64_t tcr = t->tcr, table, attrs = 0;
    int size, granule, stride, level;
    t->walks++;
    *status = 0x04; /* translation fault, level 0 */
    if (vaddr >> 63) {
        size = 64 - (int)((tcr >> 16) & 0x3f);
        granule = granule1[(tcr >> 30) & 3];
        if (((tcr >> 23) & 1) || (size < 64 && (vaddr >> size) != (~0ull >> size))) {
            return 0;
        }
        table = t->ttbr1;
    } else {
        size = 64 - (int)(tcr & 0x3f);
        granule = granule0[(tcr >> 14) & 3];
        if (((tcr >> 7) & 1) || (size < 64 && (vaddr >> size))) {
            return 0;
        }
        table = t->ttbr0;
    }
    stride = granule - 3;
    level = 4 - (size - granule + stride - 1) / stride;
    table &= ADDRESS_MASK & ~((1ull << granule) - 1);
    for (;;) {
        int shift = granule + stride * (3 - level);
        uint64_t index = (vaddr >> shift) & ((1ull << stride) - 1);
        uint64_t desc, block;
        if (!read_desc(t, table + index * 8, &desc)) {
            return -1;
        }
        if (!(desc & 1) || (level == 3 && !(desc & 2))) {
            *status = 0x04 + level;
            return 0;
        }
        if (level < 3 && (desc & 2)) { /* a table */
            attrs |= desc & (0x1full << 59);
            table = desc & ADDRESS_MASK & ~((1ull << granule) - 1);
            level++;
            continue;
        }
        if (!((desc >> 10) & 1)) { /* AF clear */
            *status = 0x08 + level;
            return 0;
        }
        block = desc & ADDRESS_MASK & ~((1ull << shift) - 1);
        *page = (block | (vaddr & ((1ull << shift) - 1))) & ~0xfffull;
        *perms = permissions(desc, attrs);
        if ((t->sctlr >> 19) & 1) { /* WXN */
            for (int at = 0; at <= 6; at += 3) {
                if ((*perms >> at) & WRITE) {
                    *perms &= ~((uint32_t)EXEC << at);
                }
            }
        }
        *global = !((desc >> 11) & 1);
        *status = (uint32_t)level;
        return 1;
    }
}

static void remember(qc_a64 *t, uint64_t number, uint64_t page, uint32_t perms, int global,
                     uint32_t asid)
{
    qc_a64_way *set = &t->ways[(set_of(number) & t->sets_mask) * QC_A64_WAYS];
    qc_a64_way *w = NULL;
    for (int i = 0; i < QC_A64_WAYS; i++) {
        qc_a64_way *c = &set[i];
        if (c->tag == 0 ||
            (c->tag == number + 1 && c->global == global && (global || c->asid == asid))) {
            w = c;
            break;
        }
    }
    if (w == NULL) {
        w = &set[t->victim];
        t->victim = (t->victim + 1) % QC_A64_WAYS;
    }
    w->tag = number + 1;
    w->paddr = page;
    w->asid = asid;
    w->global = (uint16_t)global;
    w->perms = (uint16_t)perms;
}

static bool refuse(qc_a64 *t, uint64_t vaddr, uint32_t status, int type)
{
    t->fault_vaddr = vaddr;
    t->fault_status = status;
    t->fault_access = (uint32_t)type;
    return false;
}

/* what a store to the physical page `page` meets: 0 memory that takes it, 1 memory that
   does not (a ROM), 2 nothing; 0 without a map */
static uint32_t store_target(const qc_a64 *t, uint64_t page)
{
    if (t->nspans == 0) {
        return 0;
    }
    for (uint32_t i = 0; i < t->nspans; i++) {
        const qc_a64_span *s = &t->spans[i];
        if (page >= s->base && page - s->base < s->size) {
            return s->writable ? 0 : 1;
        }
    }
    return 2;
}

/* the answer `perms` (the regime's) at `page`, without write where a store would not be
   taken: Unicorn would stop after such a store only at a check that may be compiled out
   (engine.py); refused here instead, before the store, at the same instruction */
static bool answer(qc_a64 *t, uint64_t vaddr, int type, uint64_t page, uint32_t perms,
                   uc_tlb_entry *result)
{
    if (perms & WRITE) {
        uint32_t target = store_target(t, page);
        if (target) {
            if (type == UC_MEM_WRITE) {
                t->refused_store = target;
                return false;
            }
            perms &= ~(uint32_t)WRITE;
        }
    }
    result->paddr = page | (vaddr & 0xfff);
    result->perms = perms;
    return true;
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
        return answer(t, vaddr, type, vaddr & ~0xfffull, 7, result); /* the MMU is off */
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
            return answer(t, vaddr, type, w->paddr, perms, result);
        }
    }
    {
        uint64_t page = 0;
        uint32_t perms = 0, status = 0, mine;
        int global = 0;
        int found = walk(t, vaddr, &page, &perms, &global, &status);
        if (found < 0) {
            return t->python_fill(uc, vaddr, type, result, t);
        }
        if (found == 0) {
            if (vaddr >= LAST_PAGE) { /* Unicorn probes it on its own: identity */
                return answer(t, vaddr, type, vaddr & ~0xfffull, 7, result);
            }
            return refuse(t, vaddr, status, type);
        }
        remember(t, number, page, perms, global, asid);
        mine = (perms >> shift) & 7;
        if (!(mine & need)) {
            return refuse(t, vaddr, 0x0c + status, type); /* permission fault */
        }
        return answer(t, vaddr, type, page, mine, result);
    }
}
