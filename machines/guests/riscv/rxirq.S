# Interrupt-driven echo: the NS16550A's "data ready" interrupt (PLIC source 10) wakes the
# hart from wfi; the handler claims it, echoes every byte waiting, completes it. A 'q'
# ends the demo. The hart sleeps in wfi between keys, so qconf waits for input without
# spinning.
        .equ PLIC, 0x0c000000
        .equ UART, 0x10000000

        .section .text.start
        .globl _start
_start:
        la      sp, stack_top
        la      t0, trap
        csrw    mtvec, t0
        la      a0, hello
        call    puts
        li      a0, 10                  # the UART's PLIC source
        call    plic_enable
        li      s1, 0                   # set by the handler on 'q'
        li      t0, UART
        li      t1, 1
        sb      t1, 1(t0)               # IER: received data available
wait:   wfi
        beqz    s1, wait
        la      a0, bye
        call    puts
        li      a0, 0
        call    poweroff

        .align 4
trap:   addi    sp, sp, -16
        sd      ra, 8(sp)
        li      t0, PLIC + 0x200004
        lw      s2, 0(t0)               # claim
1:      li      t0, UART
        lbu     t1, 5(t0)               # LSR: data ready?
        andi    t1, t1, 1
        beqz    t1, 2f
        lbu     a0, 0(t0)
        li      t1, 'q'
        bne     a0, t1, 3f
        li      s1, 1
        j       1b
3:      call    putc
        j       1b
2:      li      t0, PLIC + 0x200004
        sw      s2, 0(t0)               # complete
        ld      ra, 8(sp)
        addi    sp, sp, 16
        mret

        .section .rodata
hello:  .asciz "irq echo: type, q quits\n"
bye:    .asciz "\nbye\n"
