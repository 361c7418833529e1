# A kernel-like payload for OpenSBI's fw_jump (machines/riscv-kernel): entered in S-mode
# as Linux is (a0 = hart id, a1 = the device tree's address), it reads the tree's /chosen
# (bootargs, linux,initrd-start and -end), counts the harts under /cpus, prints them and
# the initrd's first line through the SBI legacy console, then shuts down with SBI SRST.
# Only S-mode instructions and SBI calls: it runs unchanged on
#   qemu-system-riscv64 -M virt -bios fw_jump.bin -kernel payload.bin -initrd F -append T
        .equ    FDT_MAGIC, 0xd00dfeed
        .equ    FDT_BEGIN_NODE, 1
        .equ    FDT_END_NODE, 2
        .equ    FDT_PROP, 3
        .equ    FDT_NOP, 4
        .equ    FDT_END, 9
        .equ    SBI_PUTCHAR, 1                  # legacy extension 0x01
        .equ    SBI_SRST, 0x53525354            # "SRST"

        .section .text.start
        .globl _start
_start:
        mv      s0, a0                  # hart id
        mv      s1, a1                  # device tree
        la      sp, stack_top
        la      a0, m_hello
        call    puts
        mv      a0, s0
        call    putdec
        la      a0, m_tree
        call    puts
        mv      a0, s1
        call    puthex
        call    newline

        mv      a0, s1                  # the header: magic, then the blocks' offsets
        call    be32
        li      t0, FDT_MAGIC
        bne     a0, t0, bad_magic
        addi    a0, s1, 8
        call    be32
        add     s2, s1, a0              # s2: cursor in the structure block
        addi    a0, s1, 12
        call    be32
        add     s3, s1, a0              # s3: strings block
        li      s4, 0                   # depth
        li      s5, 0                   # in /chosen
        li      s6, 0                   # bootargs
        li      s7, -1                  # linux,initrd-start
        li      s8, -1                  # linux,initrd-end
        li      s9, 0                   # harts under /cpus

walk:   mv      a0, s2
        call    be32
        addi    s2, s2, 4
        li      t0, FDT_BEGIN_NODE
        beq     a0, t0, begin_node
        li      t0, FDT_END_NODE
        beq     a0, t0, end_node
        li      t0, FDT_PROP
        beq     a0, t0, prop
        li      t0, FDT_NOP
        beq     a0, t0, walk
        li      t0, FDT_END
        beq     a0, t0, report
        j       bad_token

begin_node:
        addi    s4, s4, 1
        li      t0, 2
        bne     s4, t0, 1f
        mv      a0, s2                  # a child of the root: is it /chosen?
        la      a1, s_chosen
        call    strcmp
        seqz    s5, a0
        j       skip_name
1:      li      t0, 3
        bne     s4, t0, skip_name
        mv      a0, s2                  # a grandchild: /cpus/cpu@N counts a hart
        la      a1, s_cpu
        li      a2, 4
        call    strncmp
        bnez    a0, skip_name
        addi    s9, s9, 1
skip_name:
        mv      a0, s2
        call    strlen
        add     s2, s2, a0
        addi    s2, s2, 1 + 3
        andi    s2, s2, -4
        j       walk

end_node:
        li      t0, 2
        bne     s4, t0, 1f
        li      s5, 0
1:      addi    s4, s4, -1
        j       walk

prop:   mv      a0, s2
        call    be32
        mv      s10, a0                 # the value's length
        addi    a0, s2, 4
        call    be32
        add     s11, s3, a0             # the property's name
        addi    s2, s2, 8               # the value
        beqz    s5, next_prop
        li      t0, 2
        bne     s4, t0, next_prop
        mv      a0, s11
        la      a1, s_bootargs
        call    strcmp
        bnez    a0, 1f
        mv      s6, s2
        j       next_prop
1:      mv      a0, s11
        la      a1, s_initrd_start
        call    strcmp
        bnez    a0, 2f
        mv      a0, s2
        mv      a1, s10
        call    bevalue
        mv      s7, a0
        j       next_prop
2:      mv      a0, s11
        la      a1, s_initrd_end
        call    strcmp
        bnez    a0, next_prop
        mv      a0, s2
        mv      a1, s10
        call    bevalue
        mv      s8, a0
next_prop:
        add     s2, s2, s10
        addi    s2, s2, 3
        andi    s2, s2, -4
        j       walk

report: la      a0, m_harts
        call    puts
        mv      a0, s9
        call    putdec
        call    newline
        la      a0, m_bootargs
        call    puts
        beqz    s6, 1f
        mv      a0, s6
        call    puts
1:      call    newline
        li      t0, -1
        beq     s7, t0, no_initrd
        beq     s8, t0, no_initrd
        la      a0, m_initrd
        call    puts
        mv      a0, s7
        call    puthex
        li      a0, '-'
        call    putchar
        mv      a0, s8
        call    puthex
        la      a0, m_bytes
        call    puts
        sub     a0, s8, s7
        call    putdec
        la      a0, m_first
        call    puts
        mv      s2, s7                  # its first line, at most 64 bytes
        addi    s3, s7, 64
        bgeu    s3, s8, 2f
        j       3f
2:      mv      s3, s8
3:      bgeu    s2, s3, 4f
        lbu     a0, 0(s2)
        li      t0, '\n'
        beq     a0, t0, 4f
        call    putchar
        addi    s2, s2, 1
        j       3b
4:      li      a0, '"'
        call    putchar
        call    newline
        j       shutdown
