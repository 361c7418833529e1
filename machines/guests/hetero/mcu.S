@ hetero-soc, microcontroller (Cortex-M4): sleep until the mailbox interrupt (side B at
@ 0x4001_0020, NVIC line 2), print each request on its UART, answer with the square.
        .syntax unified
        .cpu cortex-m4
        .thumb
        .equ MBOX_B, 0x40010020
        .equ NVIC_ISER0, 0xE000E100

        .section .vectors, "a"
        .word   0x20020000              @ top of mcu.sram
        .word   reset
        .rept   16
        .word   fault
        .endr
        .word   mailbox                 @ exception 18 = IRQ 2

        .text
        .thumb_func
        .global reset
reset:
        bl      uart_init
        ldr     r0, =hello
        bl      puts
        ldr     r1, =MBOX_B
        movs    r0, #1
        str     r0, [r1, #0x14]         @ IRQ_EN: a word is waiting
        ldr     r1, =NVIC_ISER0
        movs    r0, #4
        str     r0, [r1]                @ enable IRQ 2
1:      wfi
        b       1b

        .thumb_func
mailbox:
        push    {r4, lr}
        ldr     r1, =MBOX_B
        ldr     r4, [r1, #0x04]         @ take the request
        ldr     r0, =got
        bl      puts
        mov     r0, r4
        bl      putdec
        movs    r0, #'\n'
        bl      putc
        mul     r0, r4, r4
        ldr     r1, =MBOX_B
        str     r0, [r1]                @ answer
        pop     {r4, pc}

        .thumb_func
fault:  b       fault

        .section .rodata
hello:  .asciz "mcu: cortex-m4 ready\n"
got:    .asciz "mcu: squaring "
