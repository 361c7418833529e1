@ Shared routines for mps2-an385 guests: CMSDK APB UART0 at 0x4000_4000 and semihosting.
        .syntax unified
        .thumb
        .equ UART0, 0x40004000

        .text
        .global uart_init, putc, puts, putdec, exit
        .thumb_func
uart_init:                      @ enable the transmitter
        ldr     r1, =UART0
        movs    r0, #1
        str     r0, [r1, #8]
        bx      lr

        .thumb_func
putc:                           @ putc(r0): wait while TX is full (STATE bit 0)
        ldr     r1, =UART0
1:      ldr     r2, [r1, #4]
        movs    r3, #1
        tst     r2, r3
        bne     1b
        str     r0, [r1]
        bx      lr

        .thumb_func
puts:                           @ puts(r0 = NUL-terminated string)
        push    {r4, lr}
        mov     r4, r0
1:      ldrb    r0, [r4]
        cmp     r0, #0
        beq     2f
        bl      putc
        adds    r4, r4, #1
        b       1b
2:      pop     {r4, pc}

        .thumb_func
putdec:                         @ putdec(r0 = small unsigned value, < 10)
        push    {lr}
        adds    r0, r0, #'0'
        bl      putc
        pop     {pc}

        .thumb_func
exit:                           @ exit(r0 = status) by semihosting SYS_EXIT_EXTENDED
        sub     sp, sp, #8
        ldr     r1, =0x20026    @ ADP_Stopped_ApplicationExit
        str     r1, [sp]
        str     r0, [sp, #4]
        movs    r0, #0x20
        mov     r1, sp
        bkpt    0xab
1:      b       1b
