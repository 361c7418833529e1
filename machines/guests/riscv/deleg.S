# Trap delegation on riscv-virt, checked by the guest: with medeleg delegating illegal
# instructions, one executed in S-mode must reach the S-mode handler (scause 2, sepc at
# it); an ecall from S-mode, not delegated, must reach the M-mode handler (mcause 9).
        .section .text.start
        .globl _start
_start:
        la      sp, stack_top
        la      t0, mtrap
        csrw    mtvec, t0
        la      t0, strap
        csrw    stvec, t0
        li      t0, -1                  # PMP: let S-mode reach all memory
        csrw    pmpaddr0, t0
        li      t0, 0x1f                # NAPOT, read, write, execute
        csrw    pmpcfg0, t0
        li      t0, 1 << 2              # delegate illegal instructions to S
        csrw    medeleg, t0
        la      a0, hello
        call    puts
        li      t0, 3 << 11             # mstatus.MPP = S
        csrc    mstatus, t0
        li      t0, 1 << 11
        csrs    mstatus, t0
        la      t0, s_entry
        csrw    mepc, t0
        mret

s_entry:
illegal_at:
        .word   0                       # illegal: delegated to S
        la      a0, ok_s
        call    puts
ecall_at:
        ecall                           # from S: cause 9, to M
        la      a0, lost
        call    puts
        li      a0, 1
        call    poweroff

        .align 4
strap:  csrr    t0, scause
        li      t1, 2
        bne     t0, t1, bad
        csrr    t0, sepc
        la      t1, illegal_at
        bne     t0, t1, bad
        addi    t0, t0, 4
        csrw    sepc, t0
        sret

        .align 4
mtrap:  csrr    t0, mcause
        li      t1, 9
        bne     t0, t1, bad
        csrr    t0, mepc
        la      t1, ecall_at
        bne     t0, t1, bad
        csrr    t0, mstatus             # MPP says it came from S
        srli    t0, t0, 11
        andi    t0, t0, 3
        li      t1, 1
        bne     t0, t1, bad
        la      a0, ok_m
        call    puts
        li      a0, 0
        call    poweroff
bad:    la      a0, wrong
        call    puts
        li      a0, 1
        call    poweroff

        .section .rodata
hello:  .asciz "delegation checks\n"
ok_s:   .asciz "illegal instruction in S: delegated to the S handler (scause 2, sepc at it): ok\n"
ok_m:   .asciz "ecall from S: taken in M (mcause 9, mepc at it, MPP = S): ok\n"
lost:   .asciz "ecall returned\n"
wrong:  .asciz "wrong cause or epc\n"
