# hetero-soc, application core (riscv64): ask the MCU to square 1, 2 and 3 through the
# mailbox (side A at 0x4001_0000), print each answer, then power off.
        .equ MBOX, 0x40010000
        .equ TX, 0x00
        .equ RX, 0x04
        .equ STATUS, 0x08

        .section .text.start
        .globl _start
_start:
        la      sp, stack_top
        la      a0, hello
        call    puts
        li      s0, 1                   # n
        li      s1, 4
loop:   la      a0, ask
        call    puts
        mv      a0, s0
        call    putdec
        li      a0, '\n'
        call    putc
        li      t0, MBOX
        sw      s0, TX(t0)              # post n to the MCU
wait:   lw      t1, STATUS(t0)          # poll until the answer waits
        andi    t1, t1, 1
        beqz    t1, wait
        lw      s2, RX(t0)
        la      a0, got
        call    puts
        mv      a0, s0
        call    putdec
        la      a0, squared
        call    puts
        mv      a0, s2
        call    putdec
        li      a0, '\n'
        call    putc
        addi    s0, s0, 1
        blt     s0, s1, loop
        la      a0, bye
        call    puts
        li      a0, 0
        call    poweroff

        .section .rodata
hello:  .asciz "app: riscv64 asks, cortex-m4 answers\n"
ask:    .asciz "app: request "
got:    .asciz "app: "
squared: .asciz "^2 = "
bye:    .asciz "app: done\n"
