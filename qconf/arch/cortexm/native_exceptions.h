/*
 * Cortex-M exception entry and return (see qconf/arch/cortexm/exceptions.py, whose
 * Python classes implement the same algorithm where this extension is not built). The
 * layouts of qc_nvic and qc_cm are mirrored by ctypes there: change both together (the
 * module checks the sizes).
 */
#ifndef QCONF_CM_EXCEPTIONS_H
#define QCONF_CM_EXCEPTIONS_H

#include "../../emu/native/counting.h"

#define QC_CM_IRQS 496                   /* the most interrupts a v7-M NVIC has */
#define QC_CM_WORDS ((QC_CM_IRQS + 31) / 32)
#define QC_CM_ACTIVE (16 + QC_CM_IRQS)   /* more than can ever nest */

/* the registers the hooks touch, numbered as Unicorn numbers them by Python (regs[]) */
enum qc_cm_reg {
    QC_R0, QC_R1, QC_R2, QC_R3, QC_R12, QC_LR, /* the frame, besides pc and xPSR */
    QC_PC, QC_SP, QC_MSP, QC_PSP, QC_XPSR, QC_IPSR, QC_CONTROL,
    QC_PRIMASK, QC_BASEPRI, QC_FAULTMASK, QC_REGS
};

/* the NVIC's state: the Python model (qconf/devices/intc/nvic.py) reads and writes it */
typedef struct qc_nvic {
    uint32_t enabled[QC_CM_WORDS];
    uint32_t pend[QC_CM_WORDS];
    uint32_t level[QC_CM_WORDS]; /* the input lines' levels (level-triggered: pending) */
    uint8_t prio[QC_CM_IRQS];    /* IPR: an interrupt's priority */
    uint8_t shpr[12];            /* SHPR1-3: exceptions 4-15 */
    uint32_t num_irq;
    uint32_t prigroup;           /* AIRCR.PRIGROUP */
    uint32_t systick_pending;
    uint32_t pendsv_pending;
    uint32_t vtor;               /* VTOR, if vtor_set (else the core's reset vtor) */
    uint32_t vtor_set;
} qc_nvic;

/* Python's part: intno as Unicorn gave it (or QC_CM_ERROR | uc_err: a memory access of
   an entry or return failed) */
typedef void (*qc_cm_python_fn)(uint32_t intno);
#define QC_CM_ERROR 0x80000000u

typedef uc_err (*uc_reg_write_fn)(uc_engine *uc, int regid, const void *value);
typedef uc_err (*uc_reg_batch_fn)(uc_engine *uc, const int *regs, void *const *vals,
                                  int count);
typedef uc_err (*uc_mem_read_fn)(uc_engine *uc, uint64_t address, void *bytes,
                                 uint64_t size);
typedef uc_err (*uc_mem_write_fn)(uc_engine *uc, uint64_t address, const void *bytes,
                                  uint64_t size);

/* one core's exception state */
typedef struct qc_cm {
    qc_nvic *nvic;             /* NULL: no NVIC serves the core */
    qc_counter *counter;
    qc_cm_python_fn python;    /* what the hook leaves to Python (semihosting, faults) */
    uc_reg_read_fn reg_read;
    uc_reg_write_fn reg_write;
    uc_reg_batch_fn reg_read_batch;
    uc_reg_batch_fn reg_write_batch;
    uc_mem_read_fn mem_read;
    uc_mem_write_fn mem_write;
    int32_t regs[QC_REGS];     /* Unicorn's numbers of enum qc_cm_reg */
    uint32_t vtor;             /* the vector table at reset (the core's vtor) */
    uint32_t pc;               /* the core's pc as Python's core.pc would hold it */
    uint32_t all_python;       /* 1: hand every exception to Python (tracing) */
    uint32_t depth;            /* active exceptions */
    uint64_t entries;          /* exceptions entered here (for the bench) */
    uint16_t active[QC_CM_ACTIVE]; /* the innermost last */
} qc_cm;

int32_t qc_cm_pending(const qc_cm *s);
int32_t qc_cm_takeable(uc_engine *uc, qc_cm *s, int32_t number, uint32_t primask);
uint32_t qc_cm_masked(uc_engine *uc, qc_cm *s);
uint32_t qc_cm_urgent(const qc_cm *s);
int32_t qc_cm_execution_priority(uc_engine *uc, qc_cm *s, uint32_t primask);
uint32_t qc_cm_enter(uc_engine *uc, qc_cm *s, uint32_t number, uint32_t return_pc);
uint32_t qc_cm_unstack(uc_engine *uc, qc_cm *s, uint32_t exc_return);
void qc_cm_intr(uc_engine *uc, uint32_t intno, qc_cm *s);

#endif
