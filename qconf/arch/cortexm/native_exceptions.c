/*
 * Cortex-M exception entry and return as v7-M does them (see native_exceptions.h): the
 * interrupt hook returns from exceptions (EXC_RETURN reached), tail-chains into what is
 * pending, and enters SVCall on svc; the scheduler calls qc_cm_enter between slices.
 * The same steps, in the same order (which the engine's register banking depends on),
 * are Python's in qconf/arch/cortexm/exceptions.py.
 */
#include <string.h>

#include "native_exceptions.h"

#define SWI 2
#define EXCEPTION_EXIT 8
#define SVCALL 11
#define EXC_RETURN 0xFFFFFFF9u         /* to thread mode, main stack */
#define EXC_RETURN_PSP 0xFFFFFFFDu     /* to thread mode, process stack */
#define EXC_RETURN_HANDLER 0xFFFFFFF1u /* to the preempted handler */

static uint32_t rd(uc_engine *uc, const qc_cm *s, int which)
{
    uint64_t value = 0; /* a 32-bit register fills half of it */
    s->reg_read(uc, s->regs[which], &value);
    return (uint32_t)value;
}

static void wr(uc_engine *uc, const qc_cm *s, int which, uint32_t value)
{
    uint64_t wide = value;
    s->reg_write(uc, s->regs[which], &wide);
}

/* an exception's priority: fixed for reset, NMI and HardFault, else SHPR or IPR */
static int32_t priority(const qc_nvic *v, uint32_t number)
{
    if (number < 4) {
        return (int32_t)number - 4;
    }
    if (number < 16) {
        return v->shpr[number - 4];
    }
    return number - 16 < v->num_irq ? v->prio[number - 16] : 256;
}

/* the part of a priority value that decides preemption (AIRCR.PRIGROUP) */
static int32_t group_of(const qc_nvic *v, int32_t value)
{
    if (value < 0) {
        return value;
    }
    return value & ~((2 << v->prigroup) - 1) & 0xFF;
}

static int32_t group(const qc_nvic *v, uint32_t number)
{
    return group_of(v, priority(v, number));
}

static int32_t active_priority(const qc_cm *s)
{
    int32_t prio = 256;
    for (uint32_t i = 0; i < s->depth; i++) {
        int32_t g = group(s->nvic, s->active[i]);
        prio = g < prio ? g : prio;
    }
    return prio;
}

static int is_active(const qc_cm *s, uint32_t number)
{
    for (uint32_t i = 0; i < s->depth; i++) {
        if (s->active[i] == number) {
            return 1;
        }
    }
    return 0;
}

/* the most urgent pending and enabled exception (lowest priority, then lowest number),
   whether or not the core can take it now; -1: none */
int32_t qc_cm_pending(const qc_cm *s)
{
    const qc_nvic *v = s->nvic;
    int32_t best = -1, best_prio = 0;
    if (v == NULL) {
        return -1;
    }
    if (v->pendsv_pending) {
        best = 14;
        best_prio = v->shpr[10];
    }
    if (v->systick_pending && (best < 0 || v->shpr[11] < best_prio)) {
        best = 15;
        best_prio = v->shpr[11];
    }
    for (uint32_t w = 0; w < QC_CM_WORDS && w * 32 < v->num_irq; w++) {
        uint32_t bits = (v->pend[w] | v->level[w]) & v->enabled[w];
        while (bits) {
            uint32_t n = w * 32 + (uint32_t)__builtin_ctz(bits);
            bits &= bits - 1;
            if (n >= v->num_irq) {
                break;
            }
            if ((best < 0 || v->prio[n] < best_prio) && !is_active(s, 16 + n)) {
                best = (int32_t)(16 + n);
                best_prio = v->prio[n];
            }
        }
    }
    return best;
}

static int32_t execution_priority(uc_engine *uc, const qc_cm *s, uint32_t primask)
{
    int32_t prio = active_priority(s);
    uint32_t basepri = rd(uc, s, QC_BASEPRI) & 0xFF;
    if (basepri) {
        int32_t g = group_of(s->nvic, (int32_t)basepri);
        prio = g < prio ? g : prio;
    }
    if (primask && (rd(uc, s, QC_PRIMASK) & 1)) {
        prio = prio < 0 ? prio : 0;
    }
    if (rd(uc, s, QC_FAULTMASK) & 1) {
        prio = prio < -1 ? prio : -1;
    }
    return prio;
}

int32_t qc_cm_execution_priority(uc_engine *uc, qc_cm *s, uint32_t primask)
{
    return execution_priority(uc, s, primask);
}

/* the pending exception number (-1: the most urgent) if it would preempt; -1: none */
int32_t qc_cm_takeable(uc_engine *uc, qc_cm *s, int32_t number, uint32_t primask)
{
    if (s->nvic == NULL) {
        return -1;
    }
    if (number < 0) {
        number = qc_cm_pending(s);
    }
    if (number < 0 || group(s->nvic, (uint32_t)number) >= execution_priority(uc, s, primask)) {
        return -1;
    }
    return number;
}

/* whether a pending exception waits only for BASEPRI, PRIMASK or FAULTMASK */
uint32_t qc_cm_masked(uc_engine *uc, qc_cm *s)
{
    int32_t number = qc_cm_pending(s);
    if (number < 0) {
        return 0;
    }
    return group(s->nvic, (uint32_t)number) < active_priority(s) &&
           qc_cm_takeable(uc, s, number, 1) < 0;
}

