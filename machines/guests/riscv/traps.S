# Trap entry and return on riscv-virt, checked by the guest itself: an ecall and an
# illegal instruction must arrive with the right mcause and mepc, and a timer interrupt
# taken between two instructions must leave every register as it was.
        .equ CLINT, 0x2000000
        .equ MTIMECMP, CLINT + 0x4000
        .equ MTIME, CLINT + 0xbff8

        .section .text.start
        .globl _start
_start:
        la      sp, stack_top
        la      t0, trap
        csrw    mtvec, t0
        la      a0, hello
        call    puts

        la      s1, expect              # the handler checks mcause against expect[0]
        li      t0, 11                  # ecall from M-mode
        sd      t0, 0(s1)
ecall_at:
        ecall
        la      a0, ok_ecall
        call    puts

        li      t0, 2                   # illegal instruction
        sd      t0, 0(s1)
illegal_at:
        .word   0                       # not an instruction
        la      a0, ok_illegal
        call    puts

        li      t0, -1                  # an interrupt: any cause with the top bit set
        sd      t0, 0(s1)
        li      s2, 0x1111111111111111  # patterns the interrupt must not disturb
        li      s3, 0x2222222222222222
        li      s4, 0x3333333333333333
        li      a5, 0x4444444444444444
        li      t5, 0x5555555555555555
        li      t0, MTIME
        ld      t1, 0(t0)
        addi    t1, t1, 100             # 10 us from now
        li      t0, MTIMECMP
        sd      t1, 0(t0)
        li      t0, 0x80
        csrs    mie, t0
        li      t0, 0x5555555555555555
        csrsi   mstatus, 0x8
1:      ld      t1, 8(s1)               # spin (no wfi) until the handler has run
        beqz    t1, 1b
        csrci   mstatus, 0x8
        li      t1, 0x1111111111111111
        bne     s2, t1, broken
        li      t1, 0x2222222222222222
        bne     s3, t1, broken
        li      t1, 0x3333333333333333
        bne     s4, t1, broken
        li      t1, 0x4444444444444444
        bne     a5, t1, broken
        li      t1, 0x5555555555555555
        bne     t5, t1, broken
        bne     t0, t1, broken
        la      a0, ok_irq
        call    puts
        la      a0, bye
        call    puts
        li      a0, 0
        call    poweroff
broken: la      a0, bad_regs
        call    puts
        li      a0, 1
        call    poweroff

# The handler saves what it uses, checks mcause, steps over synchronous causes, and for
# the timer interrupt disarms the timer and records that it ran.
        .align 4
trap:   addi    sp, sp, -48
        sd      t0, 0(sp)
        sd      t1, 8(sp)
        sd      t2, 16(sp)
        sd      a0, 24(sp)
        sd      ra, 32(sp)
        la      t2, expect
        ld      t0, 0(t2)
        csrr    t1, mcause
        bltz    t0, interrupt
        bne     t0, t1, wrong
        csrr    t1, mepc
        la      t0, ecall_at
        li      a0, 11
        ld      ra, 0(t2)
        beq     ra, a0, 2f
        la      t0, illegal_at
2:      bne     t0, t1, wrong           # mepc is the trapping instruction
        addi    t1, t1, 4
        csrw    mepc, t1
        j       done
interrupt:
        bgez    t1, wrong
        li      t0, MTIMECMP
        li      t1, -1
        sd      t1, 0(t0)               # disarm
        li      t1, 1
        sd      t1, 8(t2)
done:   ld      t0, 0(sp)
        ld      t1, 8(sp)
        ld      t2, 16(sp)
        ld      a0, 24(sp)
        ld      ra, 32(sp)
        addi    sp, sp, 48
        mret
wrong:  la      a0, bad_cause
        call    puts
        li      a0, 1
        call    poweroff

        .section .rodata
hello:  .asciz "trap checks\n"
ok_ecall: .asciz "ecall: mcause 11, mepc at the ecall: ok\n"
ok_illegal: .asciz "illegal instruction: mcause 2, mepc at it: ok\n"
ok_irq: .asciz "timer interrupt: registers intact: ok\n"
bye:    .asciz "done\n"
bad_cause: .asciz "wrong mcause or mepc\n"
bad_regs: .asciz "registers changed by the interrupt\n"

        .data
        .align 3
expect: .dword 0, 0
