# An external interrupt through the PLIC: enable the NS16550A's "transmitter empty"
# interrupt (PLIC source 10), take it as a machine external interrupt, claim it, print the
# source, mask it at the UART, complete it, power off.
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
        li      s1, 0
        li      t0, UART
        li      t1, 2
        sb      t1, 1(t0)               # IER: transmitter holding register empty
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
        li      t1, UART
        sb      zero, 1(t1)             # IER = 0: the line drops
        la      a0, claimed
        call    puts
        mv      a0, s2
        call    putdec
        li      a0, '\n'
        call    putc
        li      t0, PLIC + 0x200004
        sw      s2, 0(t0)               # complete
        li      s1, 1
        ld      ra, 8(sp)
        addi    sp, sp, 16
        mret

        .section .rodata
hello:  .asciz "uart interrupt demo\n"
claimed: .asciz "claimed PLIC source "
bye:    .asciz "done\n"
