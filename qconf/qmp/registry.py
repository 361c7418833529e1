"""How a QMP command is declared, once: its name, its arguments in QAPI's notation, the run
states it is allowed in, and the function that runs it. Dispatch, the argument checks,
the run state check, ``query-commands`` and ``query-qmp-schema`` all read the one
declaration (``commands.COMMANDS`` holds them all).

A declaration looks like QAPI's ``{ 'command': 'qom-get', 'data': { 'path': 'str',
'property': 'str' } }``::

    Command("qom-get", qom.qom_get, {"path": "str", "property": "str"})
    Command("qom-list-types", qom.qom_list_types, {"*implements": "str", "*abstract": "bool"})
    Command("x-exit-preconfig", run_commands.x_exit_preconfig, allowed=PRELAUNCH)

Types are QAPI's built-in names (``str``, ``int``, ``bool``, ``any``; ``[str]`` for a
list); a leading ``*`` marks an optional argument.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from qconf.config.units import UnitError, parse_int
from qconf.qmp.control import Control
from qconf.qmp.protocol import QmpError
from qconf.qmp.state import Runstate

__all__ = (
    "ALIVE",
    "ANY",
    "BUILT",
    "PRELAUNCH",
    "STARTED",
    "Arg",
    "Command",
    "Handler",
    "Phase",
    "declare",
    "members",
)

Handler = Callable[[Control, dict[str, Any], str], Any]
"""A command's function: (the shared control, its checked arguments, who asked) -> its
``return`` value; it raises ``QmpError`` for an error reply."""


@dataclass(frozen=True)
class Phase:
    """The run states a command is allowed in, and how its refusal says so."""

    words: str
    states: frozenset[Runstate]


_BUILT_STATES = frozenset(
    {Runstate.PAUSED, Runstate.RUNNING, Runstate.GUEST_PANICKED, Runstate.SHUTDOWN}
)
"""From the build on; in ``shutdown`` the guest's state can be read while the machine
stays (``--no-shutdown``; else there is no emulation left to act on)."""

ANY = Phase("at any time", frozenset(Runstate))
PRELAUNCH = Phase("before the machine is built (in preconfig, until x-exit-preconfig)",
                  frozenset({Runstate.PRELAUNCH}))  # fmt: skip
BUILT = Phase("once the machine is built (after x-exit-preconfig)", _BUILT_STATES)
STARTED = Phase("once the machine has started (after x-exit-preconfig and cont)", _BUILT_STATES)
"""The guest's memory, registers and consoles (with ``-S``, from the build on: the run
starts paused, as QEMU's)."""
ALIVE = Phase("until the machine shuts down", frozenset(Runstate) - {Runstate.SHUTDOWN})


@dataclass(frozen=True)
class Arg:
    """One declared argument: its name, QAPI type (``str``, ``[str]``...), optionality."""

    name: str
    type: str
    optional: bool = False


_JSON_TYPES = {"str": ("string", str), "int": ("integer", int), "bool": ("boolean", bool)}


def members(data: Mapping[str, str]) -> tuple[Arg, ...]:
    """Arguments (or an event's data members) from QAPI's notation: ``{"path": "str",
    "*abstract": "bool"}``.

    :raises ValueError: a type is not one of QAPI's built-in ones (or a list of one).
    """
    out = tuple(Arg(key.lstrip("*"), qapi, key.startswith("*")) for key, qapi in data.items())
    for arg in out:
        if arg.type.strip("[]") not in (*_JSON_TYPES, "any"):
            raise ValueError(f"argument '{arg.name}' has unknown type {arg.type}")
    return out


