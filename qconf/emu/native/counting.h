/*
 * Instruction counting hooks (see qconf/emu/counting.py for the design; the Python
 * fallback there implements the same algorithm). The layout of these structures is
 * mirrored by ctypes in qconf/emu/counting.py: change both together (the module checks
 * the sizes at import).
 */
#ifndef QCONF_COUNTING_H
#define QCONF_COUNTING_H

#include "unicorn_abi.h"

enum qc_kind { QC_FIXED4 = 0, QC_RISCV = 1, QC_THUMB = 2 };

/* one translated block's instruction count, by (pc, size); icount 0: empty slot */
typedef struct qc_entry {
    uint64_t pc;
    uint32_t size;
    uint16_t icount;
    uint16_t ambiguous; /* two translations of different counts share the key: decode */
} qc_entry;

typedef struct qc_counter {
    /* the first four fields are also the inline counter of the store-fix engine
       (uc_qconf_counter in qconf/engine/inline-counting.patch): keep them first */
    uint64_t count;       /* instructions executed by the engine so far */
    uint64_t limit;       /* the slice ends when count reaches it */
    uint64_t block_pc;    /* the block being executed (counted whole at its start) */
    uint32_t block_size;  /* 0: no block in progress */
    uint32_t kind;        /* enum qc_kind: how instruction lengths are decoded */
    uint64_t block_start; /* count before it (exact timing) */
    uint64_t misses;      /* blocks whose count was decoded from their code */
    uint64_t mask;        /* table slots - 1 (a power of two minus one) */
    qc_entry *table;
    uc_emu_stop_fn emu_stop;
    uc_vmem_read_fn vmem_read;
    uint32_t cut;         /* the machine asked for the slice to end at the next block (and
                             set limit to 0, which is what the hooks look at) */
    uint32_t stopped;     /* the counter stopped the engine (budget or cut) */
    uint32_t position;    /* exact: the index in the block of the next instruction */
    uint32_t stop_at;     /* exact: the index to stop before (the budget ends there) */
    uint32_t failed;      /* a decode could not read the code */
    uint32_t reserved;
} qc_counter;

void qc_block(uc_engine *uc, uint64_t pc, uint32_t size, qc_counter *c);
void qc_block_exact(uc_engine *uc, uint64_t pc, uint32_t size, qc_counter *c);
void qc_code_exact(uc_engine *uc, uint64_t pc, uint32_t size, qc_counter *c);
void qc_inline_stop(uc_engine *uc, uint64_t pc, uint32_t size, qc_counter *c);
void qc_edge(uc_engine *uc, const uc_tb *cur, const uc_tb *prev, qc_counter *c);
/* an instruction at pc raised an exception: take back the rest of its block */
void qc_exception_at(uc_engine *uc, qc_counter *c, uint64_t pc);

#endif
