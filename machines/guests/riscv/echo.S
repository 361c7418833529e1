# Echo on riscv-virt: print what arrives on the NS16550A until a 'q', then power off.
        .equ UART, 0x10000000

        .section .text.start
        .globl _start
_start:
        la      sp, stack_top
        la      a0, hello
        call    puts
loop:   li      t0, UART
1:      lbu     t1, 5(t0)               # LSR: data ready?
        andi    t1, t1, 1
        beqz    t1, 1b
        lbu     a0, 0(t0)
        li      t1, 'q'
        beq     a0, t1, quit
        call    putc
        j       loop
quit:   la      a0, bye
        call    puts
        li      a0, 0
        call    poweroff

        .section .rodata
hello:  .asciz "echo: type, q quits\n"
bye:    .asciz "bye\n"
