/*
 * Instruction counting hooks: one block hook (and, in exact timing, one code hook) per
 * engine, each the only hook of its kind, so Unicorn calls it straight from the
 * translated code. The algorithm is described, and implemented again in Python for
 * hosts without this extension, in qconf/emu/counting.py.
 */
#include "counting.h"

#define PROBES 8

static inline uint64_t hash(uint64_t pc, uint32_t size)
{
    /* Fibonacci hashing: relocated copies of code (U-Boot's) differ only in high bits */
    return ((pc ^ (uint64_t)size << 52) * 0x9E3779B97F4A7C15ull) >> 40;
}

/* the entry for (pc, size): the one holding it, else the first empty one of its PROBES
   slots (open addressing), else its first slot, to be replaced */
static qc_entry *entry_of(const qc_counter *c, uint64_t pc, uint32_t size)
{
    uint64_t h = hash(pc, size);
    uint32_t i;
    for (i = 0; i < PROBES; i++) {
        qc_entry *e = &c->table[(h + i) & c->mask];
        if (e->icount == 0 || (e->pc == pc && e->size == size)) {
            return e;
        }
    }
    return &c->table[h & c->mask];
}

/* the number of instructions in [pc, pc + size), from the code bytes (read through the
   MMU, as the CPU fetched them); 0 if they cannot be read */
static uint32_t decode(uc_engine *uc, qc_counter *c, uint64_t pc, uint32_t size)
{
    uint8_t code[4096];
    uint32_t n = 0, i = 0;
    if (c->kind == QC_FIXED4) {
        return size / 4;
    }
    while (i < size) {
        uint32_t chunk = size - i > sizeof code ? (uint32_t)sizeof code : size - i;
        uint32_t at = 0;
        if (c->vmem_read(uc, pc + i, QC_UC_PROT_EXEC, code, chunk) != 0) {
            c->failed = 1;
            return 0;
        }
        while (at + 2 <= chunk) {
            uint16_t half = (uint16_t)(code[at] | code[at + 1] << 8);
            uint32_t top = half >> 11;
            if (c->kind == QC_RISCV) {
                at += (half & 3) == 3 ? 4 : 2; /* RVC: low bits 00, 01, 10 */
            } else {
                at += (top == 0x1d || top == 0x1e || top == 0x1f) ? 4 : 2; /* Thumb-2 */
            }
            n++;
        }
        if (at < 2) {
            break; /* a lone byte: no instruction starts there */
        }
        i += at; /* past the chunk when its last instruction straddles it */
    }
    return n;
}

/* a block the table does not answer at its first slot: look further, else decode; add
   its count (kept out of the hot path, which then needs no saved registers) */
static __attribute__((noinline)) void count_slow(uc_engine *uc, qc_counter *c, uint64_t pc,
                                                 uint32_t size)
{
    qc_entry *e = entry_of(c, pc, size);
    uint32_t n;
    if (e->pc == pc && e->size == size && e->icount && !e->ambiguous) {
        c->count += e->icount;
        return;
    }
    c->misses++;
    n = decode(uc, c, pc, size);
    if (!(e->pc == pc && e->size == size && e->ambiguous)) {
        e->pc = pc;
        e->size = size;
        e->icount = (uint16_t)n;
        e->ambiguous = 0;
    }
    c->count += n;
}

/* the block hook's work: check first, then count the block whole */
static inline int enter_block(uc_engine *uc, uint64_t pc, uint32_t size, qc_counter *c)
{
    uint64_t count = c->count;
    const qc_entry *e;
    /* check first: a block that would start past the budget (or after a cut, which sets
       the limit to 0) does not run */
    if (count >= c->limit) {
        c->stopped = 1;
        c->block_size = 0; /* the last block counted ran whole */
        c->emu_stop(uc);
        return 0;
    }
    c->block_pc = pc;
    c->block_size = size;
    c->block_start = count;
    if (c->kind == QC_FIXED4) {
        c->count = count + size / 4;
        return 1;
    }
    e = &c->table[hash(pc, size) & c->mask];
    if (e->pc == pc && e->size == size && e->icount && !e->ambiguous) {
        c->count = count + e->icount;
    } else {
        count_slow(uc, c, pc, size);
    }
    return 1;
}

void qc_block(uc_engine *uc, uint64_t pc, uint32_t size, qc_counter *c)
{
    enter_block(uc, pc, size, c);
}

void qc_inline_stop(uc_engine *uc, uint64_t pc, uint32_t size, qc_counter *c)
{
    /* the engine counts (store-fix engine, uc_qconf_counter) and calls this when a block
       would start past the budget: the block hook's stop, as in enter_block */
    (void)pc;
    (void)size;
    c->stopped = 1;
    c->block_size = 0;
    c->emu_stop(uc);
}

void qc_block_exact(uc_engine *uc, uint64_t pc, uint32_t size, qc_counter *c)
{
    if (enter_block(uc, pc, size, c)) {
        /* where in this block the budget ends, if it does */
        c->position = 0;
        c->stop_at = c->count > c->limit ? (uint32_t)(c->limit - c->block_start) : UINT32_MAX;
    }
}

void qc_code_exact(uc_engine *uc, uint64_t pc, uint32_t size, qc_counter *c)
{
    (void)pc;
    (void)size;
    /* a stop asked inside a Thumb IT block is reverted by Unicorn: ask again at the next
       instruction; what ran is counted when the slice ends (finish) */
    if (c->position++ >= c->stop_at) {
        c->stopped = 1;
        c->emu_stop(uc);
    }
}

void qc_edge(uc_engine *uc, const uc_tb *cur, const uc_tb *prev, qc_counter *c)
{
    qc_entry *e;
    (void)uc;
    (void)prev;
    if (c->kind == QC_FIXED4 || cur->icount == 0) {
        return;
    }
    e = entry_of(c, cur->pc, cur->size);
    if (e->pc == cur->pc && e->size == cur->size && e->icount) {
        if (e->icount != cur->icount) {
            e->ambiguous = 1;
        }
        return;
    }
    e->pc = cur->pc;
    e->size = cur->size;
    e->icount = cur->icount;
    e->ambiguous = 0;
}

void qc_exception_at(uc_engine *uc, qc_counter *c, uint64_t pc)
{
    /* the block was counted whole at its start: the instructions after the one at pc did
       not run (Counter.exception_at in qconf/emu/counting.py) */
    if (c->block_size && c->block_pc <= pc && pc < c->block_pc + c->block_size) {
        uint32_t failed = c->failed;
        uint32_t n = decode(uc, c, pc, (uint32_t)(c->block_pc + c->block_size - pc));
        c->failed = failed; /* (Python's take-back reads nothing it could record) */
        if (n > 1) {
            c->count -= n - 1;
        }
    }
    c->block_size = 0;
}
