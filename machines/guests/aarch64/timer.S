// Timer interrupts on arm64-virt: the virtual generic timer (GIC PPI 27) fires every
// 10 ms; the IRQ handler prints a tick and re-arms it; after 3 ticks, power off.
        .equ GICD, 0x08000000
        .equ GICC, 0x08010000

        .section .text.start
        .global _start
_start:
        ldr     x0, =stack_top
        mov     sp, x0
        ldr     x0, =vectors
        msr     vbar_el1, x0
        ldr     x0, =hello
        bl      puts
        ldr     x1, =GICD
        mov     w0, #1
        str     w0, [x1]                // GICD_CTLR: forward interrupts
        mov     w0, #(1 << 27)
        str     w0, [x1, #0x100]        // ISENABLER0: PPI 27
        ldr     x1, =GICC
        mov     w0, #0xff
        str     w0, [x1, #4]            // GICC_PMR: let every priority through
        mov     w0, #1
        str     w0, [x1]                // GICC_CTLR: signal the core
        mov     x19, #0                 // ticks
        bl      arm
        mov     x0, #1
        msr     cntv_ctl_el0, x0        // enable, unmasked
        msr     daifclr, #2             // take IRQs
wait:   wfi
        cmp     x19, #3
        b.lt    wait
        msr     daifset, #2
        ldr     x0, =bye
        bl      puts
        bl      poweroff

arm:    mrs     x0, cntfrq_el0          // 10 ms = frequency / 100
        mov     x1, #100
        udiv    x0, x0, x1
        msr     cntv_tval_el0, x0
        ret

irq:    stp     x29, x30, [sp, #-16]!
        ldr     x1, =GICC
        ldr     w20, [x1, #0xc]         // GICC_IAR: acknowledge
        add     x19, x19, #1
        ldr     x0, =tick
        bl      puts
        add     w0, w19, #'0'
        bl      putc
        mov     w0, #'\n'
        bl      putc
        bl      arm                     // the line drops: CVAL is in the future again
        ldr     x1, =GICC
        str     w20, [x1, #0x10]        // GICC_EOIR
        ldp     x29, x30, [sp], #16
        eret

        .balign 0x800
vectors:
        .skip   0x280                   // current EL with SP_ELx: IRQ
        b       irq

        .section .rodata
hello:  .asciz "timer demo: 3 ticks, 10 ms apart\n"
tick:   .asciz "tick "
bye:    .asciz "done\n"
