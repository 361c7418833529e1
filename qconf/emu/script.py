"""Scripted consoles: wait for what the guest prints, type what a user would.

A script is a list of steps run in order on the console (the first UART opened, whatever
its backend): :class:`Expect` waits until the output shows a pattern (text, or a regular
expression), optionally within a time of its own; :class:`Send` types text. This is
pexpect's ``expect``/``sendline`` (and pytest-embedded's ``dut.expect``) as a list:
``qconf run --expect '=> ' --within 2s --send 'version\\n'`` is ``[Expect(b"=> ",
within=2_000_000_000), Send(b"version\\n")]``.

An expect's ``within`` counts virtual time from the moment it starts waiting (the step
before it done), and ``within_wall`` host seconds; when one runs out the run stops with
status 124 (:data:`~qconf.emu.scheduler.EXIT_LIMIT`), naming the pattern. Virtual limits
are checked as the run's ``--max-time`` is: a time slice ends there, and time never jumps
to one while the guest waits for input.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qconf.emu.chardev import Chardev
    from qconf.emu.scheduler import Scheduler

__all__ = (
    "Expect",
    "Script",
    "Send",
    "Step",
    "from_options",
    "parse_pattern",
    "steps",
    "unescape",
)

EXIT_LIMIT = 124
TAIL_BYTES = 8192
"""Console output kept for a failure's report (its last lines)."""
TAIL_LINES = 10
SEEN_BYTES = 65536
"""Output a pattern is looked for in, since the last match (beyond it, the oldest goes)."""


def unescape(text: str) -> bytes:
    """Text as typed on the command line: ``\\n``, ``\\r`` and ``\\t`` understood."""
    return text.replace("\\n", "\n").replace("\\r", "\r").replace("\\t", "\t").encode()


def parse_pattern(text: str) -> bytes | re.Pattern[bytes]:
    """An ``--expect`` argument: ``re:REGEX`` is a regular expression (Python's syntax, on
    the output's bytes), anything else is text to find (``\\n``, ``\\r``, ``\\t``
    understood).

    :raises ValueError: the regular expression does not compile.
    """
    if text.startswith("re:"):
        try:
            return re.compile(text[3:].encode())
        except re.error as exc:
            raise ValueError(f"bad regular expression {text[3:]!r}: {exc}") from None
    return unescape(text)


@dataclass(frozen=True)
class Expect:
    """Wait until the console's output shows ``pattern`` (after the previous match).

    :param within: virtual nanoseconds it may wait, from when it starts waiting.
    :param within_wall: host seconds it may wait.
    :param number: its place among the script's expects (1-based), for messages.
    """

    pattern: bytes | re.Pattern[bytes]
    within: int | None = None
    within_wall: float | None = None
    number: int = 0

    def describe(self) -> str:
        """``--expect #2 '=> '``, ``--expect #1 re:'Hit any key'``."""
        if isinstance(self.pattern, bytes):
            shown = repr(self.pattern.decode("utf-8", errors="replace"))
        else:
            shown = "re:" + repr(self.pattern.pattern.decode("utf-8", errors="replace"))
        return f"--expect #{self.number} {shown}" if self.number else shown

    def search(self, data: bytearray) -> int:
        """Where the first match in ``data`` ends, or -1."""
        if isinstance(self.pattern, bytes):
            at = data.find(self.pattern)
            return at + len(self.pattern) if at >= 0 else -1
        found = self.pattern.search(data)
        return found.end() if found is not None else -1


@dataclass(frozen=True)
class Send:
    """Type ``text`` into the console (once every step before it is done)."""

    text: bytes


Step = Expect | Send


def steps(script: Sequence[Any]) -> list[Step]:
    """A script as steps: :class:`Expect` and :class:`Send` as they are, and ``(pattern,
    text)`` pairs (the older form) as an expect followed by a send. Expects are numbered
    in order."""
    out: list[Step] = []
    for item in script:
        if isinstance(item, Expect | Send):
            out.append(item)
        else:
            pattern, text = item
            out += [Expect(pattern), Send(text)]
    number = 0
    for i, step in enumerate(out):
        if isinstance(step, Expect):
            number += 1
            out[i] = Expect(step.pattern, step.within, step.within_wall, number)
    return out


