"""The machine's run state as QMP shows it (``query-status``), and the one guarded
transition between states.

::

    prelaunch --build--> paused <--stop/cont--> running --guest panic--> guest-panicked
        |                  |                       |                          |
        +--build (no -S)---+---------------------->+                          |
                           +------> shutdown <-----+--------------------------+

The names are QEMU's ``RunState`` values (``qapi/run-state.json``), and the allowed steps a
subset of QEMU's ``runstate_transitions_def`` (``softmmu/runstate.c``) with qconf's one
difference: a machine built to start paused (``-S``) is ``paused``, not ``prelaunch``.
"""

from __future__ import annotations

from enum import StrEnum

from qconf.errors import StateError

__all__ = ("TRANSITIONS", "Runstate", "RunstateError", "transition")


class Runstate(StrEnum):
    """The machine's run state; the value is QEMU's name for it."""

    PRELAUNCH = "prelaunch"
    """Before the build (``--preconfig``): only the configuration exists."""
    PAUSED = "paused"
    """Built and not running: started with ``-S``, or after ``stop``."""
    RUNNING = "running"
    GUEST_PANICKED = "guest-panicked"
    """The guest reported a panic (not entered yet: qconf ends the run on a fault)."""
    SHUTDOWN = "shutdown"
    """The run is over (guest power-off, fault, quit); the server is closing."""


TRANSITIONS: dict[Runstate, frozenset[Runstate]] = {
    Runstate.PRELAUNCH: frozenset({Runstate.PAUSED, Runstate.RUNNING}),
    Runstate.PAUSED: frozenset({Runstate.RUNNING, Runstate.SHUTDOWN}),
    Runstate.RUNNING: frozenset({Runstate.PAUSED, Runstate.GUEST_PANICKED, Runstate.SHUTDOWN}),
    Runstate.GUEST_PANICKED: frozenset({Runstate.RUNNING, Runstate.SHUTDOWN}),
    Runstate.SHUTDOWN: frozenset(),
}
"""Every allowed step, from each state (staying in a state is always allowed)."""


class RunstateError(StateError):
    """A run state change its life cycle does not allow (a bug in qconf if it shows)."""

    def __init__(self, state: Runstate, new: Runstate) -> None:
        allowed = sorted(TRANSITIONS[state])
        onward = " or ".join(allowed) if allowed else "nowhere: it is the last state"
        super().__init__(
            f"the machine cannot go from {state} to {new}; from {state} it goes to {onward}",
            state=str(state),
            required=" or ".join(s for s in Runstate if new in TRANSITIONS[s]),
        )
        self.new = new


def transition(state: Runstate, new: Runstate) -> Runstate:
    """The state after a step from ``state`` to ``new``.

    :raises RunstateError: ``TRANSITIONS`` has no such step.
    """
    if new != state and new not in TRANSITIONS[state]:
        raise RunstateError(state, new)
    return new
