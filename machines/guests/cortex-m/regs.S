@ Exception entry and return on mps2-an385, checked by the guest: a SysTick exception
@ taken between two instructions must arrive with IPSR 15 and, on return, leave r0-r3,
@ r12 (restored from the stacked frame) and r4-r7 as they were.
        .syntax unified
        .cpu cortex-m3
        .thumb
        .equ SYST_CSR, 0xE000E010

        .section .vectors, "a"
        .word   stack_top
        .word   reset
        .rept   13
        .word   fault
        .endr
        .word   systick

        .text
        .thumb_func
        .global reset
reset:
        bl      uart_init
        ldr     r0, =hello
        bl      puts
        ldr     r1, =SYST_CSR
        ldr     r0, =999                @ 40 us at 25 MHz
        str     r0, [r1, #4]
        movs    r0, #0
        str     r0, [r1, #8]
        ldr     r0, =0x11111111
        ldr     r1, =0x22222222
        ldr     r2, =0x33333333
        ldr     r3, =0x44444444
        ldr     r4, =0x55555555
        ldr     r5, =0x66666666
        ldr     r6, =seen
        ldr     r7, =0x77777777
        mov     r12, r7
        push    {r0, r1}
        ldr     r0, =SYST_CSR
        movs    r1, #7
        str     r1, [r0]                @ go
        pop     {r0, r1}
1:      ldr     r5, [r6]                @ spin until the handler has run
        cmp     r5, #0
        beq     1b
        ldr     r5, =0x11111111
        cmp     r0, r5
        bne     broken
        ldr     r5, =0x22222222
        cmp     r1, r5
        bne     broken
        ldr     r5, =0x33333333
        cmp     r2, r5
        bne     broken
        ldr     r5, =0x44444444
        cmp     r3, r5
        bne     broken
        ldr     r5, =0x55555555
        cmp     r4, r5
        bne     broken
        ldr     r5, =0x77777777
        cmp     r12, r5
        bne     broken
        cmp     r7, r5
        bne     broken
        mrs     r5, ipsr
        cmp     r5, #0
        bne     broken
        ldr     r0, [r6]
        cmp     r0, #15
        bne     badipsr
        ldr     r0, =ok
        bl      puts
        movs    r0, #0
        bl      exit
broken: ldr     r0, =bad
        bl      puts
        movs    r0, #1
        bl      exit
badipsr:
        ldr     r0, =bad_ipsr
        bl      puts
        movs    r0, #1
        bl      exit

        .thumb_func
systick:                                @ clobbers r0-r3, r12: the frame restores them
        ldr     r1, =SYST_CSR
        movs    r0, #0
        str     r0, [r1]                @ stop SysTick
        mrs     r0, ipsr
        ldr     r1, =seen
        str     r0, [r1]
        movs    r2, #0
        movs    r3, #0
        mov     r12, r2
        bx      lr

        .thumb_func
fault:
        movs    r0, #1
        bl      exit

        .section .rodata
hello:  .asciz "exception checks\n"
ok:     .asciz "systick: IPSR 15 in the handler, registers intact after return: ok\n"
bad:    .asciz "registers changed by the exception\n"
bad_ipsr: .asciz "wrong IPSR in the handler\n"

        .bss
seen:   .word 0
