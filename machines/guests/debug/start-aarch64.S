// Start-up of count.c on arm64-virt: a stack, main, then PSCI SYSTEM_OFF (hvc), as
// QEMU's virt board answers it; a failed check stops at a brk instead.
        .section .text.start
        .globl _start
_start:
        ldr     x1, =stack_top
        mov     sp, x1
        bl      main
        cbnz    w0, 1f
        ldr     x0, =0x84000008         // SYSTEM_OFF
        hvc     #0
1:      brk     #1
