"""What every device model shares: its context (see :mod:`qconf.emu.context`), and the
helpers for its interrupt outputs and character backend."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qconf.emu.context import DeviceContext

if TYPE_CHECKING:
    from qconf.emu.chardev import Chardev

__all__ = ("Device",)


class Device:
    """Base class of device models: ``self.ctx`` is the device's context, ``self.obj`` its
    object. Subclasses implement ``read(offset, size)`` and ``write(offset, size, value)``
    (see :class:`~qconf.emu.context.MmioModel`)."""

    def __init__(self, ctx: DeviceContext) -> None:
        self.ctx = ctx
        self.obj = ctx.obj

    def raise_irq(self, output: str, level: bool) -> None:
        """Drive the interrupt output ``output``."""
        self.ctx.raise_irq(output, level)

    def chardev(self) -> Chardev:
        """The device's character backend."""
        return self.ctx.chardev()
