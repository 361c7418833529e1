// Shared routines for arm64-virt guests: the PL011 at 0x0900_0000 and PSCI power-off.
        .equ UART, 0x09000000

        .text
        .global putc, puts, poweroff
putc:                           // putc(w0): wait while the TX FIFO is full (FR bit 5)
        mov     x1, #UART
1:      ldr     w2, [x1, #0x18]
        tbnz    w2, #5, 1b
        str     w0, [x1]
        ret

puts:                           // puts(x0 = NUL-terminated string)
        stp     x29, x30, [sp, #-32]!
        str     x19, [sp, #16]
        mov     x19, x0
1:      ldrb    w0, [x19], #1
        cbz     w0, 2f
        bl      putc
        b       1b
2:      ldr     x19, [sp, #16]
        ldp     x29, x30, [sp], #32
        ret

poweroff:                       // PSCI SYSTEM_OFF through hvc, as on QEMU's virt board
        ldr     x0, =0x84000008
        hvc     #0
1:      wfi
        b       1b
