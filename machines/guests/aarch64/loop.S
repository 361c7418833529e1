// Benchmark guest: `iterations` rounds of a 6-instruction xorshift loop, then wait.
        .section .text.start
        .global _start
_start:
        ldr     x3, =iterations
        ldr     w0, [x3]
        ldr     x1, =0x2545F491
1:      eor     x1, x1, x1, lsl #13
        eor     x1, x1, x1, lsr #7
        eor     x1, x1, x1, lsl #17
        add     x2, x2, x1
        subs    x0, x0, #1
        b.ne    1b
2:      wfi
        b       2b

        .data
        .global iterations
        .align 3
iterations: .word 1000000
