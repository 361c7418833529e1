# Stores and self-modifying code on riscv-virt: what the store-fix engine must keep
# (docs/engine.md). Each page below first takes a data store (so that an engine with a
# store fast path may use it for that page), then runs code, then has that code changed:
# every change must be seen. Prints what ran and powers off with status 0 when all is as
# a RISC-V hart must do it, else with the number of the first check that failed.
#   1. stores fill two data pages; their sum is read back
#   2. code copied into a data page, run, overwritten twice, run after each
#   3. a function that already ran, patched twice, with fence.i after each patch
#   4. the same without fence.i
#   5. a block patching an instruction later in itself, fence.i between: the first pass
#      runs the new instruction
#   6. the same without fence.i: the second pass at the latest runs the new instruction
        .option norvc                   # 4-byte instructions: they are patched in place
        .equ LI_A0_1, 0x00100513        # li a0, 1
        .equ LI_A0_2, 0x00200513        # li a0, 2
        .equ LI_A0_3, 0x00300513        # li a0, 3
        .equ RET, 0x00008067            # ret

        .section .text.start
        .globl _start
_start:
        la      sp, stack_top
        csrr    a0, mhartid
        bnez    a0, park

# 1. data stores: 1024 double words, 0..1023, over two pages; their sum is 523776
        la      s0, data
        li      t0, 0
        li      t1, 1024
1:      sd      t0, 0(s0)
        addi    t0, t0, 1
        addi    s0, s0, 8
        bne     t0, t1, 1b
        la      s0, data
        li      t0, 0
        li      t2, 0
2:      ld      t3, 0(s0)
        add     t2, t2, t3
        addi    t0, t0, 1
        addi    s0, s0, 8
        bne     t0, t1, 2b
        mv      s2, t2
        la      a0, m_data
        call    puts
        mv      a0, s2
        call    putdec
        call    newline
        li      s11, 1
        li      t3, 523776
        bne     s2, t3, fail

# 2. code copied into a data page, run, overwritten twice
        la      a0, m_copy
        call    puts
        la      s0, copied
        sd      zero, 0x200(s0)         # a data store first
        li      t0, LI_A0_1
        sw      t0, 0(s0)
        li      t0, RET
        sw      t0, 4(s0)
        li      s1, 1
        li      s11, 2
        call    run_s0                  # 1
        li      t0, LI_A0_2
        sw      t0, 0(s0)
        call    run_s0                  # 2
        li      t0, LI_A0_3
        sw      t0, 0(s0)
        call    run_s0                  # 3
        call    newline

# 3. a function that already ran, patched twice, fence.i after each patch
        la      a0, m_fence
        call    puts
        la      s0, func_fence
        li      s11, 3
        call    patch_ran_code
        fence.i
        call    run_s0                  # 2
        li      t0, LI_A0_3
        sd      zero, 0x208(s0)         # a data store beside the code
        sw      t0, 0(s0)
        fence.i
        call    run_s0                  # 3
        call    newline

# 4. the same without fence.i
        la      a0, m_nofence
        call    puts
        la      s0, func_plain
        li      s11, 4
        call    patch_ran_code
        call    run_s0                  # 2
        li      t0, LI_A0_3
        sd      zero, 0x208(s0)
        sw      t0, 0(s0)
        call    run_s0                  # 3
        call    newline

# 5. a block patching itself, fence.i between the store and the patched instruction
        la      a0, m_block_fence
        call    puts
        la      s0, block_fence
        sd      zero, 0x200(s0)
        li      t6, 2                   # passes
        li      t3, 0
        li      t5, LI_A0_2
        jalr    s0                      # t3 = pass 1 << 4 | pass 2
        li      s11, 5
        mv      s2, t3
        call    print_passes
        li      t0, 0x22
        bne     s2, t0, fail

