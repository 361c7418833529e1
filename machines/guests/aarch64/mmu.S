// Page tables on arm64-virt: map RAM a second time at virtual 0x1_0000_0000 (besides
// the identity map), turn the MMU on, write through the high alias and read the value
// back through the identity map; then remap the alias elsewhere, run tlbi, and check it
// follows. Checks the page-table walk (not just identity) and TLB invalidation.
        .equ UART, 0x09000000

        .section .text.start
        .global _start
_start:
        ldr     x0, =stack_top
        mov     sp, x0
        ldr     x0, =hello
        bl      puts

        ldr     x1, =l1                 // L1 (1 GiB per entry, 39-bit addresses)
        ldr     x2, =l2
        orr     x3, x2, #3              // [0]: a table for 0-1 GiB (the devices)
        str     x3, [x1, #0]
        ldr     x3, =0x40000000 | (1 << 10) | (3 << 8) | 1
        str     x3, [x1, #8]            // [1]: RAM at 1 GiB, identity, normal memory
        str     x3, [x1, #32]           // [4]: the same RAM again at 4 GiB
        ldr     x3, =UART | (1 << 10) | (1 << 2) | 1
        str     x3, [x2, #(UART >> 21) * 8]   // L2: the UART's 2 MiB, device memory

        ldr     x0, =0x00ff             // MAIR: attr0 normal write-back, attr1 device
        msr     mair_el1, x0
        ldr     x0, =(25 | (1 << 23) | (2 << 32))   // T0SZ 25, EPD1, IPS 40 bits, 4 KiB
        msr     tcr_el1, x0
        msr     ttbr0_el1, x1
        isb
        mrs     x0, sctlr_el1
        orr     x0, x0, #1              // M: translation on
        msr     sctlr_el1, x0
        isb

        ldr     x4, =0x100090000        // virtual: the high alias of 0x4009_0000
        ldr     x5, =0x40090000         // the same byte through the identity map
        ldr     x6, =0x5eed1e55
        str     x6, [x4]
        ldr     x7, [x5]
        cmp     x6, x7
        b.ne    bad
        ldr     x0, =ok
        bl      puts

        // remap: the first 2 MiB at 4 GiB now show RAM 2 MiB further on (an L2 table
        // instead of the 1 GiB block), then invalidate the TLB: the alias must follow
        ldr     x1, =l1
        ldr     x2, =l2b
        ldr     x3, =0x40200000 | (1 << 10) | (3 << 8) | 1
        str     x3, [x2]                // L2 block: 0x1_0000_0000 -> 0x4020_0000
        orr     x3, x2, #3
        str     x3, [x1, #32]           // L1[4]: now that table
        dsb     ishst
        tlbi    vmalle1
        dsb     ish
        isb
        ldr     x4, =0x100090000
        ldr     x5, =0x40290000         // where the alias points now
        ldr     x6, =0xfeedface
        str     x6, [x5]
        ldr     x7, [x4]
        cmp     x6, x7
        b.ne    bad
        ldr     x0, =remapped
        bl      puts
        bl      poweroff
bad:    ldr     x0, =wrong
        bl      puts
        bl      poweroff

        .section .rodata
hello:  .asciz "mmu check\n"
ok:     .asciz "wrote through 0x100090000, read back at 0x40090000: ok\n"
remapped: .asciz "remapped, after tlbi: 0x100090000 reaches 0x40290000: ok\n"
wrong:  .asciz "the alias does not reach the same memory\n"

        .data
        .balign 4096
l1:     .skip 4096
l2:     .skip 4096
l2b:    .skip 4096
