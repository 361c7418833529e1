# The PLIC of riscv-virt guests that take external interrupts (linked into those).
        .equ PLIC, 0x0c000000

        .section .text
        .globl plic_enable
# plic_enable(a0 = source, below 32): priority 1, enabled for context 0 (hart 0, M-mode)
# at threshold 0, and machine external interrupts enabled (mie.MEIE, mstatus.MIE).
plic_enable:
        li      t0, PLIC
        slli    t1, a0, 2
        add     t1, t0, t1
        li      t2, 1
        sw      t2, 0(t1)               # priority[source] = 1
        sll     t1, t2, a0
        li      t2, PLIC + 0x2000
        sw      t1, 0(t2)               # context 0 enables the source
        li      t2, PLIC + 0x200000
        sw      zero, 0(t2)             # threshold 0
        li      t0, 0x800               # mie.MEIE
        csrs    mie, t0
        csrsi   mstatus, 0x8
        ret
