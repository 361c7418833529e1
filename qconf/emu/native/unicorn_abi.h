/*
 * The few parts of Unicorn 2.1.4's C API that qconf's native hooks use, declared here
 * because the PyPI wheel ships libunicorn without its headers. Each mirrors the
 * definition in Unicorn's source at tag v2.1.4 (file named beside it). The hooks never
 * link against libunicorn: the functions they call are passed in as pointers, taken from
 * the library the Python binding loaded (qconf/emu/native/__init__.py).
 */
#ifndef QCONF_UNICORN_ABI_H
#define QCONF_UNICORN_ABI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct uc_struct uc_engine; /* include/unicorn/unicorn.h: opaque */
typedef int uc_err;                 /* include/unicorn/unicorn.h: enum uc_err, 0 = OK */

/* include/unicorn/unicorn.h: enum uc_prot */
#define QC_UC_PROT_EXEC 4

/* include/unicorn/unicorn.h: struct uc_tb, given to UC_HOOK_EDGE_GENERATED */
typedef struct uc_tb {
    uint64_t pc;
    uint16_t icount;
    uint16_t size;
} uc_tb;

/* include/unicorn/unicorn.h: struct uc_tlb_entry, filled by UC_HOOK_TLB_FILL */
typedef struct uc_tlb_entry {
    uint64_t paddr;
    uint32_t perms; /* uc_prot */
} uc_tlb_entry;

/* include/unicorn/arm64.h: uc_arm64_cp_reg, given to UC_HOOK_INSN on SYS/MRS/MSR */
typedef struct uc_arm64_cp_reg {
    uint32_t crn;
    uint32_t crm;
    uint32_t op0;
    uint32_t op1;
    uint32_t op2;
    uint64_t val;
} uc_arm64_cp_reg;

/* include/unicorn/unicorn.h: uc_emu_stop, uc_vmem_read, uc_reg_read */
typedef uc_err (*uc_emu_stop_fn)(uc_engine *uc);
typedef uc_err (*uc_reg_read_fn)(uc_engine *uc, int regid, void *value);
typedef uc_err (*uc_vmem_read_fn)(uc_engine *uc, uint64_t address, int prot, void *bytes,
                                  size_t size);

#endif