@dataclass(frozen=True)
class Command:
    """One QMP command: its name, its function, its arguments (``data``, QAPI's notation),
    the run states it is allowed in, whether it takes more arguments than it declares
    (``open``: a new object's properties), and its QAPI features."""

    name: str
    handler: Handler
    data: Mapping[str, str] = field(default_factory=dict)
    allowed: Phase = ANY
    open: bool = False
    features: tuple[str, ...] = ()
    args: tuple[Arg, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "args", members(self.data))
        if self.name.startswith("x-") and "unstable" not in self.features:
            object.__setattr__(self, "features", ("unstable", *self.features))

    @property
    def doc(self) -> str:
        """The first line of the function's docstring: what the command does."""
        return (self.handler.__doc__ or "").strip().split("\n")[0]

    def __call__(self, control: Control, args: dict[str, Any], who: str) -> Any:
        """Run the command for ``who``, after checking the run state and the arguments.

        :raises QmpError: in the wrong run state, for bad arguments, or from the command.
        """
        self.check_state(control)
        return self.handler(control, self.check_arguments(args), who)

    def check_state(self, control: Control) -> None:
        """Refuse the command in the wrong run state, naming the phase it needs and the
        present state (QEMU checks this before the arguments, and so does qconf).

        :raises QmpError: the machine's run state is not one of ``allowed``'s.
        """
        if control.status not in self.allowed.states:
            raise QmpError(f"The command '{self.name}' is permitted only "
                           f"{self.allowed.words}; the machine is {control.status}")  # fmt: skip

    def check_arguments(self, args: dict[str, Any]) -> dict[str, Any]:
        """``args`` checked against the declaration, in QEMU's order and words: each
        declared argument (missing, or of the wrong JSON type), then unexpected ones. An
        integer may be written as a string (``"0x8000_0000"``, ``"4096"``), as QEMU's
        keyval takes it from human-typed input: the function gets the ``int``.

        :raises QmpError: on the first problem.
        """
        out = dict(args)
        for arg in self.args:
            if arg.name not in args:
                if arg.optional:
                    continue
                raise QmpError(f"Parameter '{arg.name}' is missing")
            value, qapi = args[arg.name], arg.type
            if qapi.startswith("["):
                if not isinstance(value, list):
                    raise QmpError(f"Invalid parameter type for '{arg.name}', expected: array")
                out[arg.name] = [_checked(f"{arg.name}[{i}]", qapi[1:-1], item)
                                 for i, item in enumerate(value)]  # fmt: skip
            else:
                out[arg.name] = _checked(arg.name, qapi, value)
        if not self.open:
            names = {arg.name for arg in self.args}
            for name in args:
                if name not in names:
                    raise QmpError(f"Parameter '{name}' is unexpected")
        return out


def _checked(where: str, qapi: str, value: Any) -> Any:
    """``value`` if it is of QAPI type ``qapi`` (an integer also as a string, in the
    grammar of ``--set``: decimal, ``0x``, ``0o``, ``0b``, ``_`` between digits); the value
    the command gets."""
    if qapi == "any":
        return value
    label, kind = _JSON_TYPES[qapi]
    if kind is int and isinstance(value, str):
        if len(value) > MAX_INTEGER_TEXT:
            raise QmpError(f"Invalid parameter value for '{where}': an integer of at most "
                           f"{MAX_INTEGER_TEXT} characters")  # fmt: skip
        try:
            return parse_int(value)
        except UnitError as exc:
            raise QmpError(f"Invalid parameter value for '{where}': {exc}") from None
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise QmpError(f"Invalid parameter type for '{where}', expected: {label}")
    return value


MAX_INTEGER_TEXT = 64
"""The longest integer written as a string that an argument takes (a 64-bit value in
decimal, with separators, fits several times)."""


def declare(*commands: Command) -> dict[str, Command]:
    """The commands by name, in the order given (the order ``query-commands`` and
    ``query-qmp-schema`` list them).

    :raises ValueError: a name is declared twice.
    """
    table: dict[str, Command] = {}
    for cmd in commands:
        if cmd.name in table:
            raise ValueError(f"QMP command '{cmd.name}' is declared twice")
        table[cmd.name] = cmd
    return table
