"""What QMP commands act on: the layers of the document, the machine built from them, and
the run state. One ``Control`` per qconf process, shared by every client.

Also what every command module shares: the phases a command may need (``_need``), the
conversion of configuration errors into one ``GenericError`` (``_problems``), and the
argument checks (``_string``, ``_int``). The commands are in ``run_commands``, ``qom``,
``guest`` and ``queries``; ``commands`` assembles them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from qconf.config.layers import Layer, load_layers
from qconf.config.overrides import parse_override
from qconf.config.search import SearchPath
from qconf.errors import QconfError, flatten
from qconf.qmp.protocol import QmpError

if TYPE_CHECKING:
    from qconf.cache import Inputs

__all__ = ("Control", "Preview")

Handler = Callable[["Control", dict[str, Any], str], Any]


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
    status: str = "prelaunch"  # prelaunch (preconfig), paused, running, shutdown
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

    # --- the machine ----------------------------------------------------------------

    def emulator(self) -> Any:
        """The emulator of the built machine: the running one, else the one prepared at
        the build (None before it)."""
        return self.emulation if self.emulation is not None else self.prepared

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
        self.status = "paused" if self.start_paused else "running"


PHASES = {
    "prelaunch": "before the machine is built (in preconfig, until x-exit-preconfig)",
    "built": "once the machine is built (after x-exit-preconfig)",
    "running": "once the machine has started (after x-exit-preconfig and cont)",
}


def _need(control: Control, name: str, phase: str) -> None:
    """Refuse a command in the wrong phase, naming the one it needs and the current one."""
    now = control.status
    ok = {"prelaunch": now == "prelaunch",
          "built": control.machine is not None and now != "shutdown",
          "running": control.emulation is not None and now != "shutdown"}[phase]  # fmt: skip
    if not ok:
        raise QmpError(f"The command '{name}' is permitted only {PHASES[phase]}; "
                       f"the machine is {now}")  # fmt: skip


def _string(args: dict[str, Any], name: str) -> str:
    value = args.get(name)
    if not isinstance(value, str):
        raise QmpError(f"Parameter '{name}' is missing" if value is None
                       else f"Invalid parameter type for '{name}', expected: string")  # fmt: skip
    return value


def _int(args: dict[str, Any], name: str) -> int:
    value = args.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise QmpError(f"Parameter '{name}' is missing" if value is None
                       else f"Invalid parameter type for '{name}', expected: integer")  # fmt: skip
    return value
