"""Direct kernel boot (QEMU's -kernel, -initrd, -append): placement by the architecture's
boot protocol, the device tree's /chosen, where the CPUs start."""

from __future__ import annotations

import struct

import fdt
import pytest

import qconf
from qconf.arch.aarch64.boot import place
from qconf.emu.emulator import Emulator
from qconf.emu.kernel import KernelRequest
from qconf.emu.memory import RunError
from tests.helpers import write

MIB = 1 << 20


def arm64_image(text_offset: int, image_size: int, body: bytes = b"") -> bytes:
    """An arm64 Image header (Documentation/arm64/booting.rst) and ``body``."""
    header = struct.pack("<IIQQQQQQII", 0x14000010, 0, text_offset, image_size, 0x0A, 0, 0,
                         0, 0x644D5241, 0)  # fmt: skip
    return header + body


@pytest.mark.parametrize(
    ("text_offset", "image_size", "initrd", "ram", "kernel", "initrd_at", "dtb"),
    [
        # Linux >= 3.17, text_offset 0: QEMU keeps the first 2 MiB, initrd at RAM + 128 MiB
        (0, 30 * MIB, 4096, (0x4000_0000, 1 << 30), 0x4020_0000, 0x4800_0000, 0x4820_0000),
        # a small RAM: the initrd at its middle, or past the kernel
        (0, 10 * MIB, 100, (0x4000_0000, 32 * MIB), 0x4020_0000, 0x4100_0000, 0x4120_0000),
        (0, 10 * MIB, 100, (0x4000_0000, 16 * MIB), 0x4020_0000, 0x40C0_0000, 0x40E0_0000),
        (0x80000, 4 * MIB, None, (0x4000_0000, 16 * MIB), 0x4008_0000, 0x4080_0000, 0x4080_0000),
        # before 3.17: image_size 0, text_offset taken as 0x80000
        (0x12345, 0, None, (0x4000_0000, 1 << 30), 0x4008_0000, 0x4800_0000, 0x4800_0000),
    ],
    ids=["linux-6.1", "small-ram", "past-the-kernel", "text-offset", "old-image"],
)
def test_arm64_image_placement_follows_qemu(text_offset, image_size, initrd, ram, kernel,
                                            initrd_at, dtb):  # fmt: skip
    data = arm64_image(text_offset, image_size, bytes(64))
    plan = place(KernelRequest(data, None, initrd, ram))
    assert plan.chunks == [(kernel, data)]
    assert (plan.entry, plan.initrd, plan.dtb) == (kernel, initrd_at if initrd else None, dtb)
    assert plan.secondaries_off


def test_raw_kernel_goes_at_0x80000():
    plan = place(KernelRequest(b"\x00" * 64, None, None, (0x4000_0000, 1 << 30)))
    assert plan.entry == 0x4008_0000


BOARD = """\
extends: arm64-virt
ram:
  size: 256MiB
cpu0:
  kernel: Image
  initrd: initrd.img
  append: console=ttyAMA0 "quoted" earlycon
"""


def prepared(tmp_path, board: str = BOARD, *sets: str) -> Emulator:
    write(tmp_path, "board.yaml", board)
    emulator = Emulator(qconf.build(qconf.resolve([str(tmp_path / "board.yaml"), *sets])))
    emulator.prepare()
    return emulator


def test_kernel_initrd_and_tree_are_placed_and_named_in_chosen(tmp_path):
    image = arm64_image(0, 3 * MIB, b"\x1f\x20\x03\xd5" * 4)  # nops
    (tmp_path / "Image").write_bytes(image)
    (tmp_path / "initrd.img").write_bytes(b"INITRD" * 1000)
    emulator = prepared(tmp_path)
    try:
        core = emulator.cpus[0]
        memory = emulator.platform.buffer(emulator.machine.object("ram"))
        assert memory.read(2 * MIB, len(image)) == image
        assert memory.read(128 * MIB, 6000) == b"INITRD" * 1000
        from unicorn import arm64_const as a64

        assert core.uc.reg_read(a64.UC_ARM64_REG_PC) == 0x4020_0000
        assert core.uc.reg_read(a64.UC_ARM64_REG_X0) == 0x4820_0000
        header = memory.read(0x0820_0000, 40)
        tree = fdt.parse_dtb(memory.read(0x0820_0000, int.from_bytes(header[4:8], "big")))
        chosen = tree.get_node("/chosen")
        assert chosen.get_property("bootargs").value == 'console=ttyAMA0 "quoted" earlycon'
        start = chosen.get_property("linux,initrd-start").data
        end = chosen.get_property("linux,initrd-end").data
        assert start == [0, 0x4800_0000] and end == [0, 0x4800_0000 + 6000]
    finally:
        emulator.close()


def test_missing_kernel_names_the_file_where_it_was_set(tmp_path):
    with pytest.raises(RunError) as info:
        prepared(tmp_path)
    assert info.value.code == "E903"
    assert str(tmp_path / "Image") in str(info.value)
    assert "board.yaml" in str(info.value.origin)


def test_installer_kernel_names_its_package(tmp_path):
    board = BOARD.replace("Image", "/usr/lib/debian-installer/images/12/arm64/missing/linux")
    with pytest.raises(RunError) as info:
        prepared(tmp_path, board)
    assert "apt-get install debian-installer-12-netboot-arm64" in info.value.hint


HETERO = """\
type: machine
big:
  type: container
  address_space: true
  cpu0: {type: aarch64, kernel: big.img, append: console=ttyAMA0 big}
  ram: {type: ram, base: 0x4000_0000, size: 64MiB}
little:
  type: container
  address_space: true
  cpu0: {type: aarch64, kernel: little.img, append: little, mpidr: 0x100}
  cpu1: {type: aarch64, kernel: little.img, append: little, mpidr: 0x101}
  ram: {type: ram, base: 0x8000_0000, size: 32MiB}
"""


def test_cores_of_two_address_spaces_boot_two_kernels(tmp_path):
    """No machine-wide kernel: each group is placed in the RAM its boot CPU sees, with its
    own tree; a group's second CPU starts powered off."""
    from unicorn import arm64_const as a64

    (tmp_path / "big.img").write_bytes(arm64_image(0, MIB, b"BIG!"))
    (tmp_path / "little.img").write_bytes(arm64_image(0, MIB, b"LITTLE"))
    emulator = prepared(tmp_path, HETERO)
    try:
        big, little0, little1 = emulator.cpus
        pcs = [c.uc.reg_read(a64.UC_ARM64_REG_PC) for c in emulator.cpus]
        assert pcs[:2] == [0x4020_0000, 0x8020_0000]
        assert (big.off, little0.off, little1.off) == (False, False, True)
        assert (big.waiting, little0.waiting, little1.waiting) == (False, False, True)
        trees = []
        for core, ram in ((big, "big.ram"), (little0, "little.ram")):
            dtb = core.uc.reg_read(a64.UC_ARM64_REG_X0)
            memory = emulator.platform.buffer(emulator.machine.object(ram))
            base = emulator.machine.object(ram).get("base")
            header = memory.read(dtb - base, 8)
            trees.append(fdt.parse_dtb(memory.read(dtb - base, int.from_bytes(header[4:], "big"))))
            assert memory.read(2 * MIB + 64, 4) in (b"BIG!", b"LITT")
        assert [t.get_node("/chosen").get_property("bootargs").value for t in trees] == [
            "console=ttyAMA0 big", "little"]  # fmt: skip
    finally:
        emulator.close()