def from_options(items: Sequence[tuple[str, str]]) -> list[Step]:
    """The steps of ``qconf run``'s script options, in the order they were typed:
    ``("--expect", TEXT)`` (see :func:`parse_pattern`), ``("--send", TEXT)`` and
    ``("--within", DURATION)``, which limits the expect before it (``2s`` of virtual time,
    ``wall:5s`` of host time; a bare number is seconds). The dashes may be left out.

    :raises ValueError: a pattern or a duration that does not parse, or a ``within`` with
        no expect before it (or a second one for the same expect).
    """
    from qconf.config.units import parse_command_duration

    out: list[Step] = []
    for option, text in items:
        kind = option.lstrip("-")
        if kind == "expect":
            out.append(Expect(parse_pattern(text)))
        elif kind == "send":
            out.append(Send(unescape(text)))
        elif kind == "within":
            last = out[-1] if out else None
            if not isinstance(last, Expect):
                raise ValueError(f"--within {text} must follow the --expect it limits")
            if last.within is not None or last.within_wall is not None:
                raise ValueError(f"--within {text}: that --expect already has a --within")
            wall = text.startswith("wall:")
            ns = parse_command_duration(text[5:] if wall else text)
            out[-1] = Expect(last.pattern, None if wall else ns, ns / 1e9 if wall else None)
        else:
            raise ValueError(f"unknown script step {option!r}")
    return steps(out)


class Script:
    """A console backend driven by a script: its output goes on to the wrapped backend
    and is matched against the waiting :class:`Expect`; text the script types comes
    before the backend's own input.

    :param scheduler: the clock the ``within`` limits count on, and the run they stop.
    """

    def __init__(self, inner: Chardev, script: Sequence[Step], scheduler: Scheduler) -> None:
        self.inner = inner
        self.steps: deque[Step] = deque(script)
        self.scheduler = scheduler
        self.seen = bytearray()  # output since the last match
        self.tail = bytearray()  # the last output, for a failure's report
        self.typed: deque[int] = deque()
        self.matched = 0
        self._since: tuple[int, float] | None = None  # when the waiting expect began
        self._limit: Any = None  # its virtual limit (an event on the scheduler's limits)
        scheduler.services.append(self._check_wall)
        self._advance()

    @property
    def waiting(self) -> Expect | None:
        """The expect waiting for its pattern, if any."""
        return self.steps[0] if self.steps and isinstance(self.steps[0], Expect) else None

    # --- the backend --------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        self.inner.write(data)
        self.tail += data
        if len(self.tail) > 2 * TAIL_BYTES:
            del self.tail[:-TAIL_BYTES]
        if self.steps:
            self.seen += data
            self._advance()
            if len(self.seen) > SEEN_BYTES:
                del self.seen[: -SEEN_BYTES // 2]

    def read(self) -> int | None:
        if self.typed:
            return self.typed.popleft()
        return self.inner.read()

    def wait_fd(self) -> int | None:
        return self.inner.wait_fd()

    def close(self) -> None:
        self.scheduler.services[:] = [s for s in self.scheduler.services
                                      if s != self._check_wall]  # fmt: skip
        if self._limit is not None:
            self._limit.cancelled = True
        self.inner.close()

    # --- the steps ----------------------------------------------------------------------

    def _advance(self) -> None:
        while self.steps:
            step = self.steps[0]
            if isinstance(step, Send):
                self.typed.extend(step.text)
                self.steps.popleft()
                continue
            end = step.search(self.seen)
            if end < 0:
                self._start(step)
                return
            del self.seen[:end]
            self.matched += 1
            self.steps.popleft()
            self._since = None
            if self._limit is not None:
                self._limit.cancelled = True
                self._limit = None

    def _start(self, step: Expect) -> None:
        """``step`` waits from now: its limits start."""
        if self._since is not None:
            return
        now = self.scheduler.now()
        self._since = (now, time.monotonic())
        if step.within is not None:
            self._limit = self.scheduler.limits.at(now + step.within, self._virtual_limit)

    def _virtual_limit(self) -> None:
        step = self.waiting
        if step is not None and step.within is not None:
            from qconf.config.units import format_duration

            self._fail(f"{step.describe()} did not match within "
                       f"{format_duration(step.within)} of virtual time")  # fmt: skip

    def _check_wall(self) -> None:
        step = self.waiting
        if step is None or step.within_wall is None or self._since is None:
            return
        if time.monotonic() - self._since[1] > step.within_wall:
            self._fail(f"{step.describe()} did not match within {step.within_wall:g} s of "
                       "host time")  # fmt: skip

    def _fail(self, reason: str) -> None:
        self.scheduler.request_stop(EXIT_LIMIT, reason, "limit")
        self.scheduler.cut_slice()

    def report(self) -> list[str]:
        """What the run's end says about the script: the expect still waiting and the
        console's last lines (nothing once every step is done)."""
        step = self.waiting
        if step is None:
            return []
        text = self.tail.decode("utf-8", errors="replace").replace("\r\n", "\n")
        lines = [line.replace("\r", "") for line in text.split("\n")][-TAIL_LINES:]
        out = [f"  waiting for {step.describe()}; the console's last lines:"]
        return out + [f"  | {line}" for line in lines]
