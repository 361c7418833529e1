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
        self.driven: dict[tuple[Object, str], list[tuple[Object, str, int]]] = {}
        self.watchers: dict[Object, Callable[[str, int, bool], None]] = {}
        for w in wires:
            self.drivers.setdefault((w.sink, w.line, w.index), []).append((w.source, w.output))
            self.driven.setdefault((w.source, w.output), []).append((w.sink, w.line, w.index))

    def set(self, source: Object, output: str, level: bool) -> None:
        key = (source, output)
        was = self.levels.get(key, False)
        if level and not was:
            self.on_raise()
        self.levels[key] = level
        if level != was and self.watchers:
            for sink, line, index in self.driven.get(key, ()):
                watcher = self.watchers.get(sink)
                if watcher is not None:
                    watcher(line, index, self.input_level(sink, line, index))

    def watch(self, sink: Object, watcher: Callable[[str, int, bool], None]) -> None:
        """Call ``watcher(line, index, level)`` whenever an input of ``sink`` changes."""
        self.watchers[sink] = watcher

    def input_level(self, sink: Object, line: str, index: int) -> bool:
        drivers = self.drivers.get((sink, line, index))
        return drivers is not None and any(self.levels.get(d, False) for d in drivers)
