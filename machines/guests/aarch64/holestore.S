// A store where arm64-virt has nothing (0x1000_0000: QEMU's PCIe window, not modelled),
// MMU off: the run ends with "write to unmapped memory" at the store, as romstore.S.
        .section .text.start
        .global _start
_start:
        mov     x1, #0x10000000
        mov     x0, #0x55
        add     x2, x2, #1
        str     x0, [x1]
        add     x2, x2, #1              // not run
        add     x2, x2, #1
        b       _start