no_initrd:
        la      a0, m_no_initrd
        call    puts

shutdown:
        la      a0, m_bye
        call    puts
        li      a7, SBI_SRST
        li      a6, 0                   # system_reset
        li      a0, 0                   # shutdown
        li      a1, 0                   # no reason
        ecall
        la      a0, m_srst_failed       # SRST returned: not implemented
        call    puts
hang:   wfi
        j       hang

bad_magic:
        la      a0, m_bad_magic
        call    puts
        j       shutdown
bad_token:
        la      a0, m_bad_token
        call    puts
        j       shutdown

# a0 = a big-endian 32-bit value at a0
be32:   lbu     t0, 0(a0)
        lbu     t1, 1(a0)
        lbu     t2, 2(a0)
        lbu     t3, 3(a0)
        slli    t0, t0, 24
        slli    t1, t1, 16
        slli    t2, t2, 8
        or      t0, t0, t1
        or      t0, t0, t2
        or      a0, t0, t3
        ret

# a0 = the big-endian value of a1 bytes at a0 (one or two cells)
bevalue:
        mv      t1, a0
        li      a0, 0
1:      beqz    a1, 2f
        lbu     t0, 0(t1)
        slli    a0, a0, 8
        or      a0, a0, t0
        addi    t1, t1, 1
        addi    a1, a1, -1
        j       1b
2:      ret

strlen: mv      t0, a0
1:      lbu     t1, 0(t0)
        beqz    t1, 2f
        addi    t0, t0, 1
        j       1b
2:      sub     a0, t0, a0
        ret

# a0 = 0 if the strings at a0 and a1 are equal
strcmp: li      a2, -1
# a0 = 0 if the first a2 bytes of a0 and a1 are equal (or both end before)
strncmp:
1:      beqz    a2, 3f
        lbu     t0, 0(a0)
        lbu     t1, 0(a1)
        bne     t0, t1, 2f
        beqz    t0, 3f
        addi    a0, a0, 1
        addi    a1, a1, 1
        addi    a2, a2, -1
        j       1b
2:      li      a0, 1
        ret
3:      li      a0, 0
        ret

putchar:
        li      a7, SBI_PUTCHAR
        ecall
        ret

newline:
        li      a0, '\n'
        j       putchar

puts:   addi    sp, sp, -16
        sd      ra, 0(sp)
        sd      s0, 8(sp)
        mv      s0, a0
1:      lbu     a0, 0(s0)
        beqz    a0, 2f
        call    putchar
        addi    s0, s0, 1
        j       1b
2:      ld      ra, 0(sp)
        ld      s0, 8(sp)
        addi    sp, sp, 16
        ret

# "0x" and the hex digits of a0, without leading zeros
puthex: addi    sp, sp, -32
        sd      ra, 0(sp)
        sd      s0, 8(sp)
        sd      s1, 16(sp)
        sd      s2, 24(sp)
        mv      s0, a0
        li      a0, '0'
        call    putchar
        li      a0, 'x'
        call    putchar
        li      s1, 60                  # the shift of the digit
        li      s2, 0                   # printed one yet
1:      srl     a0, s0, s1
        andi    a0, a0, 15
        or      s2, s2, a0
        bnez    s2, 2f
        bnez    s1, 4f                  # a leading zero (the last digit always shows)
2:      li      t0, 10
        blt     a0, t0, 3f
        addi    a0, a0, 'a' - '0' - 10
3:      addi    a0, a0, '0'
        call    putchar
        li      s2, 1
4:      addi    s1, s1, -4
        bgez    s1, 1b
        ld      ra, 0(sp)
        ld      s0, 8(sp)
        ld      s1, 16(sp)
        ld      s2, 24(sp)
        addi    sp, sp, 32
        ret

# the decimal digits of a0
putdec: addi    sp, sp, -48
        sd      ra, 0(sp)
        sd      s0, 8(sp)
        sd      s1, 16(sp)
        mv      s0, a0
        addi    s1, sp, 48              # digits, last first, below the frame's end
        li      t1, 10
1:      remu    t0, s0, t1
        divu    s0, s0, t1
        addi    t0, t0, '0'
        addi    s1, s1, -1
        sb      t0, 0(s1)
        bnez    s0, 1b
        addi    t2, sp, 48
2:      lbu     a0, 0(s1)
        call    putchar
        addi    s1, s1, 1
        addi    t2, sp, 48
        bltu    s1, t2, 2b
        ld      ra, 0(sp)
        ld      s0, 8(sp)
        ld      s1, 16(sp)
        addi    sp, sp, 48
        ret

        .section .rodata
m_hello:        .asciz "payload: entered by the firmware on hart "
m_tree:         .asciz ", device tree at "
m_harts:        .asciz "payload: harts in /cpus: "
m_bootargs:     .asciz "payload: bootargs: "
m_initrd:       .asciz "payload: initrd "
m_bytes:        .asciz ", "
m_first:        .asciz " bytes, first line \""
m_no_initrd:    .asciz "payload: no initrd in /chosen\n"
m_bye:          .asciz "payload: shutting down through SBI SRST\n"
m_srst_failed:  .asciz "payload: SRST returned\n"
m_bad_magic:    .asciz "payload: no device tree at a1\n"
m_bad_token:    .asciz "payload: bad token in the device tree\n"
s_chosen:       .asciz "chosen"
s_cpu:          .asciz "cpu@"
s_bootargs:     .asciz "bootargs"
s_initrd_start: .asciz "linux,initrd-start"
s_initrd_end:   .asciz "linux,initrd-end"
