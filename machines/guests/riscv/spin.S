# Virtual time follows the CPU clock: spin for 1,000,000 loop iterations (2,000,000
# instructions), then print the CLINT's mtime (10 MHz ticks) and power off. At 1 GHz that
# is about 2 ms (20,000 ticks); at 100 MHz about 20 ms (200,000 ticks).
        .equ MTIME, 0x2000000 + 0xbff8

        .section .text.start
        .globl _start
_start:
        la      sp, stack_top
        li      t0, 1000000
1:      addi    t0, t0, -1
        bnez    t0, 1b
        la      a0, msg
        call    puts
        li      t0, MTIME
        ld      a0, 0(t0)
        call    putdec
        li      a0, '\n'
        call    putc
        li      a0, 0
        call    poweroff

        .section .rodata
msg:    .asciz "mtime after 2000000 instructions: "
