@ A guest whose instruction count is known exactly: 16- and 32-bit Thumb-2 instructions
@ mixed in a loop with an IT block whose second (32-bit) instruction's condition fails
@ (it counts: it was issued, as QEMU's icount counts it), then a semihosting exit.
@ tests/test_counting.py asserts qconf's count in both timings, with and without native
@ hooks: 2 (set-up) + 9 * 50000 (loop) + 3 (exit) = 450005
        .syntax unified
        .cpu cortex-m3
        .thumb

        .section .vectors, "a"
        .word   stack_top
        .word   reset

        .text
        .thumb_func
        .global reset
reset:
        movw    r0, #50000              @ 32-bit
        movs    r1, #0                  @ 16-bit
loop:
        adds    r1, #3                  @ 16-bit
        add.w   r2, r1, #5              @ 32-bit
        eor.w   r3, r2, r1              @ 32-bit
        cmp     r1, r2                  @ 16-bit: r1 < r2
        ite     lt                      @ 16-bit
        addlt   r1, r1, #1              @ 16-bit, runs
        subge.w r3, r3, #1              @ 32-bit, condition fails: skipped
        subs    r0, #1                  @ 16-bit
        bne     loop                    @ 16-bit
        movs    r0, #0x18               @ SYS_EXIT
        ldr     r1, =0x20026            @ ADP_Stopped_ApplicationExit
        bkpt    0xab
        .ltorg
