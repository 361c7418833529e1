# Several harts on riscv-virt (QEMU -smp N, qconf smp: N): every hart starts here with
# a0 = its hart id. Each announces itself by an atomic add; hart 0 waits 100 ms (time CSR)
# for the others, then the harts print in turn, each woken by an IPI (the CLINT's msip)
# from the one before, with mstatus.MIE off (wfi wakes on a pending MSIP all the same);
# the last wakes hart 0, which powers off.
        .equ CLINT, 0x2000000
        .equ MSIE, 0x8
        .equ STACK, 1024

        .section .text.start
        .globl _start
_start:
        mv      s0, a0              # the boot argument
        csrr    s1, mhartid
        la      sp, stacks_end
        slli    t0, s1, 10          # STACK bytes each
        sub     sp, sp, t0
        li      t0, MSIE
        csrw    mie, t0
        la      t0, arrived
        li      t1, 1
        amoadd.w zero, t1, (t0)
        bnez    s1, wait
        csrr    s2, time            # hart 0: give the others 100 ms (10 MHz)
        li      t0, 1000000
        add     s2, s2, t0
1:      csrr    t0, time
        bltu    t0, s2, 1b
        la      a0, hello
        call    puts
        lw      a0, arrived
        call    putdec
        li      a0, '\n'
        call    putc
        j       turn
wait:   call    sleep
turn:   la      a0, hart
        call    puts
        mv      a0, s1
        call    putdec
        la      a0, boot
        call    puts
        mv      a0, s0
        call    putdec
        li      a0, '\n'
        call    putc
        addi    a0, s1, 1           # wake the next hart (or hart 0 after the last)
        lw      t0, arrived
        bltu    a0, t0, 1f
        li      a0, 0
1:      slli    a0, a0, 2
        li      t0, CLINT
        add     t0, t0, a0
        li      t1, 1
        sw      t1, 0(t0)
        bnez    s1, park
        call    sleep               # hart 0: the last one is done
        la      a0, bye
        call    puts
        li      a0, 0
        call    poweroff
park:   wfi
        j       park

# sleep: wfi until this hart's msip is set, then clear it
sleep:  li      t0, CLINT
        slli    t1, s1, 2
        add     t0, t0, t1
1:      wfi
        lw      t1, 0(t0)
        beqz    t1, 1b
        sw      zero, 0(t0)
        ret

        .section .rodata
hello:  .asciz "harts: "
hart:   .asciz "hart "
boot:   .asciz ": a0 = "
bye:    .asciz "all harts done\n"

        .section .bss
        .align  4
arrived: .word 0
        .align  4
stacks: .space  8 * STACK
stacks_end:
