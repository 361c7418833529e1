// A translation fault on arm64-virt, taken by the guest: with the MMU on and nothing
// mapped at 0x2_0000_0000, a load from there must raise a data abort at EL1 with
// ESR_EL1 saying "translation fault" and FAR_EL1 the address; the handler prints both,
// steps over the load and returns.
        .section .text.start
        .global _start
_start:
        ldr     x0, =stack_top
        mov     sp, x0
        ldr     x0, =vectors
        msr     vbar_el1, x0
        ldr     x0, =hello
        bl      puts
        ldr     x1, =l1
        ldr     x2, =l2
        orr     x3, x2, #3
        str     x3, [x1, #0]            // 0-1 GiB: devices (the UART)
        ldr     x3, =0x40000000 | (1 << 10) | (3 << 8) | 1
        str     x3, [x1, #8]            // RAM, identity
        ldr     x3, =0x09000000 | (1 << 10) | (1 << 2) | 1
        str     x3, [x2, #(0x09000000 >> 21) * 8]
        ldr     x0, =0x00ff
        msr     mair_el1, x0
        ldr     x0, =(25 | (1 << 23) | (2 << 32))
        msr     tcr_el1, x0
        msr     ttbr0_el1, x1
        isb
        mrs     x0, sctlr_el1
        orr     x0, x0, #1
        msr     sctlr_el1, x0
        isb
        ldr     x4, =0x200000000        // nothing maps this
        ldr     x5, [x4]                // -> data abort
        ldr     x0, =back
        bl      puts
        bl      poweroff

sync:   mrs     x0, esr_el1
        mov     x19, x0
        ldr     x0, =esr
        bl      puts
        lsr     x0, x19, #26            // exception class
        bl      puthex
        ldr     x0, =dfsc
        bl      puts
        and     x0, x19, #0x3f          // fault status code
        bl      puthex
        ldr     x0, =far
        bl      puts
        mrs     x0, far_el1
        bl      puthex
        mov     w0, #'\n'
        bl      putc
        mrs     x0, elr_el1
        add     x0, x0, #4              // step over the load
        msr     elr_el1, x0
        eret

puthex:                                 // puthex(x0): 0x and the hex digits, no leading zeros
        stp     x29, x30, [sp, #-32]!
        stp     x19, x20, [sp, #16]
        mov     x19, x0
        mov     w0, #'0'
        bl      putc
        mov     w0, #'x'
        bl      putc
        mov     x20, #60
        mov     x1, #0                  // 1 once a digit has been printed
1:      lsr     x0, x19, x20
        and     x0, x0, #0xf
        cbnz    x0, 2f
        cbnz    x1, 2f
        cbz     x20, 2f
        b       3f
2:      mov     x1, #1
        cmp     x0, #10
        add     x2, x0, #'0'
        add     x3, x0, #('a' - 10)
        csel    x0, x2, x3, lt
        str     x1, [sp, #-16]!
        bl      putc
        ldr     x1, [sp], #16
3:      subs    x20, x20, #4
        b.ge    1b
        ldp     x19, x20, [sp, #16]
        ldp     x29, x30, [sp], #32
        ret

        .balign 0x800
vectors:
        .skip   0x200                   // current EL with SP_ELx: synchronous
        b       sync

        .section .rodata
hello:  .asciz "abort check\n"
esr:    .asciz "data abort: EC "
dfsc:   .asciz ", DFSC "
far:    .asciz ", FAR "
back:   .asciz "returned past the faulting load\n"

        .data
        .balign 4096
l1:     .skip 4096
l2:     .skip 4096
