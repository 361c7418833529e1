# Timer interrupts on riscv-virt: the CLINT's mtimecmp raises a machine timer interrupt
# every 10 ms of mtime (10 MHz timebase); the handler prints a tick and re-arms it; the
# main loop waits with wfi. After 3 ticks, power off with status 0.
        .equ CLINT, 0x2000000
        .equ MTIMECMP, CLINT + 0x4000
        .equ MTIME, CLINT + 0xbff8
        .equ PERIOD, 100000         # 10 ms at 10 MHz

        .section .text.start
        .globl _start
_start:
        la      sp, stack_top
        la      t0, trap
        csrw    mtvec, t0
        la      a0, hello
        call    puts
        li      s1, 0               # ticks seen
        call    arm
        li      t0, 0x80            # mie.MTIE
        csrs    mie, t0
        csrsi   mstatus, 0x8        # mstatus.MIE
wait:   wfi
        li      t0, 3
        blt     s1, t0, wait
        csrci   mstatus, 0x8
        la      a0, bye
        call    puts
        li      a0, 0
        call    poweroff

# arm: mtimecmp = mtime + PERIOD
arm:    li      t0, MTIME
        ld      t1, 0(t0)
        li      t2, PERIOD
        add     t1, t1, t2
        li      t0, MTIMECMP
        sd      t1, 0(t0)
        ret

        .align 4
trap:   addi    sp, sp, -16
        sd      ra, 8(sp)
        csrr    t0, mcause
        bgez    t0, fail            # not an interrupt
        addi    s1, s1, 1
        la      a0, tick
        call    puts
        mv      a0, s1
        call    putdec
        li      a0, '\n'
        call    putc
        call    arm
        ld      ra, 8(sp)
        addi    sp, sp, 16
        mret
fail:   li      a0, 1
        call    poweroff

        .section .rodata
hello:  .asciz "timer demo: 3 ticks, 10 ms apart\n"
tick:   .asciz "tick "
bye:    .asciz "done\n"
