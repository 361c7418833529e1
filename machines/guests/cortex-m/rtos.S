@ Cortex-M exceptions the way an RTOS uses them, on mps2-an385:
@  1. priorities and preemption: inside the SysTick handler (priority 0xC0) a pended IRQ0
@     (0x40) preempts at once and nests; a pended PendSV (0xE0) waits for SysTick to return;
@  2. BASEPRI: IRQ1 (0x80) stays pending while BASEPRI is 0x80, and runs once it is 0;
@  3. two tasks on the process stack (PSP), switched by SVC (yield) and PendSV, with their
@     callee-saved registers kept across the switches.
@ The same binary prints the same on QEMU (qemu-system-arm -M mps2-an385).
        .syntax unified
        .cpu cortex-m3
        .thumb
        .equ NVIC_ISER, 0xE000E100
        .equ NVIC_ISPR, 0xE000E200
        .equ NVIC_IPR, 0xE000E400
        .equ ICSR, 0xE000ED04
        .equ SHPR3, 0xE000ED20
        .equ SHCSR, 0xE000ED24
        .equ SYST_CSR, 0xE000E010
        .equ PENDSVSET, 1 << 28

        .section .vectors, "a"
        .word   stack_top
        .word   reset
        .rept   9
        .word   fault           @ 2-10: NMI, HardFault, MemManage, BusFault, UsageFault...
        .endr
        .word   svc             @ 11
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
        ldr     r1, =NVIC_IPR   @ IRQ0 0x40, IRQ1 0x80
        movs    r0, #0x40
        strb    r0, [r1]
        movs    r0, #0x80
        strb    r0, [r1, #1]
        ldr     r1, =SHPR3      @ SysTick 0xC0, PendSV 0xE0 (the last to run)
        ldr     r0, =0xC0E00000
        str     r0, [r1]
        ldr     r1, =NVIC_ISER
        movs    r0, #3
        str     r0, [r1]
        @ 1. one SysTick exception
        ldr     r1, =SYST_CSR
        ldr     r0, =24999     @ 1 ms
        str     r0, [r1, #4]
        movs    r0, #0
        str     r0, [r1, #8]
        movs    r0, #7
        str     r0, [r1]
1:      ldr     r0, =done1
        ldr     r0, [r0]
        cbnz    r0, 2f
        wfi
        b       1b
        @ 2. BASEPRI
2:      movs    r0, #0x80
        msr     basepri, r0
        ldr     r1, =NVIC_ISPR
        movs    r0, #2
        str     r0, [r1]
        ldr     r0, =holds
        bl      puts
        movs    r0, #0
        msr     basepri, r0
1:      ldr     r0, =done2
        ldr     r0, [r0]
        cbnz    r0, 2f
        wfi
        b       1b
2:      ldr     r0, =after
        bl      puts
        @ 3. tasks: B's stack starts as an exception frame returning to task_b, then r4-r11
        ldr     r0, =stack_b_top
        subs    r0, r0, #32
        ldr     r1, =task_b
        str     r1, [r0, #24]   @ pc
        ldr     r1, =0x01000000
        str     r1, [r0, #28]   @ xPSR: Thumb
        subs    r0, r0, #32
        ldr     r1, =tcb
        str     r0, [r1, #4]
        ldr     r1, =switching
        movs    r0, #1
        str     r0, [r1]
        ldr     r0, =stack_a_top
        msr     psp, r0
        movs    r0, #2          @ CONTROL.SPSEL: thread mode on the process stack
        msr     control, r0
        isb
        b       task_a

        .thumb_func
task_a:
        movs    r4, #'1'
1:      movs    r0, #'A'
        bl      putc
        mov     r0, r4
        bl      putc
        movs    r0, #'\n'
        bl      putc
        svc     #0              @ yield
        adds    r4, r4, #1
        cmp     r4, #'4'
        bne     1b
        ldr     r0, =bye
        bl      puts
        movs    r0, #0
        bl      exit

        .thumb_func
task_b:
        movs    r4, #'1'
1:      movs    r0, #'B'
        bl      putc
        mov     r0, r4
        bl      putc
        movs    r0, #'\n'
        bl      putc
        svc     #0
        adds    r4, r4, #1
        b       1b

        .thumb_func
svc:                            @ yield: PendSV switches once SVC has returned
        ldr     r1, =ICSR
        ldr     r0, =PENDSVSET
        str     r0, [r1]
        bx      lr

        .thumb_func
pendsv:
        ldr     r1, =switching
        ldr     r1, [r1]
        cbz     r1, 1f
        mrs     r0, psp         @ save the running task
        stmdb   r0!, {r4-r11}
        ldr     r2, =current
        ldr     r3, [r2]
        ldr     r1, =tcb
        str     r0, [r1, r3, lsl #2]
        eor     r3, r3, #1      @ the other one
        str     r3, [r2]
        ldr     r0, [r1, r3, lsl #2]
        ldmia   r0!, {r4-r11}
        msr     psp, r0
        bx      lr              @ EXC_RETURN 0xFFFFFFFD: thread mode, process stack
1:      push    {r4, lr}
        ldr     r0, =s_pendsv
        bl      puts
        ldr     r1, =done1
        movs    r0, #1
        str     r0, [r1]
        pop     {r4, pc}

        .thumb_func
systick:
        push    {r4, lr}
        ldr     r1, =SYST_CSR   @ once is enough
        movs    r0, #0
        str     r0, [r1]
        ldr     r1, =ticked     @ (on QEMU, whose SysTick follows the host clock, another
        ldr     r0, [r1]        @ tick may come before the counter stops)
        cbnz    r0, 1f
        movs    r0, #1
        str     r0, [r1]
        ldr     r0, =s_in
        bl      puts
        ldr     r1, =ICSR       @ lower priority: waits
        ldr     r0, =PENDSVSET
        str     r0, [r1]
        ldr     r0, =s_waits
        bl      puts
        ldr     r1, =NVIC_ISPR  @ higher priority: preempts now
        movs    r0, #1
        str     r0, [r1]
        ldr     r0, =s_back
        bl      puts
        ldr     r0, =s_out
        bl      puts
1:      pop     {r4, pc}

        .thumb_func
irq0:
        push    {r4, lr}
        ldr     r1, =SHCSR      @ SysTick still active underneath?
        ldr     r0, [r1]
        tst     r0, #(1 << 11)
        beq     1f
        ldr     r0, =s_irq0
        bl      puts
1:      pop     {r4, pc}

        .thumb_func
irq1:
        push    {r4, lr}
        ldr     r0, =s_irq1
        bl      puts
        ldr     r1, =done2
        movs    r0, #1
        str     r0, [r1]
        pop     {r4, pc}

        .thumb_func
fault:
        movs    r0, #1
        bl      exit

        .section .rodata
hello:  .asciz "rtos demo: priorities, nesting, basepri, two tasks\n"
s_in:   .asciz "systick: in\n"
s_waits: .asciz "systick: pendsv (lower) waits\n"
s_irq0: .asciz "irq0: preempted systick\n"
s_back: .asciz "systick: back from irq0\n"
s_out:  .asciz "systick: out\n"
s_pendsv: .asciz "pendsv: after systick\n"
holds:  .asciz "main: basepri holds irq1\n"
s_irq1: .asciz "irq1: ran\n"
after:  .asciz "main: irq1 done\n"
bye:    .asciz "tasks done\n"

        .bss
        .align 3
ticked: .word 0
done1:  .word 0
done2:  .word 0
switching: .word 0
current: .word 0
tcb:    .word 0, 0
        .align 3
        .space 1024
stack_a_top:
        .space 1024
stack_b_top:
