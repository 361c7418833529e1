@ SysTick on mps2-an385: an exception every 10 ms (250,000 cycles at 25 MHz); the
@ handler prints a tick; the main loop waits with wfi; after 3 ticks, exit with status 0.
        .syntax unified
        .cpu cortex-m3
        .thumb
        .equ SYST_CSR, 0xE000E010
        .equ RELOAD, 250000 - 1

        .section .vectors, "a"
        .word   stack_top
        .word   reset
        .rept   13
        .word   fault
        .endr
        .word   systick         @ exception 15

        .text
        .thumb_func
        .global reset
reset:
        bl      uart_init
        ldr     r0, =hello
        bl      puts
        ldr     r1, =ticks
        movs    r0, #0
        str     r0, [r1]
        ldr     r1, =SYST_CSR
        ldr     r0, =RELOAD
        str     r0, [r1, #4]    @ RVR
        movs    r0, #0
        str     r0, [r1, #8]    @ CVR
        movs    r0, #7          @ ENABLE | TICKINT | CLKSOURCE (core clock)
        str     r0, [r1]
wait:   wfi
        ldr     r1, =ticks
        ldr     r0, [r1]
        cmp     r0, #3
        blt     wait
        ldr     r1, =SYST_CSR
        movs    r0, #0
        str     r0, [r1]
        ldr     r0, =bye
        bl      puts
        movs    r0, #0
        bl      exit

        .thumb_func
systick:
        push    {r4, lr}
        ldr     r4, =ticks
        ldr     r0, [r4]
        adds    r0, r0, #1
        str     r0, [r4]
        ldr     r0, =tick
        bl      puts
        ldr     r0, [r4]
        bl      putdec
        movs    r0, #'\n'
        bl      putc
        pop     {r4, pc}

        .thumb_func
fault:
        movs    r0, #1
        bl      exit

        .section .rodata
hello:  .asciz "systick demo: 3 ticks, 10 ms apart\n"
tick:   .asciz "tick "
bye:    .asciz "done\n"

        .bss
ticks:  .word 0
