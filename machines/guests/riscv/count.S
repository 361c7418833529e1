# A guest whose instruction count is known exactly: compressed (2-byte) and full-size
# RISC-V instructions mixed in loops, then a loop whose misaligned AMO traps in the
# middle of its block (the handler skips it), then a poweroff. tests/test_counting.py
# asserts qconf's count in both timings, with and without native hooks:
#   6 (set-up) + 7 * 100000 (loop 1) + 3 (set-up) + 10 * 1000 (loop 2: 5 instructions,
#   the faulting AMO, 4 in the handler) + 5 (poweroff, and the jump after it in the same
#   block) = 710014
        .equ TEST, 0x100000

        .option norelax                 # keep the layout as written (mtvec alignment)
        .section .text.start
        .globl _start
_start:
        .option norvc
        la      t3, trap                # auipc, addi
        csrw    mtvec, t3
        li      t0, 100000              # lui, addiw
        li      t1, 0
loop1:
        .option rvc
        c.addi  t1, 3
        c.slli  t1, 1
        .option norvc
        addi    t1, t1, 5
        xor     t2, t1, t0
        .option rvc
        c.mv    t2, t1
        .option norvc
        addi    t0, t0, -1
        bnez    t0, loop1

        la      t4, buf + 1             # auipc, addi: misaligned for a word
        li      t0, 1000
loop2:
        .option rvc
        c.addi  t1, 1
        .option norvc
        amoadd.w zero, t1, (t4)         # store/AMO address misaligned: traps
        addi    t1, t1, 7
        .option rvc
        c.addi  t1, -2
        .option norvc
        addi    t0, t0, -1
        bnez    t0, loop2

        li      t0, TEST                # lui
        li      t1, 0x5555              # lui, addiw
        sw      t1, 0(t0)               # pass: the run ends at the next block
1:      j       1b

        .text                           # a section of its own: 4-byte aligned
        .balign 4
trap:   csrr    t5, mepc                # skip the faulting instruction
        addi    t5, t5, 4
        csrw    mepc, t5
        mret

        .section .data
        .align  3
buf:    .dword  0
