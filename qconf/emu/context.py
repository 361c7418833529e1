"""The small interfaces a device model or a CPU core sees while a machine runs.

A model never holds the emulator. It gets a :class:`DeviceContext` (a core a
:class:`CoreContext`) made of narrow handles:

- :class:`Clock`: virtual time (``now``) and timer events on it (``at``);
- :class:`RunControl`: end the run (``request_stop``), end the running CPU's slice so the
  scheduler can deliver an interrupt now (``cut_slice``), leave a note for the user;
- :class:`IrqLines`: interrupt wires (the model's outputs, its inputs' levels);
- a console: its character backend (``DeviceContext.chardev``);
- :class:`Memory`: guest memory as its address space shows it.

The scheduler (:mod:`qconf.emu.scheduler`) provides the clock and run control, the platform
(:mod:`qconf.emu.platform`) the rest. Tests give models fakes of these instead
(``tests/fakes.py``). Models implement :class:`MmioModel` and, where they serve CPUs,
:meth:`MmioModel.connect`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from qconf.model.objects import Object

if TYPE_CHECKING:
    from qconf.emu.chardev import Chardev
    from qconf.emu.vtime import Event

__all__ = (
    "Clock",
    "CoreContext",
    "DeviceContext",
    "IrqLines",
    "Memory",
    "MmioModel",
    "RunControl",
    "cores_of",
)


class Clock(Protocol):
    """Virtual time, in nanoseconds since the machine started."""

    def now(self) -> int:
        """Now, as the running CPU sees it: its slice's start plus what it has executed, to
        the end of the translated block it is in (in both timings)."""
        ...

    def at(self, when: int, action: Callable[[], None]) -> Event:
        """Run ``action`` once virtual time reaches ``when``; set ``.cancelled`` on the
        returned event to take it back."""
        ...


class RunControl(Protocol):
    """How a model affects the run as a whole."""

    @property
    def stopping(self) -> bool:
        """Whether the run is ending (a stop was requested)."""
        ...

    def request_stop(self, code: int, reason: str) -> None:
        """End the run with exit status ``code`` (the first request wins)."""
        ...

    def cut_slice(self) -> None:
        """End the running CPU's slice at its next translated block: something it did
        (raised an interrupt line, armed a timer in the past) needs the scheduler now."""
        ...

    def note(self, message: str) -> None:
        """Tell the user something once (``qconf: note: ...`` on stderr)."""
        ...

    def idle_poll(self) -> None:
        """The running CPU read a register that shows nothing to do (a UART's empty
        receive status): a loop doing only that may be idle, and cost the host nothing
        (see :meth:`qconf.emu.scheduler.Scheduler.idle_poll`)."""
        ...


class IrqLines(Protocol):
    """The machine's interrupt wires at run time: levels by output, ORed into inputs."""

    def set(self, source: Object, output: str, level: bool) -> None: ...

    def input_level(self, sink: Object, line: str, index: int) -> bool: ...

    def watch(self, sink: Object, watcher: Callable[[str, int, bool], None]) -> None: ...


class Memory(Protocol):
    """Guest memory as one address space shows it (RAM and ROM; not device registers)."""

    def read(self, address: int, size: int) -> bytes: ...

    def write(self, address: int, data: bytes) -> None: ...


class MmioModel(Protocol):
    """A device model: what the guest's accesses to its registers do.

    A model with several register windows (``regions``) may implement
    ``read_region(region, offset, size)`` and ``write_region(region, offset, size, value)``
    instead; the platform calls those when present. A model that serves CPUs implements
    ``connect(cores)``; one that takes input from its backend implements ``poll_input()``
    and ``input_wakes()``.
    """

    def read(self, offset: int, size: int) -> int: ...

    def write(self, offset: int, size: int, value: int) -> None: ...


@dataclass
class DeviceContext:
    """What one device model is given: its object and narrow handles, nothing else.

    :param obj: the device's object (its properties: ``obj.get("base")``).
    :param clock: virtual time and timer events.
    :param run: stop requests, slice ends, notes.
    :param irqs: the interrupt wires (use :meth:`raise_irq` and :meth:`input_level`).
    :param console: opens the device's character backend (once; see :meth:`chardev`).
    :param clock_rate: the frequency of one of its clock properties (a number, or the
        clock object it names).
    :param find: the object a path written in one of its properties names (as the
        builder resolves links: relative paths from the object's container outwards).
    :param memory: guest memory as the device's address space shows it.
    """

    obj: Object
    clock: Clock
    run: RunControl
    irqs: IrqLines
    console: Callable[[Object], Chardev]
    clock_rate: Callable[[Object, str], int]
    find: Callable[[Object, str], Object | None]
    memory: Memory | None = None

    def raise_irq(self, output: str, level: bool) -> None:
        """Drive the interrupt output ``output`` (a property naming where it is wired)."""
        self.irqs.set(self.obj, output, level)

    def input_level(self, line: str, index: int) -> bool:
        """The level of the device's interrupt input ``line[index]``."""
        return self.irqs.input_level(self.obj, line, index)

    def watch_inputs(self, watcher: Callable[[str, int, bool], None]) -> None:
        """Call ``watcher(line, index, level)`` whenever one of the device's interrupt
        inputs changes (a controller that keeps its inputs' levels where native code
        reads them)."""
        self.irqs.watch(self.obj, watcher)

    def chardev(self) -> Chardev:
        """The device's character backend."""
        return self.console(self.obj)

    def link(self, prop: str) -> Object | None:
        """The object property ``prop`` names, None if it is unset."""
        path = self.obj.get(prop)
        return self.find(self.obj, path) if isinstance(path, str) else None

    def rate(self, prop: str) -> int:
        """The frequency of clock property ``prop``, in Hz."""
        return self.clock_rate(self.obj, prop)


@dataclass
class CoreContext:
    """What one CPU core is given.

    :param skip: let the core's time jump ahead by ``ns`` (it is polling the clock in a
        loop); whether it may (only a lone running CPU may).
    :param timing: the machine's ``timing`` (``fast`` or ``exact``).
    :param output: where semihosting output goes.
    :param python_hooks: use the Python hooks where a core has native ones that would
        hide what a trace shows (``-d mmu``: every TLB fill).
    """

    obj: Object
    clock: Clock
    run: RunControl
    skip: Callable[[int], bool]
    timing: str = "fast"
    output: Callable[[str], Any] | None = None
    python_hooks: bool = False


def cores_of(cores: Sequence[Any], family: str) -> list[Any]:
    """The cores of architecture family ``family`` (``riscv``, ``arm-m``, ``aarch64``: an
    :class:`~qconf.model.facets.ArchInfo`'s ``family``) among ``cores``: those an
    interrupt controller of that family serves."""
    return [core for core in cores if core.arch.family == family]
