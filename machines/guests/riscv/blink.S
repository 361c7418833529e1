# Counts the blinks of the test plugin's blinker device (tests/plugins/qconf-demo-plugin:
# CTRL +0x0 bit 0 switches it on, COUNT +0x4 counts the blinks since, a write to ACK +0x8
# drops its interrupt) at 0x3000_0000, wired to PLIC source 5. Each blink's interrupt wakes
# the hart, which prints the count; after three blinks it powers off.
        .equ PLIC, 0x0c000000
        .equ BLINKER, 0x30000000

        .section .text.start
        .globl _start
_start:
        la      sp, stack_top
        la      t0, trap
        csrw    mtvec, t0
        li      a0, 5                   # the blinker's PLIC source
        call    plic_enable
        li      s1, 0                   # blinks the handler saw
        li      s3, 0                   # blinks printed
        li      t0, BLINKER
        li      t1, 1
        sw      t1, 0(t0)               # on
wait:   wfi
        beq     s1, s3, wait
        mv      s3, s1
        la      a0, msg
        call    puts
        mv      a0, s3
        call    putdec
        li      a0, '\n'
        call    putc
        li      t0, 3
        blt     s3, t0, wait
        li      a0, 0
        call    poweroff

        .align 4
trap:   li      t0, PLIC + 0x200004
        lw      t2, 0(t0)               # claim
        li      t1, BLINKER
        lw      s1, 4(t1)               # COUNT
        sw      zero, 8(t1)             # ACK: the line drops
        sw      t2, 0(t0)               # complete
        mret

        .section .rodata
msg:    .asciz "blink "
