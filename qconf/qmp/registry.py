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

from qconf.qmp.control import Control
from qconf.qmp.protocol import QmpError
from qconf.qmp.state import Runstate

__all__ = (
    "ALIVE",
    "ANY",
    "BUILT",
    "INITIALIZED",
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


_BUILT_STATES = frozenset({Runstate.PAUSED, Runstate.RUNNING, Runstate.GUEST_PANICKED})

ANY = Phase("at any time", frozenset(Runstate))
PRELAUNCH = Phase("before the machine is built (in preconfig, until x-exit-preconfig)",
                  frozenset({Runstate.PRELAUNCH}))  # fmt: skip
BUILT = Phase("once the machine is built (after x-exit-preconfig)", _BUILT_STATES)
STARTED = Phase("once the machine has started (after x-exit-preconfig and cont)", _BUILT_STATES)
"""The guest's memory, registers and consoles (with ``-S``, from the build on: the run
starts paused, as QEMU's)."""
ALIVE = Phase("until the machine shuts down", frozenset(Runstate) - {Runstate.SHUTDOWN})
INITIALIZED = Phase("after machine initialization has completed (after x-exit-preconfig)",
                    frozenset(Runstate) - {Runstate.PRELAUNCH})  # fmt: skip
"""QEMU's words for a command without ``allow-preconfig`` (``stop``)."""


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
        self.check_arguments(args)
        return self.handler(control, args, who)

    def check_state(self, control: Control) -> None:
        """Refuse the command in the wrong run state, naming the phase it needs and the
        present state (QEMU checks this before the arguments, and so does qconf).

        :raises QmpError: the machine's run state is not one of ``allowed``'s.
        """
        if control.status not in self.allowed.states:
            raise QmpError(f"The command '{self.name}' is permitted only "
                           f"{self.allowed.words}; the machine is {control.status}")  # fmt: skip

    def check_arguments(self, args: dict[str, Any]) -> None:
        """Check ``args`` against the declaration, in QEMU's order and words: each
        declared argument (missing, or of the wrong JSON type), then unexpected ones. An
        integer given as a string of one (``"0x80000000"``) is replaced by the integer.

        :raises QmpError: on the first problem.
        """
        for arg in self.args:
            if arg.name not in args:
                if arg.optional:
                    continue
                raise QmpError(f"Parameter '{arg.name}' is missing")
            value, qapi = args[arg.name], arg.type
            if qapi.startswith("["):
                if not isinstance(value, list):
                    raise QmpError(f"Invalid parameter type for '{arg.name}', expected: array")
                items = [(f"{arg.name}[{i}]", item) for i, item in enumerate(value)]
                qapi = qapi[1:-1]
            else:
                items = [(arg.name, value)]
            if qapi == "any":
                continue
            label, kind = _JSON_TYPES[qapi]
            for i, (where, given) in enumerate(items):
                item = _integer(given, where) if kind is int and isinstance(given, str) else given
                if item is not given:  # the handler gets the integer
                    if where == arg.name:
                        args[arg.name] = item
                    else:
                        args[arg.name][i] = item
                if not isinstance(item, kind) or (kind is not bool and isinstance(item, bool)):
                    raise QmpError(f"Invalid parameter type for '{where}', expected: {label}")
        if not self.open:
            names = {arg.name for arg in self.args}
            for name in args:
                if name not in names:
                    raise QmpError(f"Parameter '{name}' is unexpected")


def _integer(text: str, where: str) -> int:
    """An integer argument given as a string (``"0x80000000"``, as qmp-shell sends what is
    not JSON), written as machine files write integers.

    :raises QmpError: the string is not an integer.
    """
    from qconf.config.units import parse_int

    try:
        return parse_int(text)
    except ValueError:
        raise QmpError(f"Invalid parameter type for '{where}', expected: integer "
                       f"(or a string of one: 0x80000000, 0b101, 1_000)") from None  # fmt: skip


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
