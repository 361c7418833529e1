"""Putting images into memory: ELF files by their program headers (pyelftools), raw
binaries at an address."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from qconf.emu.memory import RunError

if TYPE_CHECKING:
    from qconf.config.origin import Origin

__all__ = ("Chunk", "read_file", "read_image")

Chunk = tuple[int, bytes]

PACKAGES = (
    ("/usr/lib/riscv64-linux-gnu/opensbi/", "opensbi"),
    ("/usr/lib/u-boot/", "u-boot-qemu"),
    ("/usr/lib/debian-installer/images/12/arm64/", "debian-installer-12-netboot-arm64"),
)
"""Where Debian's firmware packages put their files, to name the package when one is
missing."""


def read_file(path: str, origin: Origin | None = None) -> bytes:
    """The bytes of an image file; ``origin`` is where the path was set, for errors.

    :raises RunError: the file cannot be read (the hint names the Debian package that
        installs it, for the known firmware and kernel directories).
    """
    p = Path(path)
    try:
        return p.read_bytes()
    except OSError as exc:
        package = next((pkg for prefix, pkg in PACKAGES if path.startswith(prefix)), None)
        if package:
            hint = f"it comes with Debian's {package} package: apt-get install {package}"
        elif p.is_absolute():
            hint = "check the path"
        else:  # set by --set or over QMP: files resolve their relative paths themselves
            hint = (f"check the path: it was looked for in {Path.cwd()} (a relative path set "
                    "in a file starts at that file; from --set or QMP, at the working "
                    "directory)")  # fmt: skip
        raise RunError(f"cannot read image {path}: {exc.strerror or exc}", code="E903",
                       origin=origin, hint=hint) from None  # fmt: skip


def read_image(
    path: str, address: int | None, origin: Origin | None = None
) -> tuple[list[Chunk], int | None]:
    """The chunks (address, bytes) of an image and its entry point (ELF), or the file's
    bytes at ``address`` (raw); ``origin`` is where the path was set, for errors.

    :raises RunError: the file is missing or is a broken ELF.
    """
    p = Path(path)
    data = read_file(path, origin)
    if data[:4] != b"\x7fELF":
        if address is None:
            raise RunError(f"{path} is not an ELF file and no load address is given",
                           code="E904", origin=origin,
                           hint="set the image's address")  # fmt: skip
        return [(address, data)], None
    # imported here: a run with raw images only (firmware) does without it
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        with p.open("rb") as f:
            elf = ELFFile(f)
            chunks = []
            for seg in elf.iter_segments():
                if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0:
                    continue
                body = seg.data() + bytes(seg["p_memsz"] - seg["p_filesz"])
                chunks.append((seg["p_paddr"], body))
            return chunks, int(elf["e_entry"])
    except ELFError as exc:
        raise RunError(f"{path}: broken ELF file: {exc}", code="E904", origin=origin) from None
