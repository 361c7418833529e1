"""Booting a Linux kernel directly on AArch64 (Documentation/arm64/booting.rst), placed
as QEMU 7.2's ``virt`` board places it (hw/arm/boot.c).

- **The kernel.** An arm64 ``Image`` (``ARM\\x64`` at byte 56) goes ``text_offset`` bytes
  above a 2 MiB aligned base in RAM; QEMU keeps the first 2 MiB for its boot stub, so a
  ``text_offset`` below 4 KiB moves up by 2 MiB (Linux 6.1's is 0: the kernel starts at
  RAM + 2 MiB). Its ``image_size`` (0 before Linux 3.17: then ``text_offset`` is 0x80000
  and the file's length counts) is what it occupies, BSS included. An ELF file is loaded
  by its program headers and started at its entry; any other file is copied to RAM +
  0x80000 and started there.
- **The initrd** at RAM + min(RAM size / 2, 128 MiB), or past the kernel if that is
  higher, on a 4 KiB boundary; **the device tree** after it, 2 MiB aligned (early arm64
  kernels map the tree's 2 MiB block).
- **The CPUs.** The boot CPU starts at the kernel's first instruction in EL1 with x0 = the
  tree's address (x1-x3 = 0; the MMU and caches off, every exception masked: the core's
  reset state); the others start powered off until the kernel turns them on with PSCI
  ``CPU_ON`` (the tree's ``enable-method = "psci"``).
"""

from __future__ import annotations

from qconf.emu.kernel import BootPlan, KernelRequest

__all__ = ("IMAGE_MAGIC", "place")

IMAGE_MAGIC = b"ARM\x64"
MIB = 1 << 20
BOOT_STUB = 4 << 10  # QEMU's BOOTLOADER_MAX_SIZE
RAW_OFFSET = 0x80000  # QEMU's KERNEL64_LOAD_ADDR


def _align_up(value: int, alignment: int) -> int:
    return -(-value // alignment) * alignment


def place(request: KernelRequest) -> BootPlan:
    """Where the kernel, its initrd and its device tree go, and the kernel's entry."""
    base, size = request.ram
    data = request.kernel
    if request.elf is not None:
        chunks, entry = request.elf
        end = max(a + len(d) for a, d in chunks) if chunks else base
    elif len(data) >= 64 and data[56:60] == IMAGE_MAGIC:
        text_offset = int.from_bytes(data[8:16], "little")
        image_size = int.from_bytes(data[16:24], "little")
        if image_size == 0:  # before 3.17: text_offset is not given
            text_offset, image_size = RAW_OFFSET, len(data)
        if text_offset < BOOT_STUB:
            text_offset += 2 * MIB
        entry = _align_up(base, 2 * MIB) + text_offset
        chunks = [(entry, data)]
        end = entry + max(image_size, len(data))
    else:
        entry = base + RAW_OFFSET
        chunks = [(entry, data)]
        end = entry + len(data)
    initrd = _align_up(max(base + min(size // 2, 128 * MIB), end), 4096)
    dtb = _align_up(initrd + (request.initrd_size or 0), 2 * MIB)
    return BootPlan(chunks, entry, initrd if request.initrd_size is not None else None, dtb)
