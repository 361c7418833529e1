// Exceptions as Linux takes them on arm64-virt, checked by the guest itself: a program at
// EL0 (reached by eret) raises svc, brk, an undefined instruction (an EL0 read of an ID
// register), permission, access flag and execute-never faults;
// the EL1 handler prints each syndrome (EC, ISS or fault status, WnR), checks ELR, FAR
// and the banked stack pointers, fixes what faulted and returns. Then an IRQ left pending
// while masked must be taken by the first instruction after `msr daifclr`.
// The same output on QEMU (-M virt -cpu cortex-a57) and qconf.
        .equ GICD, 0x08000000
        .equ GICC, 0x08010000
        .equ USER, 0x40200000           // 2 MiB of EL0 pages (level 3 table l3)
        .equ USER_STACK, USER + 0x10000
        .equ RO_PAGE, USER + 0x20000    // read-only at EL0 (AP = 11)
        .equ KERNEL_PAGE, USER + 0x21000 // EL1 only (AP = 00)
        .equ XN_PAGE, USER + 0x22000    // user data, UXN
        .equ OLD_PAGE, USER + 0x23000   // user data, access flag clear
        .equ PAGE_RW_EL0, (1 << 10) | (3 << 8) | (1 << 6) | 3  // AF, inner shareable, AP 01

        .section .text.start
        .global _start
