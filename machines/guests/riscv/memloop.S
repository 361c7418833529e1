# Benchmark guest: `iterations` rounds of a 7-instruction xorshift loop with one memory
# access, then power off. Assembled three times (bench/stores.py runs each):
#   storeloop.elf      stores the word to a data page (STORE)
#   loadloop.elf       loads it instead (LOAD): the same loop without a store
#   codestoreloop.elf  stores it into the loop's own code page (STORE, CODE_PAGE): every
#                      store must check for code there, on any engine
# bench/stores.py patches `iterations` (a word in .data) in a copy of the ELF.
        .section .text.start
        .globl _start
_start:
        la      t3, iterations
        lwu     t0, 0(t3)
.ifdef CODE_PAGE
        la      t3, slot
.else
        la      t3, buffer
.endif
        li      t1, 0x2545F491
1:      slli    t2, t1, 13
        xor     t1, t1, t2
        srli    t2, t1, 7
        xor     t1, t1, t2
.ifdef STORE
        sd      t1, 0(t3)
.else
        ld      t4, 0(t3)
.endif
        addi    t0, t0, -1
        bnez    t0, 1b
        li      a0, 0
        call    poweroff
        .balign 8
slot:   .dword  0                       # in the code's page

        .data
        .globl iterations
        .align 3
iterations: .word 1000000

        .bss
        .balign 4096
buffer: .space 4096
