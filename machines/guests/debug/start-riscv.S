# Start-up of count.c on riscv-virt: a stack, main, then power off through sifive_test
# with main's status (0x5555: status 0; else 0x3333 with the status).
        .section .text.start
        .globl _start
_start:
        la      sp, stack_top
        call    main
        li      t0, 0x100000
        li      t1, 0x5555
        beqz    a0, 1f
        slli    t1, a0, 16
        ori     t1, t1, 0x333
        li      t2, 0x3000
        or      t1, t1, t2
1:      sw      t1, 0(t0)
2:      j       2b
