@ Hello world on mps2-an385: print a line on CMSDK UART0, exit with status 0.
        .syntax unified
        .cpu cortex-m3
        .thumb

        .section .vectors, "a"
        .word   stack_top
        .word   reset

        .text
        .thumb_func
        .global reset
reset:
        bl      uart_init
        ldr     r0, =msg
        bl      puts
        movs    r0, #0
        bl      exit

        .section .rodata
msg:    .asciz "Hello from mps2-an385 (cortex-m3, cmsdk-apb-uart)\n"
