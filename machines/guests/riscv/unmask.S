# Interrupts that become takeable are taken before the next instruction, on riscv-virt.
# Each case makes an interrupt pending while it is masked, unmasks it, and prints a letter
# after the unmasking instruction; the handler prints its own letter first if it was
# taken there (its epc is that next instruction), else '?':
#   1. M-mode: MSIP pending (msip), mie.MSIE set, `csrsi mstatus, MIE`        -> "MA"
#   2. mret to S-mode with MSIP pending: M-level interrupts are on below M    -> "MB"
#   3. S-mode: SSIP pending and delegated, sie.SSIE set, `csrsi sstatus, SIE` -> "SC"
#   4. sret with SPIE set and SSIP pending: SIE comes back on                 -> "SD"
        .equ CLINT, 0x2000000
        .equ MSIP, 1 << 3
        .equ SSIP, 1 << 1

        .section .text.start
        .globl _start
_start:
        la      sp, stack_top
        la      t0, mtrap
        csrw    mtvec, t0
        la      t0, strap
        csrw    stvec, t0
        li      t0, -1                  # PMP: let S-mode reach all memory
        csrw    pmpaddr0, t0
        li      t0, 0x1f
        csrw    pmpcfg0, t0
        li      t0, SSIP                # S-mode software interrupts go to S
        csrw    mideleg, t0
        li      t0, MSIP | SSIP
        csrw    mie, t0
        la      a0, hello
        call    puts
        # 1. MIE set by csrsi
        la      s1, after1
        call    ipi
        csrsi   mstatus, 0x8
after1: li      a0, 'A'
        call    putc
        csrci   mstatus, 0x8
        # 2. mret into S-mode (MIE off in M: M interrupts are on in S whatever it says)
        la      s1, s_entry
        call    ipi
        li      t0, 3 << 11             # MPP = S, MPIE = 0
        csrc    mstatus, t0
        li      t0, 1 << 11
        csrs    mstatus, t0
        li      t0, 1 << 7
        csrc    mstatus, t0
        la      t0, s_entry
        csrw    mepc, t0
        mret
s_entry:
        li      a0, 'B'
        call    putc
        # 3. S-mode: SIE set by csrsi
        la      s1, after3
        csrsi   sip, SSIP
        csrsi   sstatus, 0x2
after3: li      a0, 'C'
        call    putc
        csrci   sstatus, 0x2
        # 4. sret with SPIE set, to S-mode
        la      s1, after4
        csrsi   sip, SSIP
        li      t0, 1 << 5 | 1 << 8     # SPIE, SPP = S
        csrs    sstatus, t0
        la      t0, after4
        csrw    sepc, t0
        sret
after4: li      a0, 'D'
        call    putc
        li      a0, '\n'
        call    putc
        ecall                           # back to M-mode to power off

# ipi: set this hart's msip (hart 0)
ipi:    li      t0, CLINT
        li      t1, 1
        sw      t1, 0(t0)
        ret

        .align 4
mtrap:  csrr    t0, mcause
        bgez    t0, done                # the ecall: power off
        li      t0, CLINT               # the software interrupt: clear msip
        sw      zero, 0(t0)
        csrr    t0, mepc
        li      a0, 'M'
        beq     t0, s1, 1f
        li      a0, '?'
1:      call    putc
        mret
done:   li      a0, 0
        call    poweroff

        .align 4
strap:  csrci   sip, SSIP
        csrr    t0, sepc
        li      a0, 'S'
        beq     t0, s1, 1f
        li      a0, '?'
1:      call    putc
        sret

        .section .rodata
hello:  .asciz "unmask: "
