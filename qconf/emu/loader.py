"""Putting images into memory: ELF files by their program headers (pyelftools), raw
binaries at an address."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

from qconf.config.files import Unreadable, read_regular
from qconf.emu.memory import RunError, flatten

if TYPE_CHECKING:
    from qconf.assembly.machine import AddressSpace
    from qconf.config.origin import Origin

__all__ = ("Chunk", "read_file", "read_image")

Chunk = tuple[int, bytes]

PACKAGES = (
    ("/usr/lib/riscv64-linux-gnu/opensbi/", "opensbi"),
    ("/usr/lib/u-boot/", "u-boot-qemu"),
    ("/usr/lib/debian-installer/images/12/arm64/", "debian-installer-12-netboot-arm64"),
)
"""Where Debian's firmware and installer packages put their files, to name the package
when one is missing."""


def read_image(
    path: str,
    address: int | None,
    origin: Origin | None = None,
    format: str = "auto",
    space: AddressSpace | None = None,
) -> tuple[list[Chunk], int | None]:
    """The chunks (address, bytes) of an image and its entry point (ELF), or the file's
    bytes at ``address`` (raw); ``origin`` is where the path was set, for errors.

    :param format: ``elf`` (by its program headers; the file must be one), ``raw`` (the
        bytes at ``address``), or ``auto`` (ELF if the file starts like one).
    :param space: the address space it is loaded into: the file is read only up to the
        memory there, and each ELF segment must fit in one RAM or ROM there, checked
        before its bytes are made (a 4 KiB file may declare a 64 GiB segment).
    :raises RunError: the file is missing, not a regular file, larger than the memory it
        goes to, a broken ELF file (or not one, as ``elf``), or a segment that does not
        fit.
    """
    shown = _shown(path)
    memory = _memory(space) if space is not None else None
    data = read_file(path, origin, memory)
    is_elf = data[:4] == b"\x7fELF"
    if format == "elf" and not is_elf:
        raise RunError(f"{shown} is not an ELF file, but the image says format: elf",
                       code="E904", origin=origin,
                       hint="set format: raw (with an address) or auto")  # fmt: skip
    if format == "raw" or not is_elf:
        if address is None:
            raise RunError(f"{shown} is not an ELF file and no load address is given"
                           if format != "raw" else f"{shown}: a raw image needs an address",
                           code="E904", origin=origin,
                           hint="set the image's address")  # fmt: skip
        return [(address, data)], None
    return _elf(shown, data, origin, memory)


def read_file(
    path: str, origin: Origin | None = None, memory: list[tuple[int, int]] | None = None
) -> bytes:
    """The bytes of an image file, read up to the size of ``memory`` (the stretches of RAM
    and ROM it could go into, as (start, end); None: no limit); ``origin`` is where the
    path was set, for errors.

    :raises RunError: the file is missing, not a regular file, or larger than ``memory``
        (a missing file's hint names the Debian package that installs it, for the known
        firmware and installer directories).
    """
    shown = _shown(path)
    limit = sum(end - start for start, end in memory) if memory is not None else None
    try:
        data, _ = read_regular(path, limit)
    except Unreadable as exc:
        if exc.too_large:
            raise RunError(
                f"{shown} is larger than all the RAM and ROM it could be loaded into "
                f"({limit:,} bytes)",
                code="E907",
                origin=origin,
                hint="check the path, or give the machine more memory",
            ) from None
        raise RunError(f"cannot read image {shown}: {exc.message}", code="E903", origin=origin,
                       hint="name an image file") from None  # fmt: skip
    except (OSError, ValueError) as exc:
        raise RunError(f"cannot read image {shown}: {getattr(exc, 'strerror', None) or exc}",
                       code="E903", origin=origin, hint=_missing_hint(path)) from None  # fmt: skip
    return data


def memory_of(space: AddressSpace) -> list[tuple[int, int]]:
    """The stretches of RAM and ROM ``space`` shows, as (start, end)."""
    return _memory(space)


def _elf(
    path: str, data: bytes, origin: Origin | None, memory: list[tuple[int, int]] | None
) -> tuple[list[Chunk], int | None]:
    # imported here: a run with raw images only (firmware) does without it
    import struct

    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        elf = ELFFile(io.BytesIO(data))  # the bytes read: the file is read once
        chunks = []
        for i, seg in enumerate(elf.iter_segments()):
            if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0:
                continue
            start, size, in_file = seg["p_paddr"], seg["p_memsz"], seg["p_filesz"]
            if in_file > size:
                raise RunError(f"{path}: broken ELF file: segment {i} has more bytes in the "
                               f"file ({in_file:#x}) than in memory ({size:#x})",
                               code="E904", origin=origin)  # fmt: skip
            if memory is not None and not any(a <= start and start + size <= b
                                               for a, b in memory):  # fmt: skip
                raise RunError(f"{path}: segment {i} ({size:#x} bytes at {start:#x}) does not "
                               "fit in any RAM or ROM", code="E907", origin=origin,
                               hint="link the program for this machine's memory map (qconf "
                               "mtree shows it)")  # fmt: skip
            body = seg.data()
            chunks.append((start, body + bytes(size - len(body))))
        return chunks, int(elf["e_entry"])
    except (ELFError, OverflowError, struct.error) as exc:
        raise RunError(f"{path}: broken ELF file: {exc}", code="E904", origin=origin) from None


def _memory(space: AddressSpace) -> list[tuple[int, int]]:
    """The stretches of RAM and ROM ``space`` shows, as (start, end)."""
    return [(s.start, s.end) for s in flatten(space) if s.mapping.region.kind != "mmio"]


def _shown(path: str) -> str:
    """``path`` as messages show files: relative to the working directory under it."""
    from qconf.config.origin import display_path

    try:
        return display_path(Path(path)) if Path(path).is_absolute() else path
    except (OSError, ValueError):
        return path


def _missing_hint(path: str) -> str:
    package = next((pkg for prefix, pkg in PACKAGES if path.startswith(prefix)), None)
    if package:
        return f"it comes with Debian's {package} package: apt-get install {package}"
    if Path(path).is_absolute():
        return "check the path"
    # set by --set or over QMP: files resolve their relative paths themselves
    return (
        f"check the path: it was looked for in {Path.cwd()} (a relative path set in a "
        "file starts at that file; from --set or QMP, at the working directory)"
    )
