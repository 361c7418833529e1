"""Deterministic virtual time: nanoseconds that advance with executed instructions, and
the timer events on it."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ("Event", "VirtualTime", "wake")


def wake() -> None:
    """An event that does nothing but be due: it ends the running slice at its time and
    wakes waiting CPUs then (a timer compare value a controller was given). Checkpoints
    keep such events by their time alone."""


@dataclass(eq=False)
class Event:
    """A timer event; events run by time, then in the order they were set."""

    when: int
    seq: int
    action: Callable[[], None]
    cancelled: bool = False

    def __lt__(self, other: Event) -> bool:  # all the event queue compares
        return (self.when, self.seq) < (other.when, other.seq)


@dataclass
class VirtualTime:
    """The machine's clock. ``now`` only moves when the scheduler moves it."""

    now: int = 0
    _events: list[Event] = field(default_factory=list)
    _seq: int = 0

    def at(self, when: int, action: Callable[[], None]) -> Event:
        """Run ``action`` once virtual time reaches ``when`` (ns)."""
        self._seq += 1
        event = Event(max(when, self.now), self._seq, action)
        heapq.heappush(self._events, event)
        return event

    def next_deadline(self) -> int | None:
        while self._events and self._events[0].cancelled:
            heapq.heappop(self._events)
        return self._events[0].when if self._events else None

    def pending(self) -> list[Event]:
        """The events still to run (not cancelled), in the order they will run."""
        return sorted(e for e in self._events if not e.cancelled)

    def reset(self, now: int) -> None:
        """Set the time to ``now`` and drop every event (a checkpoint is being loaded:
        the models arm theirs again)."""
        for event in self._events:
            event.cancelled = True
        self._events.clear()
        self.now = now

    def advance(self, to: int) -> None:
        """Move to ``to`` (never backwards), running every event due by then, in order."""
        while True:
            deadline = self.next_deadline()
            if deadline is None or deadline > to:
                break
            event = heapq.heappop(self._events)
            self.now = max(self.now, event.when)
            event.action()
        self.now = max(self.now, to)
