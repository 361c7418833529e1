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
        ldr     x3, =halt
        ldr     w3, [x3]
        cbz     w3, 2f
        ldr     x0, =0x84000008         // PSCI SYSTEM_OFF (halt = 1: alone on QEMU)
        hvc     #0
2:      wfi
        b       2b

        .data
        .global iterations, halt
        .align 3
iterations: .word 1000000
halt:   .word 0