/* whether a pending exception preempts the active ones (it is takeable, or will be once
   BASEPRI, PRIMASK or FAULTMASK allow): else only an exception return can make one
   takeable, and the return takes it (tail-chaining) */
uint32_t qc_cm_urgent(const qc_cm *s)
{
    int32_t number = qc_cm_pending(s);
    return number >= 0 && group(s->nvic, (uint32_t)number) < active_priority(s);
}

/* entry: the frame on the stack in use, handler mode on the main stack, LR = EXC_RETURN,
   the vector; 0, else the uc_err of a memory access that failed */
uint32_t qc_cm_enter(uc_engine *uc, qc_cm *s, uint32_t number, uint32_t return_pc)
{
    qc_nvic *v = s->nvic;
    uint64_t values[6] = {0};
    void *ptrs[6];
    uint32_t frame[8], vector, vtor;
    int in_handler = rd(uc, s, QC_IPSR) != 0;
    uint32_t control = rd(uc, s, QC_CONTROL);
    int on_psp = !in_handler && (control & 2);
    uint32_t sp = rd(uc, s, QC_SP);
    uint32_t xpsr = rd(uc, s, QC_XPSR);
    uint32_t align = sp & 4;
    uc_err err;
    sp = (sp - 32) & ~7u;
    for (int i = 0; i < 6; i++) {
        ptrs[i] = &values[i];
    }
    s->reg_read_batch(uc, s->regs, ptrs, 6);
    for (int i = 0; i < 6; i++) {
        frame[i] = (uint32_t)values[i];
    }
    frame[6] = return_pc;
    frame[7] = xpsr | align << 7;
    err = s->mem_write(uc, sp, frame, sizeof frame); /* little-endian host */
    if (err) {
        return (uint32_t)err;
    }
    wr(uc, s, QC_SP, sp);
    if (on_psp) { /* onto the main stack (in thread mode, so the engine swaps them) */
        wr(uc, s, QC_CONTROL, control & ~2u);
    }
    wr(uc, s, QC_LR, in_handler ? EXC_RETURN_HANDLER : on_psp ? EXC_RETURN_PSP : EXC_RETURN);
    wr(uc, s, QC_XPSR, 1u << 24 | number);
    if (number == 15) { /* acknowledged: no longer pending */
        v->systick_pending = 0;
    } else if (number == 14) {
        v->pendsv_pending = 0;
    } else if (number >= 16) {
        v->pend[(number - 16) >> 5] &= ~(1u << ((number - 16) & 31));
    }
    if (s->depth < QC_CM_ACTIVE) {
        s->active[s->depth++] = (uint16_t)number;
    }
    vtor = v->vtor_set ? v->vtor : s->vtor;
    err = s->mem_read(uc, vtor + 4 * (uint64_t)number, &vector, 4);
    if (err) {
        return (uint32_t)err;
    }
    s->pc = vector & ~1u;
    wr(uc, s, QC_PC, s->pc | 1);
    s->entries++;
    return 0;
}

/* return: unstack from the stack EXC_RETURN names, back to the mode it names */
uint32_t qc_cm_unstack(uc_engine *uc, qc_cm *s, uint32_t exc_return)
{
    uint64_t values[6];
    void *ptrs[6];
    uint32_t frame[8];
    int to_thread = (exc_return & 8) != 0, from_psp = (exc_return & 4) != 0;
    uint32_t sp;
    uc_err err;
    if (s->depth) {
        s->depth--;
    }
    sp = rd(uc, s, from_psp ? QC_PSP : QC_MSP);
    err = s->mem_read(uc, sp, frame, sizeof frame);
    if (err) {
        return (uint32_t)err;
    }
    for (int i = 0; i < 6; i++) {
        values[i] = frame[i];
        ptrs[i] = &values[i];
    }
    s->reg_write_batch(uc, s->regs, ptrs, 6);
    wr(uc, s, QC_XPSR, frame[7] & ~(1u << 9)); /* the mode it was in */
    if (to_thread && from_psp) {                /* back onto the process stack */
        wr(uc, s, QC_CONTROL, rd(uc, s, QC_CONTROL) | 2);
    }
    wr(uc, s, QC_SP, sp + 32 + (frame[7] >> 9 & 1 ? 4 : 0));
    s->pc = frame[6] & ~1u;
    wr(uc, s, QC_PC, frame[6] | 1);
    return 0;
}

void qc_cm_intr(uc_engine *uc, uint32_t intno, qc_cm *s)
{
    uint32_t err, pc;
    int32_t number;
    if (s->all_python) {
        s->python(intno);
        return;
    }
    if (intno == EXCEPTION_EXIT) {
        err = qc_cm_unstack(uc, s, rd(uc, s, QC_PC) | 1);
        if (!err && (number = qc_cm_takeable(uc, s, -1, 1)) >= 0) { /* tail-chain */
            err = qc_cm_enter(uc, s, (uint32_t)number, s->pc);
        }
    } else if (intno == SWI && s->nvic != NULL &&
               group(s->nvic, SVCALL) < execution_priority(uc, s, 1)) {
        pc = rd(uc, s, QC_PC); /* past the svc */
        qc_exception_at(uc, s->counter, pc - 2);
        err = qc_cm_enter(uc, s, SVCALL, pc);
    } else {
        s->python(intno); /* semihosting, an svc that cannot be taken, faults */
        return;
    }
    if (err) {
        s->python(QC_CM_ERROR | err);
    }
}
