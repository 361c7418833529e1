@ Benchmark guest: `iterations` rounds of a 30-instruction loop (seven xorshift steps, a
@ counter and a branch), then wait, or exit by semihosting when `halt` is 1 (alone on
@ QEMU). bench/emulate.py patches both words.
        .syntax unified
        .cpu cortex-m4
        .thumb

        .section .vectors, "a"
        .word   0x20020000
        .word   reset

        .text
        .thumb_func
        .global reset
reset:
        ldr     r3, =iterations
        ldr     r0, [r3]
        ldr     r1, =0x2545F491
1:
        eor     r1, r1, r1, lsl #13
        eor     r1, r1, r1, lsr #17
        eor     r1, r1, r1, lsl #5
        add     r2, r2, r1
        eor     r1, r1, r1, lsl #13
        eor     r1, r1, r1, lsr #17
        eor     r1, r1, r1, lsl #5
        add     r2, r2, r1
        eor     r1, r1, r1, lsl #13
        eor     r1, r1, r1, lsr #17
        eor     r1, r1, r1, lsl #5
        add     r2, r2, r1
        eor     r1, r1, r1, lsl #13
        eor     r1, r1, r1, lsr #17
        eor     r1, r1, r1, lsl #5
        add     r2, r2, r1
        eor     r1, r1, r1, lsl #13
        eor     r1, r1, r1, lsr #17
        eor     r1, r1, r1, lsl #5
        add     r2, r2, r1
        eor     r1, r1, r1, lsl #13
        eor     r1, r1, r1, lsr #17
        eor     r1, r1, r1, lsl #5
        add     r2, r2, r1
        eor     r1, r1, r1, lsl #13
        eor     r1, r1, r1, lsr #17
        eor     r1, r1, r1, lsl #5
        add     r2, r2, r1
        subs    r0, r0, #1
        bne     1b
        ldr     r3, =halt
        ldr     r3, [r3]
        cbz     r3, 2f
        movs    r0, #0x18               @ SYS_EXIT
        ldr     r1, =0x20026            @ ADP_Stopped_ApplicationExit
        bkpt    0xab
2:      wfi
        b       2b
        .ltorg

        .data
        .global iterations, halt
        .align 2
iterations: .word 1000000
halt:   .word 0
