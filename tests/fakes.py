"""Fakes of the interfaces device models and cores are given (qconf.emu.context), so that
a model is tested alone: a clock the test moves, a run control that records, wires that
remember their levels, a console in memory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from qconf.config.origin import LayerKind, Origin, Source
from qconf.emu.chardev import MemoryChardev
from qconf.emu.context import CoreContext, DeviceContext
from qconf.emu.vtime import Event, VirtualTime
from qconf.model.objects import Object
from qconf.model.registry import builtin_registry

HERE = Origin(Source("test", "test", LayerKind.FILE), 1, 1)


class FakeClock:
    """Virtual time that moves only when the test says (``advance``)."""

    def __init__(self) -> None:
        self.time = VirtualTime()

    def now(self) -> int:
        return self.time.now

    def at(self, when: int, action: Callable[[], None]) -> Event:
        return self.time.at(when, action)

    def advance(self, ns: int) -> None:
        self.time.advance(self.time.now + ns)


@dataclass
class FakeRun:
    """Records what a model asks of the run."""

    stops: list[tuple[int, str]] = field(default_factory=list)
    cuts: int = 0
    notes: list[str] = field(default_factory=list)
    idle_polls: int = 0

    @property
    def stopping(self) -> bool:
        return bool(self.stops)

    def request_stop(self, code: int, reason: str) -> None:
        self.stops.append((code, reason))

    def cut_slice(self) -> None:
        self.cuts += 1

    def note(self, message: str) -> None:
        self.notes.append(message)

    def idle_poll(self) -> None:
        self.idle_polls += 1


@dataclass
class FakeWires:
    """Interrupt levels by (object, output); inputs set by the test by (line, index)."""

    levels: dict[tuple[str, str], bool] = field(default_factory=dict)
    inputs: dict[tuple[str, int], bool] = field(default_factory=dict)

    def set(self, source: Object, output: str, level: bool) -> None:
        self.levels[(source.key, output)] = level

    def input_level(self, sink: Object, line: str, index: int) -> bool:
        return self.inputs.get((line, index), False)


def make_object(type_name: str, **values: Any) -> Object:
    """A configured object of a built-in type with ``values`` (defaults for the rest),
    the root of a tree of its own."""
    info = builtin_registry(plugins=False).get(type_name)
    obj = Object._root(info, HERE)
    checked = info.model().model_validate(values)
    obj.configure({k: getattr(checked, k) for k in checked.model_fields_set} | values, {})
    return obj


@dataclass
class DeviceHarness:
    """A device model's context made of fakes, and the fakes for the test to drive."""

    obj: Object
    clock: FakeClock = field(default_factory=FakeClock)
    run: FakeRun = field(default_factory=FakeRun)
    wires: FakeWires = field(default_factory=FakeWires)
    console: MemoryChardev = field(default_factory=MemoryChardev)
    rates: dict[str, int] = field(default_factory=dict)

    def context(self) -> DeviceContext:
        return DeviceContext(self.obj, self.clock, self.run, self.wires,
                             lambda obj: self.console, lambda obj, prop: self.rates[prop],
                             lambda scope, path: None)  # fmt: skip

    def core_context(self) -> CoreContext:
        return CoreContext(self.obj, self.clock, self.run, lambda ns: False, "fast")
