"""Booting a kernel directly on RISC-V through firmware, placed as QEMU 7.2's ``virt``
board places it (hw/riscv/boot.c) for ``-bios fw_jump.bin -kernel ... -initrd ...``.

- **The CPUs.** Every hart starts in its own ``firmware`` (OpenSBI), in M-mode with
  a0 = its hart id and a1 = the device tree's address; the firmware picks the hart that
  boots, enters the kernel in S-mode and keeps the others stopped until the kernel starts
  them (SBI HSM). The kernel is the firmware's payload: OpenSBI's ``fw_jump`` jumps to a
  fixed address (``FW_JUMP_ADDR``, RAM + 2 MiB on rv64, + 4 MiB on rv32), where the
  placement below puts a raw kernel after a firmware smaller than that.
- **The kernel.** An ELF file is loaded by its program headers (its entry is the
  kernel's); any other file goes at the end of the firmware rounded up to 2 MiB (rv64) or
  4 MiB (rv32), at the RAM's start without one.
- **The initrd** at the kernel's entry + min(RAM size / 2, 128 MiB).
- **The device tree** as far up as it can be and stay addressable by a 32-bit kernel:
  just below the end of the RAM or 3 GiB, whichever is lower, 2 MiB aligned.
"""

from __future__ import annotations

from qconf.emu.kernel import BootPlan, KernelRequest

__all__ = ("place_rv32", "place_rv64")

MIB = 1 << 20
LOW_4G_TREE_LIMIT = 3072 * MIB


def _align_up(value: int, alignment: int) -> int:
    return -(-value // alignment) * alignment


def _place(request: KernelRequest, alignment: int) -> BootPlan:
    base, size = request.ram
    data = request.kernel
    if request.elf is not None:
        chunks, entry = request.elf
    else:
        entry = _align_up(request.firmware_end or base, alignment)
        chunks = [(entry, data)]
    initrd = entry + min(size // 2, 128 * MIB)
    end = base + size
    top = min(end, LOW_4G_TREE_LIMIT) if base < LOW_4G_TREE_LIMIT else end
    dtb = (top - request.tree_size) & ~(2 * MIB - 1)
    return BootPlan(chunks, None, initrd if request.initrd_size is not None else None, dtb,
                    secondaries_off=False)  # fmt: skip


def place_rv64(request: KernelRequest) -> BootPlan:
    """Where a riscv64 kernel, its initrd and its device tree go; the harts start in
    their firmware."""
    return _place(request, 2 * MIB)


def place_rv32(request: KernelRequest) -> BootPlan:
    """As :func:`place_rv64` for riscv32, whose raw kernels go on a 4 MiB boundary."""
    return _place(request, 4 * MIB)
