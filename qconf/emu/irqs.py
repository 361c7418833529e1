"""Interrupt wires at run time: the level each device drives on each output, ORed into
the inputs it is wired to (see :class:`~qconf.emu.context.IrqLines`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from qconf.assembly.machine import Wire
from qconf.model.objects import Object

__all__ = ("Wires",)


class Wires:
    """The machine's wires; a rising output calls ``on_raise`` (the scheduler ends the
    running CPU's slice so that the interrupt is delivered at once)."""

    def __init__(self, wires: Iterable[Wire], on_raise: Callable[[], None]) -> None:
        self.on_raise = on_raise
        self.levels: dict[tuple[Object, str], bool] = {}
        self.drivers: dict[tuple[Object, str, int], list[tuple[Object, str]]] = {}
        for w in wires:
            self.drivers.setdefault((w.sink, w.line, w.index), []).append((w.source, w.output))

    def set(self, source: Object, output: str, level: bool) -> None:
        key = (source, output)
        if level and not self.levels.get(key, False):
            self.on_raise()
        self.levels[key] = level

    def input_level(self, sink: Object, line: str, index: int) -> bool:
        drivers = self.drivers.get((sink, line, index))
        return drivers is not None and any(self.levels.get(d, False) for d in drivers)
