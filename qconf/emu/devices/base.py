"""What every device model shares: the MMIO interface the emulator calls (:class:`MmioModel`),
the base class that gives a model its object, interrupt outputs and character backend
(:class:`_Device`), that backend with its output also shown to QMP listeners
(:class:`_Tapped`), and the enable/pending register banks interrupt controllers share
(:func:`write_set_clear`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from qconf.model.objects import Object

if TYPE_CHECKING:
    from qconf.emu.chardev import Chardev
    from qconf.emu.emulator import Emulation


class MmioModel(Protocol):
    def read(self, offset: int, size: int) -> int: ...

    def write(self, offset: int, size: int, value: int) -> None: ...


class _Device:
    def __init__(self, obj: Object, emu: Emulation) -> None:
        self.obj = obj
        self.emu = emu

    def raise_irq(self, output: str, level: bool) -> None:
        self.emu.irqs.set(self.obj, output, level)

    def chardev(self) -> Chardev:
        return _Tapped(self.emu.chardev_of(self.obj), self.obj, self.emu)


def write_set_clear(
    offset: int, value: int, enabled: list[int], pending: list[int], span: int
) -> bool | None:
    """A write to the set-enable, clear-enable, set-pending or clear-pending registers,
    which the GIC's distributor and the NVIC both put at 0x100, 0x180, 0x200 and 0x280,
    ``span`` bytes each (a bit per line, 32 lines a word; words past the lines are
    ignored). Returns True for a set, False for a clear, None if ``offset`` is none of
    them."""
    for base, words, setting in ((0x100, enabled, True), (0x180, enabled, False),
                                 (0x200, pending, True), (0x280, pending, False)):  # fmt: skip
        if base <= offset < base + span:
            i = (offset - base) >> 2
            if i < len(words):
                words[i] = words[i] | value if setting else words[i] & ~value
            return setting
    return None


class _Tapped:
    """A device's character backend, with its output also shown to listeners (QMP
    clients that asked for console events)."""

    def __init__(self, inner: Chardev, obj: Object, emu: Emulation) -> None:
        self.inner, self.obj, self.emu = inner, obj, emu

    def write(self, data: bytes) -> None:
        self.inner.write(data)
        for listener in self.emu.listeners:
            listener(self.obj, data)

    def read(self) -> int | None:
        typed = self.emu.console_input.get(self.obj)
        if typed:  # written over QMP (qconf-console-write) comes first
            return typed.popleft()
        return self.inner.read()

    def wait_fd(self) -> int | None:
        return self.inner.wait_fd()

    def close(self) -> None:
        self.inner.close()
