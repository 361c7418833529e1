// A store to arm64-virt's flash at 0 (a ROM: it takes no stores), MMU off: the run ends
// with "write to read-only memory" at the store, the instructions after it in its block
// not run, whether qconf's AArch64 core has Unicorn check after every access or its TLB
// fill refuse the store (qconf/arch/aarch64/engine.py, stores.py).
        .section .text.start
        .global _start
_start:
        mov     x1, #0x1000
        mov     x0, #0x55
        add     x2, x2, #1
        str     x0, [x1]
        add     x2, x2, #1              // not run
        add     x2, x2, #1
        b       _start
