# Hello world on riscv-virt: print a line on the NS16550A, then power off with status 0.
        .section .text.start
        .globl _start
_start:
        la      sp, stack_top
        csrr    a0, mhartid
        bnez    a0, park            # one hart prints
        la      a0, msg
        call    puts
        li      a0, 0
        call    poweroff
park:   wfi
        j       park

        .section .rodata
msg:    .asciz "Hello from riscv-virt (rv64, ns16550a)\n"
