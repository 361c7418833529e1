@ CMSDK APB timer 0 on mps2-an385: reload 250,000 at 25 MHz (10 ms), interrupt on NVIC
@ line 8; the handler prints a tick and clears the interrupt; after 3 ticks, exit 0.
        .syntax unified
        .cpu cortex-m3
        .thumb
        .equ TIMER0, 0x40000000
        .equ NVIC_ISER0, 0xE000E100

        .section .vectors, "a"
        .word   stack_top
        .word   reset
        .rept   22
        .word   fault
        .endr
        .word   timer0          @ exception 24 = IRQ 8

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
        ldr     r1, =NVIC_ISER0
        ldr     r0, =(1 << 8)
        str     r0, [r1]
        ldr     r1, =TIMER0
        ldr     r0, =250000
        str     r0, [r1, #8]    @ RELOAD (and VALUE)
        str     r0, [r1, #4]    @ VALUE
        movs    r0, #9          @ enable | interrupt enable
        str     r0, [r1]
wait:   wfi
        ldr     r1, =ticks
        ldr     r0, [r1]
        cmp     r0, #3
        blt     wait
        ldr     r1, =TIMER0
        movs    r0, #0
        str     r0, [r1]
        ldr     r0, =bye
        bl      puts
        movs    r0, #0
        bl      exit

        .thumb_func
timer0:
        push    {r4, lr}
        ldr     r1, =TIMER0
        movs    r0, #1
        str     r0, [r1, #12]   @ INTCLEAR
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
hello:  .asciz "timer demo: 3 ticks, 10 ms apart\n"
tick:   .asciz "tick "
bye:    .asciz "done\n"

        .bss
ticks:  .word 0