_start:
        ldr     x0, =stack_top
        mov     sp, x0
        ldr     x0, =vectors
        msr     vbar_el1, x0
        ldr     x0, =hello
        bl      puts
        // level 1: 0-1 GiB devices (block), 1-2 GiB RAM through l2
        ldr     x1, =l1
        ldr     x3, =0x00000000 | (1 << 10) | (1 << 2) | 1 | (1 << 54) | (1 << 53)
        str     x3, [x1, #0]
        ldr     x2, =l2
        orr     x3, x2, #3
        str     x3, [x1, #8]
        // level 2: the first 2 MiB of RAM, EL1 only (the guest's code, data, tables)
        ldr     x3, =0x40000000 | (1 << 10) | (3 << 8) | 1
        str     x3, [x2, #0]
        // the next 2 MiB through l3: EL0 pages
        ldr     x4, =l3
        orr     x3, x4, #3
        str     x3, [x2, #8]
        mov     x5, #0                  // l3: USER .. USER + 0x20000 read-write at EL0
        ldr     x6, =USER | PAGE_RW_EL0
1:      str     x6, [x4, x5, lsl #3]
        add     x6, x6, #0x1000
        add     x5, x5, #1
        cmp     x5, #0x20
        b.lt    1b
        ldr     x6, =RO_PAGE | PAGE_RW_EL0 | (1 << 7)      // AP 11: read-only, EL0 too
        str     x6, [x4, #0x20 * 8]
        ldr     x6, =KERNEL_PAGE | (1 << 10) | (3 << 8) | 3
        str     x6, [x4, #0x21 * 8]
        ldr     x6, =XN_PAGE | PAGE_RW_EL0 | (1 << 54)
        str     x6, [x4, #0x22 * 8]
        ldr     x6, =OLD_PAGE | (3 << 8) | (1 << 6) | 3      // AF clear
        str     x6, [x4, #0x23 * 8]
        ldr     x0, =0x00ff             // attr 0 device, attr 1 normal
        msr     mair_el1, x0
        ldr     x0, =(25 | (1 << 23) | (2 << 32))  // T0SZ 25 (39 bits), EPD1, 4 KiB
        msr     tcr_el1, x0
        msr     ttbr0_el1, x1
        isb
        mrs     x0, sctlr_el1
        orr     x0, x0, #1
        msr     sctlr_el1, x0
        isb
        // copy the EL0 program to its pages
        ldr     x1, =user_start
        ldr     x2, =user_end
        ldr     x3, =USER
2:      ldr     w4, [x1], #4
        str     w4, [x3], #4
        cmp     x1, x2
        b.lt    2b
        dsb     ish
        ic      iallu
        dsb     ish
        isb
        ldr     x0, =USER_STACK
        msr     sp_el0, x0
        ldr     x0, =USER
        msr     elr_el1, x0
        msr     spsr_el1, xzr           // EL0t, interrupts unmasked
        ldr     x28, =stack_top         // the EL1 stack, to check on every entry
        eret

// --- the EL0 program (copied to USER, position independent) --------------------------
user_start:
        mov     x27, sp
        svc     #0x42                   // 1: svc: EC 0x15, ISS 0x42, ELR after it
        brk     #7                      // 2: brk: EC 0x3c, ISS 7, ELR at it
        mrs     x0, midr_el1            // 3: EL0 read of an ID register: undefined (EC 0)
        ldr     x1, =RO_PAGE
        mov     x2, #0x55
        str     x2, [x1]                // 5: write to a read-only page: permission fault
        ldr     x1, =KERNEL_PAGE
        ldr     x2, [x1]                // 6: EL0 read of an EL1 page: permission fault
        ldr     x1, =OLD_PAGE
        ldr     x2, [x1]                // 7: access flag fault; the handler sets AF
        ldr     x1, =XN_PAGE
        ldr     w2, =0xd65f03c0         // ret
        str     w2, [x1]
        blr     x1                      // 8: execute-never: instruction abort
        mov     x26, sp
        cmp     x27, x26                // the EL0 stack survived every entry
        b.ne    3f
        svc     #2                      // done: back to EL1 for good
3:      svc     #3
        .ltorg
user_end:

// --- EL1 --------------------------------------------------------------------------------
sync_lower:
        mov     x25, x30                // EL0's link register (the handler calls)
        mov     x19, sp
        cmp     x19, x28                // entered on SP_EL1
        b.ne    bad_sp
        stp     x0, x1, [sp, #-32]!     // EL0's, for the retried instructions
        stp     x2, x3, [sp, #16]
        mrs     x19, esr_el1
        ubfx    x20, x19, #26, #6       // EC
        cmp     x20, #0x15
        b.ne    not_svc
        and     x21, x19, #0xffff
        cmp     x21, #2
        b.eq    user_done
        cmp     x21, #3
        b.eq    bad_sp
        ldr     x0, =m_svc
        bl      report
        mrs     x0, sp_el0              // SP_EL0 is EL0's stack
        ldr     x1, =USER_STACK
        cmp     x0, x1
        b.ne    bad_sp
        b       back
not_svc:
        cmp     x20, #0x3c
        b.ne    1f
        ldr     x0, =m_brk
        bl      report
        b       skip
1:      cmp     x20, #0x00
        b.ne    1f
        ldr     x0, =m_undef
        bl      report
        b       skip
1:      cmp     x20, #0x24
        b.ne    1f
        ldr     x0, =m_dabt
        bl      report_fault
        and     x21, x19, #0x3c
        cmp     x21, #0x08              // access flag fault: set AF and retry
        b.ne    skip
        ldr     x9, =l3                 // (EL0's x1 and x2 are kept for the retry)
        ldr     x10, [x9, #0x23 * 8]
        orr     x10, x10, #(1 << 10)
        str     x10, [x9, #0x23 * 8]
        dsb     ish
        b       back
1:      cmp     x20, #0x20
        b.ne    unexpected
        ldr     x0, =m_iabt
        bl      report_fault
        mrs     x0, elr_el1             // at the XN page itself
        ldr     x1, =XN_PAGE
        cmp     x0, x1
        b.ne    unexpected
        msr     elr_el1, x25            // return to the caller (blr set x30)
        b       back
skip:   mrs     x0, elr_el1
        add     x0, x0, #4
        msr     elr_el1, x0
back:   mov     x30, x25
        ldp     x2, x3, [sp, #16]
        ldp     x0, x1, [sp], #32
        eret

report:                                 // report(x0 = name): "name: EC e ISS i ELR+o"
        stp     x29, x30, [sp, #-16]!
        bl      puts
        ldr     x0, =m_ec
        bl      puts
        mov     x0, x20
        bl      puthex
        ldr     x0, =m_iss
        bl      puts
        and     x0, x19, #0x1ffffff
        bl      puthex
        ldr     x0, =m_elr
        bl      puts
        mrs     x0, elr_el1
        ldr     x1, =USER
        sub     x0, x0, x1
        bl      puthex
        mov     w0, #'\n'
        bl      putc
        ldp     x29, x30, [sp], #16
        ret

report_fault:                           // "name: EC e FSC f WnR w FAR+o"
        stp     x29, x30, [sp, #-16]!
        bl      puts
        ldr     x0, =m_ec
        bl      puts
        mov     x0, x20
        bl      puthex
        ldr     x0, =m_fsc
        bl      puts
        and     x0, x19, #0x3f
        bl      puthex
        ldr     x0, =m_wnr
        bl      puts
        ubfx    x0, x19, #6, #1
        bl      puthex
        ldr     x0, =m_far
        bl      puts
        mrs     x0, far_el1
        ldr     x1, =USER
        sub     x0, x0, x1
        bl      puthex
        mov     w0, #'\n'
        bl      putc
        ldp     x29, x30, [sp], #16
        ret

user_done:
        ldr     x0, =m_sp
        bl      puts
        // an IRQ made pending while masked is taken right after the unmask
        ldr     x1, =GICD
        mov     w0, #1
        str     w0, [x1]                // GICD_CTLR
        mov     w0, #(1 << 27)
        str     w0, [x1, #0x100]        // ISENABLER0: PPI 27 (virtual timer)
        ldr     x1, =GICC
        mov     w0, #0xff
        str     w0, [x1, #4]            // GICC_PMR
        mov     w0, #1
        str     w0, [x1]                // GICC_CTLR
        msr     daifset, #2
        msr     cntv_cval_el0, xzr      // due at once
        mov     x0, #1
        msr     cntv_ctl_el0, x0
        isb
        mov     x22, #0
        mov     x24, #2
        msr     daifclr, #2
        mov     x22, #1                 // the IRQ must come before this
        ldr     x0, =m_irq
        bl      puts
        cmp     x24, #0
        b.ne    1f
        ldr     x0, =m_ok
        bl      puts
        b       2f
1:      ldr     x0, =m_late
        bl      puts
2:      ldr     x0, =bye
        bl      puts
        bl      poweroff

irq:    mov     x24, x22                // what ran after the unmask
        ldr     x1, =GICC
        ldr     w0, [x1, #0xc]          // GICC_IAR
        str     w0, [x1, #0x10]         // GICC_EOIR
        msr     cntv_ctl_el0, xzr       // the line drops
        eret

bad_sp:
        ldr     x0, =m_bad_sp
        bl      puts
        bl      poweroff
unexpected:
        ldr     x0, =m_unexpected
        bl      puts
        mov     x0, x19
        bl      puthex
        bl      poweroff

puthex:                                 // puthex(x0): 0x and the hex digits, no leading zeros
        stp     x29, x30, [sp, #-32]!
        stp     x19, x20, [sp, #16]
        mov     x19, x0
        mov     w0, #'0'
        bl      putc
        mov     w0, #'x'
        bl      putc
        mov     x20, #60
        mov     x1, #0
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
        b.pl    1b
        ldp     x19, x20, [sp, #16]
        ldp     x29, x30, [sp], #32
        ret

        .balign 0x800
vectors:
        b       unexpected              // current EL, SP_EL0
        .balign 0x80
        b       unexpected
        .balign 0x80
        b       unexpected
        .balign 0x80
        b       unexpected
        .balign 0x80
        b       unexpected              // current EL, SP_ELx: sync
        .balign 0x80
        b       irq                     // current EL, SP_ELx: IRQ
        .balign 0x80
        b       unexpected
        .balign 0x80
        b       unexpected
        .balign 0x80
        b       sync_lower              // lower EL, AArch64: sync
        .balign 0x80
        b       unexpected
        .balign 0x80
        b       unexpected
        .balign 0x80
        b       unexpected

        .section .rodata
hello:  .asciz "el0 checks\n"
m_svc:  .asciz "svc"
m_brk:  .asciz "brk"
m_undef: .asciz "undefined"
m_dabt: .asciz "data abort"
m_iabt: .asciz "instruction abort"
m_ec:   .asciz ": EC "
m_iss:  .asciz " ISS "
m_elr:  .asciz " ELR +"
m_fsc:  .asciz " FSC "
m_wnr:  .asciz " WnR "
m_far:  .asciz " FAR +"
m_sp:   .asciz "EL0 stack intact, every entry on SP_EL1: ok\n"
m_irq:  .asciz "pending IRQ after daifclr: "
m_ok:   .asciz "taken before the next instruction\n"
m_late: .asciz "taken late\n"
m_bad_sp: .asciz "wrong stack pointer\n"
m_unexpected: .asciz "unexpected exception, ESR "
bye:    .asciz "done\n"

        .section .data
        .balign 4096
l1:     .fill 512, 8, 0
l2:     .fill 512, 8, 0
l3:     .fill 512, 8, 0
