"""Property groups shared by many device types."""

from __future__ import annotations

from pydantic import Field

from qconf.model.props import (
    Address,
    ChardevSpec,
    Frequency,
    HostPath,
    Integer,
    IrqRefs,
    Props,
    Size,
)

__all__ = ("CharProps", "CpuProps", "IrqProps", "KernelProps", "MmioProps")


class MmioProps(Props):
    """A device with one register window on the system bus."""

    base: Address = Field(description="Bus address of the register window.")
    size: Size = Field(0x1000, description="Size of the register window.")
    priority: Integer = Field(
        0,
        description="Which region wins where regions of one address space overlap: the "
        "higher priority; overlaps at equal priority are errors.",
    )


class IrqProps(Props):
    """A device with one interrupt output."""

    irq: IrqRefs | None = Field(
        None,
        description="Interrupt input(s) this device's interrupt output is wired to, e.g. "
        "soc.plic.in[10], or a list to drive several; unset: not wired.",
    )


class CharProps(Props):
    """A device that talks to a character backend."""

    chardev: ChardevSpec | None = Field(
        None,
        description="Character backend: a chardev object's path, or stdio, null, memory, "
        "file:PATH, unix:PATH, tcp:HOST:PORT; unset: the first UART gets stdio, others null.",
    )


class CpuProps(Props):
    freq: Frequency = Field(
        1_000_000_000,
        ge=1,
        description="Core clock: virtual time advances by one cycle per "
        "instruction at this frequency.",
    )
    reset_vector: Address = Field(0, description="Address of the first instruction after reset.")
    firmware: HostPath | None = Field(
        None,
        description="The program this CPU runs: an ELF file (its entry point is where the CPU "
        "starts) or a raw binary (loaded at reset_vector). Relative to the file that sets it.",
    )


class KernelProps(Props):
    """Direct kernel boot, QEMU's ``-kernel``, ``-initrd`` and ``-append``, per CPU: the
    architecture places the kernel as its boot protocol says (:mod:`qconf.emu.kernel`)."""

    kernel: HostPath | None = Field(
        None,
        description="A Linux kernel this CPU boots directly (QEMU's -kernel), placed as the "
        "architecture's boot protocol says, with the device tree's address in the boot "
        "register. CPUs of one address space naming the same kernel boot it together: the "
        "first starts it, the others are its secondaries. Relative to the file that sets it.",
    )
    initrd: HostPath | None = Field(
        None,
        description="An initial RAM disk for the kernel (QEMU's -initrd): placed after the "
        "kernel and named in the device tree's /chosen. Relative to the file that sets it.",
    )
    append: str | None = Field(
        None,
        description="The kernel's command line (QEMU's -append): /chosen bootargs of this "
        "kernel's device tree, instead of the machine's bootargs.",
    )
