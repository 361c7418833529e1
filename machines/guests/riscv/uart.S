# Shared routines for riscv-virt guests: the NS16550A at 0x1000_0000 and the sifive_test
# finisher at 0x10_0000.
        .equ UART, 0x10000000
        .equ TEST, 0x100000

        .section .text
        .globl putc, puts, putdec, poweroff
# putc(a0 = byte): wait for THR empty (LSR bit 5), then write THR.
putc:
        li      t0, UART
1:      lbu     t1, 5(t0)
        andi    t1, t1, 0x20
        beqz    t1, 1b
        sb      a0, 0(t0)
        ret

# puts(a0 = NUL-terminated string)
puts:
        addi    sp, sp, -16
        sd      ra, 8(sp)
        sd      s0, 0(sp)
        mv      s0, a0
1:      lbu     a0, 0(s0)
        beqz    a0, 2f
        call    putc
        addi    s0, s0, 1
        j       1b
2:      ld      s0, 0(sp)
        ld      ra, 8(sp)
        addi    sp, sp, 16
        ret

# putdec(a0 = unsigned value): decimal digits
putdec:
        addi    sp, sp, -48
        sd      ra, 40(sp)
        addi    t2, sp, 32          # digits are built backwards from sp+32
        sb      zero, 0(t2)
        li      t3, 10
1:      remu    t4, a0, t3
        divu    a0, a0, t3
        addi    t4, t4, '0'
        addi    t2, t2, -1
        sb      t4, 0(t2)
        bnez    a0, 1b
        mv      a0, t2
        call    puts
        ld      ra, 40(sp)
        addi    sp, sp, 48
        ret

# poweroff(a0 = exit code): sifive_test PASS (0x5555) for 0, FAIL (code << 16 | 0x3333)
poweroff:
        li      t0, TEST
        bnez    a0, 1f
        li      t1, 0x5555
        sw      t1, 0(t0)
        j       2f
1:      slli    t1, a0, 16
        li      t2, 0x3333
        or      t1, t1, t2
        sw      t1, 0(t0)
2:      wfi
        j       2b
