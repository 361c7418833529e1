"""The one life cycle of every object, and the one function that moves along it.

::

    CREATED --configure--> CONFIGURED --realize--> REALIZED --unrealize--> UNREALIZED
       |                        |                     |  ^                     |
       +-------destroy----------+                  reset (stays REALIZED)    destroy
                                                                               v
                                                                           DESTROYED

``created``: parented, properties at their declared defaults. ``configured``: the
document's values and links are set. ``realized``: the object took its resources (memory,
wires, an emulator instance) and runs; properties are read-only unless the type declares
them runtime-writable. ``unrealized``: resources released. ``destroyed``: gone from its
parent. A failed build unrealizes and destroys everything it made, newest first.
"""

from __future__ import annotations

import enum
from typing import Protocol

from qconf.errors import StateError

__all__ = ("State", "require", "transition")


class State(enum.Enum):
    CREATED = "created"
    CONFIGURED = "configured"
    REALIZED = "realized"
    UNREALIZED = "unrealized"
    DESTROYED = "destroyed"


_ALLOWED: dict[State, frozenset[State]] = {
    State.CREATED: frozenset({State.CONFIGURED, State.DESTROYED}),
    State.CONFIGURED: frozenset({State.REALIZED, State.DESTROYED}),
    State.REALIZED: frozenset({State.UNREALIZED}),
    State.UNREALIZED: frozenset({State.DESTROYED}),
    State.DESTROYED: frozenset(),
}

# the state an object must be in to enter each state, for error messages
_FROM: dict[State, str] = {
    State.CONFIGURED: "created",
    State.REALIZED: "configured",
    State.UNREALIZED: "realized",
    State.DESTROYED: "created, configured or unrealized",
}


class Stateful(Protocol):
    state: State

    @property
    def path(self) -> str: ...


def transition(obj: Stateful, to: State) -> None:
    """Move ``obj`` to state ``to``.

    :raises StateError: the move is not allowed from the object's state; the message
        names the state it is in and the one it must be in.
    """
    if to not in _ALLOWED[obj.state]:
        raise StateError(
            f"cannot make {obj.path} {to.value}: it is {obj.state.value}, "
            f"it must be {_FROM.get(to, 'nothing')}",
            state=obj.state.value,
            required=_FROM.get(to, "none"),
            path=obj.path,
        )
    obj.state = to


def require(obj: Stateful, *states: State, action: str) -> None:
    """Check that ``obj`` is in one of ``states`` before doing ``action``.

    :raises StateError: naming the state it is in and the ones ``action`` needs.
    """
    if obj.state not in states:
        need = " or ".join(s.value for s in states)
        raise StateError(
            f"cannot {action} {obj.path}: it is {obj.state.value}, it must be {need}",
            state=obj.state.value,
            required=need,
            path=obj.path,
        )
