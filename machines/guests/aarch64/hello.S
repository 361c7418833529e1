// Hello world on arm64-virt: print a line on the PL011, then power off (PSCI).
        .section .text.start
        .global _start
_start:
        ldr     x0, =stack_top
        mov     sp, x0
        ldr     x0, =msg
        bl      puts
        bl      poweroff

        .section .rodata
msg:    .asciz "Hello from arm64-virt (aarch64, pl011)\n"
