"""What every device model shares: its context (see :mod:`qconf.emu.context`), and the
helpers for its interrupt outputs and character backend."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from qconf.emu.context import DeviceContext
from qconf.emu.state import StateError, load_attributes, save_attributes

if TYPE_CHECKING:
    from qconf.emu.chardev import Chardev

__all__ = ("Device",)


class Device:
    """Base class of device models: ``self.ctx`` is the device's context, ``self.obj`` its
    object. Subclasses implement ``read(offset, size)`` and ``write(offset, size, value)``
    (see :class:`~qconf.emu.context.MmioModel`).

    Checkpoints save a model's state and give it to a fresh model of the same device:
    ``STATE`` names the attributes that hold it (``()`` for a model without state), and
    :meth:`rearm` arms again the timer events the state implies. A model that declares no
    ``STATE`` cannot be checkpointed (saying so), rather than losing what it holds."""

    STATE: ClassVar[tuple[str, ...] | None] = None

    def __init__(self, ctx: DeviceContext) -> None:
        self.ctx = ctx
        self.obj = ctx.obj

    def state(self) -> dict[str, Any]:
        """The model's state as JSON data.

        :raises StateError: the model declares no ``STATE``, or holds something that is
            not state data.
        """
        if self.STATE is None:
            raise StateError(f"the model of {self.obj.info.name} ({type(self).__name__}) "
                             "does not say what its state is (no STATE)")  # fmt: skip
        return save_attributes(self, self.STATE)

    def load_state(self, state: dict[str, Any]) -> None:
        """Take the state :meth:`state` gave, in this fresh model (prepared, before the
        run goes on), and re-arm its timer events.

        :raises StateError: the state does not fit the model.
        """
        if self.STATE is None:
            raise StateError(f"the model of {self.obj.info.name} has no STATE")
        load_attributes(self, self.STATE, state)
        self.rearm()

    def rearm(self) -> None:
        """Arm the timer events the loaded state implies (a model with none does nothing)."""

    def raise_irq(self, output: str, level: bool) -> None:
        """Drive the interrupt output ``output``."""
        self.ctx.raise_irq(output, level)

    def chardev(self) -> Chardev:
        """The device's character backend."""
        return self.ctx.chardev()
