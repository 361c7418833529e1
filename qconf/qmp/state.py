"""The machine's run state as QMP shows it (``query-status``), and the one guarded
transition between states.

::

    prelaunch --build--> paused <--stop/cont--> running --guest fault--> guest-panicked
        |                  |  ^                    |                          |
        +--build (no -S)---+--|------------------->+                          |
                           |  +-system_reset-+     |                          |
                           +------> shutdown <-----+--------------------------+
                                       (and guest-panicked, with --no-shutdown)

The names are QEMU's ``RunState`` values (``qapi/run-state.json``), and the allowed steps a
subset of QEMU's ``runstate_transitions_def`` (``softmmu/runstate.c``) with qconf's one
difference: a machine built to start paused (``-S``), or reset after it shut down or
panicked (``--no-shutdown``), is ``paused``, not ``prelaunch`` (``prelaunch`` is qconf's
"not built yet").
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
    """The guest faulted; with ``--no-shutdown`` it stays so until ``system_reset`` or
    ``quit``, else it shuts down."""
    SHUTDOWN = "shutdown"
    """The run is over (guest power-off, fault, quit): the server is closing, or, with
    ``--no-shutdown``, the machine stays for inspection until ``system_reset`` or
    ``quit``."""


TRANSITIONS: dict[Runstate, frozenset[Runstate]] = {
    Runstate.PRELAUNCH: frozenset({Runstate.PAUSED, Runstate.RUNNING}),
    Runstate.PAUSED: frozenset({Runstate.RUNNING, Runstate.SHUTDOWN}),
    Runstate.RUNNING: frozenset({Runstate.PAUSED, Runstate.GUEST_PANICKED, Runstate.SHUTDOWN}),
    Runstate.GUEST_PANICKED: frozenset({Runstate.RUNNING, Runstate.PAUSED, Runstate.SHUTDOWN}),
    Runstate.SHUTDOWN: frozenset({Runstate.PAUSED}),
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
