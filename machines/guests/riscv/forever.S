# Benchmark guest that never ends: the xorshift loop of loop.S, counting its rounds up in
# t0, forever (bench/qmp.py reads t0 to see that the guest keeps running).
        .section .text.start
        .globl _start
_start:
        li      t0, 0
        li      t1, 0x2545F491
1:      slli    t2, t1, 13
        xor     t1, t1, t2
        srli    t2, t1, 7
        xor     t1, t1, t2
        addi    t0, t0, 1
        j       1b
