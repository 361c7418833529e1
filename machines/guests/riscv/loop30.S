# Benchmark guest: `iterations` rounds of a 30-instruction loop (seven xorshift steps, a
# counter and a branch), then power off. bench/emulate.py patches `iterations`.
        .section .text.start
        .globl _start
_start:
        la      t3, iterations
        lwu     t0, 0(t3)
        li      t1, 0x2545F491
1:
        slli    t2, t1, 13
        xor     t1, t1, t2
        srli    t2, t1, 7
        xor     t1, t1, t2
        slli    t2, t1, 13
        xor     t1, t1, t2
        srli    t2, t1, 7
        xor     t1, t1, t2
        slli    t2, t1, 13
        xor     t1, t1, t2
        srli    t2, t1, 7
        xor     t1, t1, t2
        slli    t2, t1, 13
        xor     t1, t1, t2
        srli    t2, t1, 7
        xor     t1, t1, t2
        slli    t2, t1, 13
        xor     t1, t1, t2
        srli    t2, t1, 7
        xor     t1, t1, t2
        slli    t2, t1, 13
        xor     t1, t1, t2
        srli    t2, t1, 7
        xor     t1, t1, t2
        slli    t2, t1, 13
        xor     t1, t1, t2
        srli    t2, t1, 7
        xor     t1, t1, t2
        addi    t0, t0, -1
        bnez    t0, 1b
        li      a0, 0
        call    poweroff

        .data
        .globl iterations
        .align 3
iterations: .word 1000000
