@ Start-up of count.c on mps2-an385: the vector table, main, then semihosting
@ SYS_EXIT_EXTENDED with main's status (as QEMU's -semihosting takes it).
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
        bl      main
        ldr     r1, =block
        str     r0, [r1, #4]
        movs    r0, #0x20               @ SYS_EXIT_EXTENDED
        bkpt    0xab
1:      b       1b

        .data
block:  .word   0x20026, 0              @ ADP_Stopped_ApplicationExit, status
