"""What QMP commands act on: the layers of the document, the machine built from them, and
the run state. One ``Control`` per qconf process, shared by every client.

Also the conversion of configuration errors into one ``GenericError`` (``_problems``),
which every command module shares. The commands are declared in ``commands`` (their
arguments and the run states they need, see ``registry``) and written in ``run_commands``,
``qom``, ``guest``, ``queries`` and ``hmp``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from qconf.config.layers import Layer, load_layers
from qconf.config.overrides import parse_override
from qconf.config.search import SearchPath
from qconf.errors import QconfError, flatten
from qconf.qmp.protocol import QmpError
from qconf.qmp.state import Runstate, transition

if TYPE_CHECKING:
    from qconf.cache import Inputs

__all__ = ("Control", "Preview")


class Preview(NamedTuple):
    """The machine QOM commands show before the build (see ``qom.machine_for_qom``), with
    the tweaks and the inputs it was built from."""

    machine: Any
    sets: list[tuple[str, str | None]]
    inputs: Inputs


def _problems(exc: QconfError) -> QmpError:
    return QmpError("\n".join(line for err in flatten(exc) for line in err.lines()))


@dataclass
class Control:
    """The configuration (files and tweaks, in order) and the machine's life."""

    files: list[str] = field(default_factory=list)
    sets: list[tuple[str, str | None]] = field(default_factory=list)  # (text, who)
    include_dirs: list[str] = field(default_factory=list)
    machine: Any = None
    start_paused: bool = False
    events: list[dict[str, Any]] = field(default_factory=list)
    quit_requested: bool = False
    emulation: Any = None  # the running emulation, once the machine runs
    console_clients: set[int] = field(default_factory=set)  # sessions that want output
    console_buffer: list[dict[str, Any]] = field(default_factory=list)
    reset_requested: bool = False
    plugged: set[str] = field(default_factory=set)  # paths of objects hotplugged since build
    prepare: Callable[[Any], Any] | None = None  # machine -> its prepared emulator
    prepared: Any = None  # ... made at the build, so that a missing image is a build error
    preview: Preview | None = None  # before the build: what the QOM commands show
    monitors: list[str] = field(default_factory=list)  # the QMP sockets, as QEMU writes them
    gdbserver: Callable[[list[str]], str] | None = None  # (re)start gdb stubs (the runner's)
    runstate_listeners: list[Callable[[Runstate, Runstate], None]] = field(default_factory=list)
    """Called with (old, new) at each change of the run state."""
    _runstate: Runstate = field(default=Runstate.PRELAUNCH, init=False)

    # --- the run state --------------------------------------------------------------

    @property
    def status(self) -> Runstate:
        """The run state (``query-status``'s ``status``)."""
        return self._runstate

    @status.setter
    def status(self, new: Runstate | str) -> None:
        """The runner sets it by name (``control.status = "shutdown"``): the same guarded
        step as :meth:`transition`."""
        self.transition(Runstate(new))

    def transition(self, new: Runstate) -> None:
        """Move the machine to run state ``new``, telling the listeners.

        :raises RunstateError: the life cycle has no step from the present state to ``new``.
        """
        old = self._runstate
        self._runstate = transition(old, new)
        if new != old:
            for listener in list(self.runstate_listeners):
                listener(old, new)

    def console_output(self, device: str, data: bytes) -> None:
        """A UART wrote ``data``: kept for the clients that asked for it, one chunk per
        device until the next delivery."""
        if not self.console_clients:
            return
        last = self.console_buffer[-1] if self.console_buffer else None
        text = data.decode("latin-1")
        if last is not None and last["device"] == device:
            last["data"] += text
        else:
            self.console_buffer.append({"device": device, "data": text})

    def take_console(self) -> list[dict[str, Any]]:
        """The output chunks since the last call, in order (events ``QCONF_CONSOLE``)."""
        chunks, self.console_buffer = self.console_buffer, []
        return chunks

    # --- the document ---------------------------------------------------------------

    def layers(self) -> list[Layer]:
        search = SearchPath.default(self.include_dirs)
        layers: list[Layer] = list(load_layers(self.files, [], search))
        for i, (text, who) in enumerate(self.sets, 1):
            layers.append(parse_override(text, i, label=who))
        return layers

    def resolve(self) -> Any:
        from qconf.resolve import resolve_layers

        return resolve_layers(self.layers(), search=SearchPath.default(self.include_dirs))

    def add_file(self, path: str) -> None:
        """Add a file layer (a path or a profile name) above the others, if it can be read
        and adds no problem to the configuration so far (problems that were there before
        it, such as a part still to come, do not count against it).

        :raises QmpError: every problem it brings, located; the layer is not kept.
        """
        before = self._problem_lines()
        self.files.append(path)
        try:
            self.layers()
        except QconfError as exc:
            self.files.pop()
            raise _problems(exc) from None
        after = self._problem_lines()
        new = [lines for lines in after if lines not in before]
        if new:
            self.files.pop()
            raise QmpError("\n".join(line for lines in new for line in lines))

    def _problem_lines(self) -> list[list[str]]:
        """Each problem of the configuration as it stands, as its report lines (none if it
        resolves)."""
        try:
            self.resolve()
        except QconfError as exc:
            return [err.lines() for err in flatten(exc)]
        return []

    def add_set(self, text: str, who: str | None) -> None:
        """Keep one ``--set``-style tweak (its origin: ``who``), if its path exists in the
        configuration so far.

        :raises QmpError: every problem, located; the tweak is not kept.
        """
        from qconf.config.layers import merge_layers
        from qconf.resolve import registry_for

        self.sets.append((text, who))
        try:
            layers = self.layers()
            search = SearchPath.default(self.include_dirs)
            merge_layers(layers, registry_for(search, layers).declared)  # a path that exists?
        except QconfError as exc:
            self.sets.pop()
            raise _problems(exc) from None

    # --- the machine ----------------------------------------------------------------

    def emulator(self) -> Any:
        """The emulator of the built machine: the running one, else the one prepared at
        the build (None before it)."""
        return self.emulation if self.emulation is not None else self.prepared

    def live(self) -> Any:
        """What the guest commands act on: the running emulation, else the one prepared at
        the build, which the run goes on with.

        :raises QmpError: neither exists (the machine is not built, or between runs).
        """
        emulator = self.emulator()
        if emulator is None:
            raise QmpError(f"the machine has no emulation to act on (it is {self.status})")
        return emulator

    def drop_preview(self) -> None:
        """Forget the machine shown before the build (see :func:`machine_for_qom`)."""
        if self.preview is not None:
            self.preview.machine.destroy()
            self.preview = None

    def build(self) -> None:
        """Resolve, build, and prepare the run (map memory, load images); stay in
        preconfig (raising every problem) if any of that fails."""
        from qconf.assembly.builder import build

        self.drop_preview()

        try:
            machine = build(self.resolve())
        except QconfError as exc:
            raise _problems(exc) from None
        if self.prepare is not None:
            try:
                self.prepared = self.prepare(machine)
            except QconfError as exc:
                machine.destroy()
                raise _problems(exc) from None
        self.machine = machine
        self.transition(Runstate.PAUSED if self.start_paused else Runstate.RUNNING)
