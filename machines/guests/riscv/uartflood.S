# Benchmark guest: `iterations` writes to the NS16550A's THR (no polling), then power off.
        .section .text.start
        .globl _start
_start:
        la      t3, iterations
        lwu     t0, 0(t3)
        li      t1, 0x10000000
        li      t2, 'x'
1:      sb      t2, 0(t1)
        addi    t0, t0, -1
        bnez    t0, 1b
        li      a0, 0
        call    poweroff

        .data
        .globl iterations
        .align 3
iterations: .word 100000