# 6. the same without fence.i: the second pass must run the new instruction
        la      a0, m_block_plain
        call    puts
        la      s0, block_plain
        sd      zero, 0x200(s0)
        li      t6, 2                   # passes
        li      t3, 0
        li      t5, LI_A0_2
        jalr    s0
        li      s11, 6
        mv      s2, t3
        call    print_passes
        andi    t0, s2, 0xf
        li      t1, 2
        bne     t0, t1, fail

        la      a0, m_ok
        call    puts
        li      a0, 0
        call    poweroff

fail:   la      a0, m_fail
        call    puts
        mv      a0, s11
        call    putdec
        call    newline
        mv      a0, s11
        call    poweroff
park:   wfi
        j       park

# patch_ran_code(s0 = a function "li a0, 1; ret" on a page of its own): a data store to
# the page, run it (expects 1), store "li a0, 2" over its first instruction
patch_ran_code:
        addi    sp, sp, -16
        sd      ra, 8(sp)
        sd      zero, 0x200(s0)
        li      s1, 1
        call    run_s0                  # 1
        li      t0, LI_A0_2
        sw      t0, 0(s0)
        ld      ra, 8(sp)
        addi    sp, sp, 16
        ret

# run_s0: call the function at s0, print its a0, check it is s1, then s1 += 1
run_s0:
        addi    sp, sp, -16
        sd      ra, 8(sp)
        jalr    s0
        sd      a0, 0(sp)
        li      a0, ' '
        call    putc
        ld      a0, 0(sp)
        call    putdec
        ld      a0, 0(sp)
        bne     a0, s1, fail
        addi    s1, s1, 1
        ld      ra, 8(sp)
        addi    sp, sp, 16
        ret

# print_passes(s2 = pass 1 << 4 | pass 2): " P1 P2\n"
print_passes:
        addi    sp, sp, -16
        sd      ra, 8(sp)
        li      a0, ' '
        call    putc
        srli    a0, s2, 4
        call    putdec
        li      a0, ' '
        call    putc
        andi    a0, s2, 0xf
        call    putdec
        call    newline
        ld      ra, 8(sp)
        addi    sp, sp, 16
        ret

newline:
        addi    sp, sp, -16
        sd      ra, 8(sp)
        li      a0, '\n'
        call    putc
        ld      ra, 8(sp)
        addi    sp, sp, 16
        ret

# Code patched at run time, each on a page of its own (4 KiB pages).
        .section .text.smc, "ax"
        .balign 4096
func_fence:
        li      a0, 1
        ret
        .balign 4096
func_plain:
        li      a0, 1
        ret

# block(t6 = 2 passes, t3 = 0, t5 = "li a0, 2"): a loop that starts the block; each
# pass stores t5 over the `li a0, 1` 16 bytes after the auipc, then runs it; returns
# t3 = a0 of pass 1 << 4 | a0 of pass 2
        .balign 4096
block_fence:
1:      auipc   t4, 0
        sw      t5, 16(t4)
        fence.i
        nop
        li      a0, 1                   # becomes li a0, 2
        slli    t3, t3, 4
        or      t3, t3, a0
        addi    t6, t6, -1
        bnez    t6, 1b
        ret
        .balign 4096
block_plain:
1:      auipc   t4, 0
        sw      t5, 16(t4)
        nop
        nop
        li      a0, 1                   # becomes li a0, 2
        slli    t3, t3, 4
        or      t3, t3, a0
        addi    t6, t6, -1
        bnez    t6, 1b
        ret
        .balign 4096

        .section .rodata
m_data:         .asciz "smc: data stores, sum "
m_copy:         .asciz "smc: code copied into a data page, run, overwritten twice:"
m_fence:        .asciz "smc: code that ran, patched twice, with fence.i:"
m_nofence:      .asciz "smc: code that ran, patched twice, without fence.i:"
m_block_fence:  .asciz "smc: a block patching itself, fence.i, passes:"
m_block_plain:  .asciz "smc: a block patching itself, no fence.i, passes:"
m_ok:           .asciz "smc: ok\n"
m_fail:         .asciz "smc: FAILED check "

        .bss
        .balign 4096
data:   .space 8192
copied: .space 4096
