"""Host memory and the map each CPU sees.

Every RAM and ROM has one host buffer (an anonymous mmap, on transparent huge pages where
the host allows); each CPU that can see the region maps that same buffer
(``mem_map_ptr``), so CPUs of different architectures share memory. MMIO regions become
``mmio_map`` callbacks, one per run of 4 KiB pages, dispatching to the device whose
window holds the address. Where regions overlap, the inner address space wins over the
one beneath it, then the higher priority.
"""

from __future__ import annotations

import bisect
import contextlib
import ctypes
import itertools
import mmap
import sys
from dataclasses import dataclass, field

from qconf.assembly.machine import AddressSpace, Mapping
from qconf.config.origin import Origin
from qconf.errors import QconfError
from qconf.model.objects import Object

__all__ = ("PAGE", "HostBuffer", "RunError", "Segment", "flatten")

PAGE = 0x1000
HUGE_PAGE = 2 << 20


class RunError(QconfError):
    """The machine cannot be run as built (a layout Unicorn cannot map, a bad image)."""

    code = "E900"


class HostBuffer:
    """The bytes of one RAM or ROM.

    :param owner: the RAM or ROM, to name it (and where its size was set) when the host
        cannot give the memory.
    :raises RunError: the host cannot map that much memory (E909).
    """

    def __init__(self, size: int, owner: Object | None = None) -> None:
        self.size = size
        try:
            self._map = _anonymous(max(PAGE, -(-size // PAGE) * PAGE))
        except (OSError, OverflowError, ValueError, MemoryError) as exc:
            raise _no_memory(size, owner, exc) from None
        self._anchor = ctypes.c_char.from_buffer(self._map)
        self.address = ctypes.addressof(self._anchor)

    def write(self, offset: int, data: bytes) -> None:
        if offset < 0 or offset + len(data) > self.size:
            raise ValueError(
                f"{len(data)} bytes at offset {offset:#x} do not fit in {self.size:#x}"
            )
        self._map[offset : offset + len(data)] = data

    def read(self, offset: int, length: int) -> bytes:
        return bytes(self._map[offset : offset + length])

    def view(self) -> memoryview:
        """The bytes themselves, writable (checkpoints); release it (``with``) before
        :meth:`close`."""
        return memoryview(self._map)[: self.size]

    def close(self) -> None:
        del self._anchor
        self._map.close()


def _no_memory(size: int, owner: Object | None, exc: BaseException) -> RunError:
    from qconf.config.units import format_size

    why = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    what = owner.key if owner is not None else "a memory"
    return RunError(
        f"the host cannot give {format_size(size)} of memory for {what}: {why}",
        code="E909",
        origin=(owner.origins.get("size") or owner.origin) if owner is not None else None,
        path=f"{owner.key}.size" if owner is not None else None,
        hint="every RAM and ROM is host memory reserved when the run starts: make it "
        "smaller, or let this host give more (free memory, ulimit -v, vm.overcommit_memory)",
    )


def _anonymous(length: int) -> mmap.mmap:
    """``length`` zeroed bytes. Private (a shared anonymous mapping is shmem, which the
    kernel does not back with huge pages by default) and advised onto transparent huge
    pages: a guest first touching its RAM then takes one fault per 2 MiB instead of one
    per 4 KiB (Debian's OpenSBI + U-Boot boot: 2,560 faults -> 240, the run ~6 ms faster).
    QEMU advises its guest RAM the same way."""
    if sys.platform == "win32":
        return mmap.mmap(-1, length)
    buf = mmap.mmap(-1, length, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    advice = getattr(mmap, "MADV_HUGEPAGE", None)  # Linux only
    if advice is not None and length >= HUGE_PAGE:
        with contextlib.suppress(OSError):  # a kernel without transparent huge pages
            buf.madvise(advice)
    return buf


@dataclass(frozen=True)
class Segment:
    """A stretch of addresses and the mapping that serves it."""

    start: int
    end: int
    mapping: Mapping


def flatten(space: AddressSpace) -> list[Segment]:
    """What ``space`` shows at each address: non-overlapping segments, each served by the
    winning mapping (inner spaces first, then the higher priority)."""
    ranked: list[tuple[tuple[int, int], Mapping]] = []
    for depth, sp in enumerate(space.chain()):
        ranked.extend(((-depth, m.priority), m) for m in sp.mappings)
    points = sorted({p for _, m in ranked for p in (m.base, m.end)})
    out: list[Segment] = []
    for a, b in itertools.pairwise(points):
        live = [(rank, m) for rank, m in ranked if m.base <= a and b <= m.end]
        if not live:
            continue
        winner = max(live, key=lambda rm: rm[0])[1]
        if out and out[-1].mapping is winner and out[-1].end == a:
            out[-1] = Segment(out[-1].start, b, winner)
        else:
            out.append(Segment(a, b, winner))
    return out


@dataclass
class MmioPages:
    """One ``mmio_map`` window: device pieces by address; holes are unassigned."""

    start: int
    end: int
    starts: list[int] = field(default_factory=list)
    pieces: list[tuple[int, int, Object, int, str]] = field(default_factory=list)

    def add(self, seg: Segment) -> None:
        i = bisect.bisect(self.starts, seg.start)
        self.starts.insert(i, seg.start)
        m = seg.mapping
        self.pieces.insert(i, (seg.start, seg.end, m.obj, m.base, m.region.name))

    def find(self, address: int) -> tuple[Object, int, str] | None:
        """The device, the offset in its region, and the region's name."""
        i = bisect.bisect(self.starts, address) - 1
        if i >= 0:
            start, end, obj, base, region = self.pieces[i]
            if start <= address < end:
                return obj, address - base, region
        return None


def mmio_windows(segments: list[Segment]) -> tuple[list[Segment], list[MmioPages]]:
    """Split ``segments`` into memory segments and page-aligned MMIO windows.

    :raises RunError: memory and device registers in one page (E902: the more telling
        cause of a memory edge off a page), or memory that is not page-aligned (E901),
        blamed on the property to fix (a base on a page with an end off one: its size).
    """
    memory = [s for s in segments if s.mapping.region.kind != "mmio"]
    windows: list[MmioPages] = []
    for s in (s for s in segments if s.mapping.region.kind == "mmio"):
        lo, hi = s.start // PAGE * PAGE, -(-s.end // PAGE) * PAGE
        if windows and lo <= windows[-1].end:
            windows[-1].end = max(windows[-1].end, hi)
        else:
            windows.append(MmioPages(lo, hi))
        windows[-1].add(s)
    for w in windows:
        for s in memory:
            if s.start < w.end and w.start < s.end:
                device = next(p[2] for p in w.pieces)
                near = [p[2] for p in w.pieces if p[0] < -(-s.end // PAGE) * PAGE
                        and s.start // PAGE * PAGE < p[1]]  # fmt: skip
                device = near[0] if near else device
                origin, prop = _edge(s)
                raise RunError(
                    f"{s.mapping.obj.key} [{s.start:#x}..{s.end - 1:#x}] and the registers "
                    f"of {device.key} share a 4 KiB page, which Unicorn cannot map",
                    code="E902", origin=origin, path=f"{s.mapping.obj.key}.{prop}",
                    hint=f"move one of them to another page, or make {s.mapping.obj.key}'s "
                    "base and size multiples of 4 KiB",
                )  # fmt: skip
    for s in memory:
        if s.start % PAGE or s.end % PAGE:
            origin, prop = _edge(s)
            raise RunError(
                f"{s.mapping.obj.key} at [{s.start:#x}..{s.end - 1:#x}] is not aligned to "
                "4 KiB pages, which Unicorn needs for memory",
                code="E901", origin=origin, path=f"{s.mapping.obj.key}.{prop}",
                hint=f"make its {prop} a multiple of 4 KiB" if prop == "size"
                else "align its base and size to 4 KiB",
            )  # fmt: skip
    return memory, windows


def _edge(s: Segment) -> tuple[Origin | None, str]:
    """Where to blame a memory segment off a page: its size when its base is on a page
    and its end is its region's, else its base."""
    mp = s.mapping
    if not s.start % PAGE and s.end == mp.end and "size" in mp.obj.info.prop_names:
        return mp.obj.origins.get("size") or mp.origin, "size"
    return mp.origin, "base"
