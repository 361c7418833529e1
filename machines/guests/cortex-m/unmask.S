@ An exception pended while masked is taken as soon as an unmask makes it takeable, before
@ the next instruction, on mps2-an385 (v7-M B1.5.4: the execution priority changes at once):
@   Pb  PendSV pended under BASEPRI, then msr basepri, 0
@   0p  IRQ0 pended under PRIMASK, then msr primask, 0
@   1i  IRQ1 pended under cpsid i, then cpsie i
@   Pf  PendSV pended under cpsid f (FAULTMASK), then cpsie f
@   Ss  SysTick fires while BASEPRI masks it (seen by COUNTFLAG), then msr basepri, 0
@ Each handler prints its capital or digit, the main program its lower-case letter right
@ after the unmask: "unmask: Pb0p1iPfSs". A delay of a few blocks parts each pend from
@ its unmask. The same binary prints the same on QEMU.
        .syntax unified
        .cpu cortex-m3
        .thumb
        .equ NVIC_ISER, 0xE000E100
        .equ NVIC_ISPR, 0xE000E200
        .equ NVIC_IPR, 0xE000E400
        .equ ICSR, 0xE000ED04
        .equ SHPR3, 0xE000ED20
        .equ SYST_CSR, 0xE000E010
        .equ PENDSVSET, 1 << 28

        .section .vectors, "a"
        .word   stack_top
        .word   reset
        .rept   9
        .word   fault           @ 2-10
        .endr
        .word   fault           @ 11: SVCall
        .word   fault
        .word   fault
        .word   pendsv          @ 14
        .word   systick         @ 15
        .word   irq0            @ 16
        .word   irq1            @ 17

        .text
        .thumb_func
        .global reset
reset:
        bl      uart_init
        ldr     r0, =hello
        bl      puts
        ldr     r1, =NVIC_IPR   @ IRQ0 and IRQ1 0x40
        movs    r0, #0x40
        strb    r0, [r1]
        strb    r0, [r1, #1]
        ldr     r1, =SHPR3      @ SysTick 0xC0, PendSV 0x40
        ldr     r0, =0xC0400000
        str     r0, [r1]
        ldr     r1, =NVIC_ISER
        movs    r0, #3
        str     r0, [r1]
        @ BASEPRI
        movs    r0, #0x40
        msr     basepri, r0
        ldr     r1, =ICSR
        ldr     r0, =PENDSVSET
        str     r0, [r1]
        bl      delay
        movs    r0, #0
        msr     basepri, r0
        movs    r0, #'b'
        bl      putc
        @ PRIMASK by msr
        movs    r0, #1
        msr     primask, r0
        ldr     r1, =NVIC_ISPR
        movs    r0, #1
        str     r0, [r1]
        bl      delay
        movs    r0, #0
        msr     primask, r0
        movs    r0, #'p'
        bl      putc
        @ PRIMASK by cps
        cpsid   i
        ldr     r1, =NVIC_ISPR
        movs    r0, #2
        str     r0, [r1]
        bl      delay
        cpsie   i
        movs    r0, #'i'
        bl      putc
        @ FAULTMASK
        cpsid   f
        ldr     r1, =ICSR
        ldr     r0, =PENDSVSET
        str     r0, [r1]
        bl      delay
        cpsie   f
        movs    r0, #'f'
        bl      putc
        @ SysTick firing under BASEPRI
        movs    r0, #0x80
        msr     basepri, r0
        ldr     r1, =SYST_CSR
        ldr     r0, =2499       @ 100 us
        str     r0, [r1, #4]
        movs    r0, #0
        str     r0, [r1, #8]
        movs    r0, #7
        str     r0, [r1]
1:      ldr     r0, [r1]        @ COUNTFLAG: it wrapped, its exception is pending
        tst     r0, #(1 << 16)
        beq     1b
        movs    r0, #0
        msr     basepri, r0
        movs    r0, #'s'
        bl      putc
        movs    r0, #'\n'
        bl      putc
        movs    r0, #0
        bl      exit

        .thumb_func
delay:                          @ a few blocks between the pend and the unmask
        movs    r2, #20
1:      subs    r2, r2, #1
        bne     1b
        bx      lr

        .thumb_func
pendsv:
        push    {r4, lr}
        movs    r0, #'P'
        bl      putc
        pop     {r4, pc}

        .thumb_func
systick:
        push    {r4, lr}
        ldr     r1, =SYST_CSR   @ once
        movs    r0, #0
        str     r0, [r1]
        ldr     r1, =ICSR       @ (PENDSTCLR: on QEMU, whose SysTick follows the host
        ldr     r0, =(1 << 25)  @ clock, another wrap may be pending)
        str     r0, [r1]
        movs    r0, #'S'
        bl      putc
        pop     {r4, pc}

        .thumb_func
irq0:
        push    {r4, lr}
        movs    r0, #'0'
        bl      putc
        pop     {r4, pc}

        .thumb_func
irq1:
        push    {r4, lr}
        movs    r0, #'1'
        bl      putc
        pop     {r4, pc}

        .thumb_func
fault:
        movs    r0, #1
        bl      exit

        .section .rodata
hello:  .asciz "unmask: "
