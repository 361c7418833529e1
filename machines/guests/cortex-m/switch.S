@ The bench of Cortex-M exception entry and return: an RTOS's tick and switch. Two tasks
@ on the process stack yield by svc; the SVCall handler pends PendSV, which tail-chains
@ and switches tasks (r4-r11 saved on the task's stack); SysTick ticks every 10 us and
@ counts. After 20,000 yields (40,000 exceptions, plus the ticks) it prints the number of
@ yields and exits. Run:  qconf run -c mps2-an385 --set cpu0.firmware=machines/guests/cortex-m/switch.elf --stats
        .syntax unified
        .cpu cortex-m3
        .thumb
        .equ ICSR, 0xE000ED04
        .equ SHPR2, 0xE000ED1C
        .equ SHPR3, 0xE000ED20
        .equ SYST_CSR, 0xE000E010
        .equ PENDSVSET, 1 << 28
        .equ YIELDS, 20000

        .section .vectors, "a"
        .word   stack_top
        .word   reset
        .rept   9
        .word   fault
        .endr
        .word   svc             @ 11
        .word   fault
        .word   fault
        .word   pendsv          @ 14
        .word   systick         @ 15

        .text
        .thumb_func
        .global reset
reset:
        bl      uart_init
        ldr     r1, =SHPR3      @ SysTick 0x80, PendSV 0xE0 (lowest)
        ldr     r0, =0x80E00000
        str     r0, [r1]
        ldr     r1, =SYST_CSR   @ a tick every 10 us at 25 MHz
        ldr     r0, =249
        str     r0, [r1, #4]
        movs    r0, #0
        str     r0, [r1, #8]
        movs    r0, #7
        str     r0, [r1]
        ldr     r0, =stack_b_top @ B's stack: an exception frame returning to task_b, r4-r11
        subs    r0, r0, #32
        ldr     r1, =task_b
        str     r1, [r0, #24]
        ldr     r1, =0x01000000
        str     r1, [r0, #28]
        subs    r0, r0, #32
        ldr     r1, =tcb
        str     r0, [r1, #4]
        ldr     r0, =stack_a_top
        msr     psp, r0
        movs    r0, #2
        msr     control, r0
        isb
        b       task_a

        .thumb_func
task_a:
        ldr     r4, =yields
1:      ldr     r0, [r4]
        adds    r0, r0, #1
        str     r0, [r4]
        ldr     r1, =YIELDS
        cmp     r0, r1
        bhs     2f
        svc     #0
        b       1b
2:      ldr     r1, =SYST_CSR
        movs    r0, #0
        str     r0, [r1]
        ldr     r0, =done
        bl      puts
        movs    r0, #0
        bl      exit

        .thumb_func
task_b:
        ldr     r4, =yields
1:      ldr     r0, [r4]
        adds    r0, r0, #1
        str     r0, [r4]
        svc     #0
        b       1b

        .thumb_func
svc:
        ldr     r1, =ICSR
        ldr     r0, =PENDSVSET
        str     r0, [r1]
        bx      lr

        .thumb_func
pendsv:
        mrs     r0, psp
        stmdb   r0!, {r4-r11}
        ldr     r2, =current
        ldr     r3, [r2]
        ldr     r1, =tcb
        str     r0, [r1, r3, lsl #2]
        eor     r3, r3, #1
        str     r3, [r2]
        ldr     r0, [r1, r3, lsl #2]
        ldmia   r0!, {r4-r11}
        msr     psp, r0
        bx      lr

        .thumb_func
systick:
        ldr     r1, =ticks
        ldr     r0, [r1]
        adds    r0, r0, #1
        str     r0, [r1]
        bx      lr

        .thumb_func
fault:
        movs    r0, #1
        bl      exit

        .section .rodata
done:   .asciz "switch: 20000 yields\n"

        .bss
        .align 3
yields: .word 0
ticks:  .word 0
current: .word 0
tcb:    .word 0, 0
        .align 3
        .space 1024
stack_a_top:
        .space 1024
stack_b_top:
