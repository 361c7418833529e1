"""Direct kernel boot (QEMU's -kernel, -initrd, -append): placement by the architecture's
boot protocol, the device tree's /chosen, where the CPUs start."""

from __future__ import annotations

import re
import struct
import subprocess
from pathlib import Path

import fdt
import pytest
from click.testing import CliRunner

import qconf
from qconf.arch.aarch64.boot import place
from qconf.arch.riscv.boot import place_rv32, place_rv64
from qconf.cli import main
from qconf.emu.emulator import Emulator
from qconf.emu.kernel import KernelRequest
from qconf.emu.memory import RunError
from tests.external import require_file, require_program
from tests.helpers import write

MIB = 1 << 20
MACHINES = Path(__file__).resolve().parent.parent / "machines"


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
    emulator = Emulator(qconf.build(qconf.resolve([str(tmp_path / "board.yaml")], sets)))
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


# --- RISC-V: the kernel is the payload of the harts' firmware (OpenSBI fw_jump) -------

FW_JUMP = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin"
FW_END = 0x8000_0000 + 115_328  # Debian's fw_jump.bin loaded at the start of RAM
GIB = 1 << 30


@pytest.mark.parametrize(
    ("width", "firmware_end", "ram", "kernel", "initrd_at", "dtb"),
    [
        # QEMU virt, 128 MiB: the kernel where fw_jump jumps, initrd at RAM / 2 past it,
        # the tree at the last 2 MiB boundary below the RAM's end
        (64, FW_END, (0x8000_0000, 128 * MIB), 0x8020_0000, 0x8420_0000, 0x87E0_0000),
        # 1 GiB: the initrd at 128 MiB past the kernel; the RAM ends at 3 GiB
        (64, FW_END, (0x8000_0000, GIB), 0x8020_0000, 0x8820_0000, 0xBFE0_0000),
        # 4 GiB: the tree stays below 3 GiB, addressable by a 32-bit kernel
        (64, FW_END, (0x8000_0000, 4 * GIB), 0x8020_0000, 0x8820_0000, 0xBFE0_0000),
        # a RAM above 3 GiB: the tree at its end
        (64, 0x1_0001_C280, (0x1_0000_0000, 64 * MIB), 0x1_0020_0000, 0x1_0220_0000, 0x1_03E0_0000),
        # no firmware: the kernel at the RAM's start
        (64, None, (0x8000_0000, 128 * MIB), 0x8000_0000, 0x8400_0000, 0x87E0_0000),
        # rv32: fw_jump jumps to RAM + 4 MiB
        (32, FW_END, (0x8000_0000, 128 * MIB), 0x8040_0000, 0x8440_0000, 0x87E0_0000),
        # a firmware larger than 2 MiB pushes the kernel to the next boundary
        (64, 0x8020_0001, (0x8000_0000, 128 * MIB), 0x8040_0000, 0x8440_0000, 0x87E0_0000),
    ],
    ids=["virt-128m", "virt-1g", "virt-4g", "high-ram", "no-firmware", "rv32", "big-firmware"],
)
def test_riscv_placement_follows_qemu(width, firmware_end, ram, kernel, initrd_at, dtb):
    data = b"\x13\x00\x00\x00" * 16  # nops
    plan = (place_rv64 if width == 64 else place_rv32)(
        KernelRequest(data, None, 100, ram, firmware_end=firmware_end, tree_size=0x2000)
    )
    assert plan.chunks == [(kernel, data)]
    assert (plan.initrd, plan.dtb) == (initrd_at, dtb)
    # the harts start in their firmware, all of them: it picks the one that boots
    assert plan.entry is None and not plan.secondaries_off


def test_riscv_elf_kernel_goes_where_it_is_linked():
    chunks = [(0x8040_0000, b"\x13\x00\x00\x00")]
    plan = place_rv64(KernelRequest(b"\x7fELF", (chunks, 0x8040_0000), None,
                                    (0x8000_0000, 128 * MIB), firmware_end=FW_END,
                                    tree_size=0x2000))  # fmt: skip
    assert (plan.chunks, plan.initrd) == (chunks, None)
    assert plan.dtb == 0x87E0_0000


RISCV_BOARD = """\
extends: riscv-virt
cpu0:
  reset_vector: 0x8000_0000
  firmware: fw.bin
  kernel: Image
  initrd: initrd.img
  append: console=hvc0 earlycon=sbi
"""


@pytest.mark.parametrize("smp", [1, 4])
def test_riscv_harts_start_in_the_firmware_with_hartid_and_tree(tmp_path, smp):
    """The firmware (any program: a stand-in for fw_jump here) where it was loaded, the
    kernel at the 2 MiB boundary after it, the initrd and the tree as QEMU places them;
    every hart at the firmware's entry with a0 = its hart id and a1 = the tree."""
    from unicorn import riscv_const as rv

    firmware = b"\x6f\x00\x00\x00" * 1024  # j . (4 KiB)
    kernel = b"KERNEL" * 100
    (tmp_path / "fw.bin").write_bytes(firmware)
    (tmp_path / "Image").write_bytes(kernel)
    (tmp_path / "initrd.img").write_bytes(b"INITRD" * 1000)
    emulator = prepared(tmp_path, RISCV_BOARD, f"smp={smp}")
    try:
        memory = emulator.platform.buffer(emulator.machine.object("ram"))
        assert memory.read(0, len(firmware)) == firmware
        assert memory.read(2 * MIB, len(kernel)) == kernel
        assert memory.read(66 * MIB, 6000) == b"INITRD" * 1000
        assert len(emulator.cpus) == smp
        for hart, core in enumerate(emulator.cpus):
            regs = [core.uc.reg_read(r) for r in (rv.UC_RISCV_REG_PC, rv.UC_RISCV_REG_A0,
                                                  rv.UC_RISCV_REG_A1)]  # fmt: skip
            assert regs == [0x8000_0000, hart, 0x87E0_0000]
            assert not core.waiting
        header = memory.read(0x07E0_0000, 8)
        tree = fdt.parse_dtb(memory.read(0x07E0_0000, int.from_bytes(header[4:], "big")))
        chosen = tree.get_node("/chosen")
        assert chosen.get_property("bootargs").value == "console=hvc0 earlycon=sbi"
        assert chosen.get_property("linux,initrd-start").data == [0, 0x8420_0000]
        assert chosen.get_property("linux,initrd-end").data == [0, 0x8420_0000 + 6000]
        cpus = [n.name for n in tree.get_node("/cpus").nodes if n.name.startswith("cpu@")]
        assert cpus == [f"cpu@{i}" for i in range(smp)]
    finally:
        emulator.close()


KERNEL_BOARD = MACHINES / "riscv-kernel" / "board.yaml"
PAYLOAD = MACHINES / "guests" / "riscv" / "payload.bin"
INITRD = MACHINES / "riscv-kernel" / "initrd.txt"
APPEND = "console=hvc0 root=/dev/ram"


def payload_lines(harts: int, append: str = APPEND) -> list[str]:
    """What machines/guests/riscv/payload.S prints when fw_jump enters it (on hart 0,
    which wins OpenSBI's boot lottery on both emulators) with machines/riscv-kernel's
    initrd: the tree as fw_jump relocated it (FW_JUMP_FDT_ADDR, RAM + 34 MiB)."""
    size = INITRD.stat().st_size
    return [
        "payload: entered by the firmware on hart 0, device tree at 0x82200000",
        f"payload: harts in /cpus: {harts}",
        f"payload: bootargs: {append}",
        f"payload: initrd 0x84200000-{0x8420_0000 + size:#x}, {size} bytes, first line "
        '"qconf initrd: hello from the RAM disk"',
        "payload: shutting down through SBI SRST",
    ]


def payload_output(text: str) -> list[str]:
    return [line.rstrip("\r") for line in text.splitlines() if line.startswith("payload:")]


@pytest.mark.parametrize("smp", [1, 2, 4])
def test_opensbi_fw_jump_boots_the_payload_with_its_initrd_and_command_line(smp):
    """Debian's OpenSBI enters the payload in S-mode with the tree qconf wrote; the
    payload finds /chosen's bootargs and initrd, sees every hart and shuts down by SBI
    SRST (status 0)."""
    require_file(FW_JUMP, "opensbi")
    r = CliRunner().invoke(main, ["run", "-c", str(KERNEL_BOARD), "--set", f"smp={smp}"])
    assert r.exit_code == 0, r.output[-2000:]
    assert f"Domain0 HARTs             : {','.join(f'{i}*' for i in range(smp))}" in r.stdout
    assert payload_output(r.stdout) == payload_lines(smp)


@pytest.mark.parametrize("smp", [1, 2])
def test_fw_jump_kernel_boot_prints_what_qemu_prints(smp):
    """qemu-system-riscv64 -M virt -bios fw_jump.bin -kernel -initrd -append: the same
    payload lines (same hart, tree, initrd addresses and contents, command line)."""
    require_file(FW_JUMP, "opensbi")
    append = 'console=hvc0 root=/dev/ram "quoted"'
    r = CliRunner().invoke(main, ["run", "-c", str(KERNEL_BOARD), "--set", f"smp={smp}",
                                  "--set", f"cpu0.append={append}"])  # fmt: skip
    assert r.exit_code == 0, r.output[-2000:]
    qemu = require_program("qemu-system-riscv64", "qemu-system-misc")
    done = subprocess.run(
        [qemu, "-M", "virt", "-smp", str(smp), "-bios", FW_JUMP, "-kernel", str(PAYLOAD),
         "-initrd", str(INITRD), "-append", append, "-display", "none", "-monitor", "none",
         "-serial", "stdio"],
        capture_output=True, timeout=60, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert payload_output(r.stdout) == payload_lines(smp, append)

    def any_hart(lines: list[str]) -> list[str]:
        # OpenSBI's boot hart is whichever wins a race on QEMU (qconf's is always hart 0)
        return [re.sub(r"on hart \d+,", "on hart N,", line) for line in lines]

    theirs = payload_output(done.stdout.decode())
    assert re.search(r"on hart [0-9]+,", theirs[0]) and int(theirs[0].split("hart ")[1][0]) < smp
    assert any_hart(theirs) == any_hart(payload_output(r.stdout))
