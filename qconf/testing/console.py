"""A UART of a machine under test as a test sees it: its output as text, what the test has
matched of it (:meth:`Console.expect`), and its input (:meth:`Console.write`); waits fail
with :class:`ExpectFailed`, which names what was awaited and shows the last lines."""

from __future__ import annotations

import codecs
import re
from typing import TYPE_CHECKING, Any

from qconf.config.units import UnitError, parse_duration
from qconf.errors import QconfError

if TYPE_CHECKING:
    from qconf.testing.dut import Dut

__all__ = ("DEFAULT_TIMEOUT", "Console", "ExpectFailed", "guest_time")

DEFAULT_TIMEOUT = 30.0
"""Seconds of guest time an expect waits by default (pytest-embedded's default is 30 s)."""


class ExpectFailed(QconfError, AssertionError):
    """What a test waited for did not come: a timeout, or the guest ended first. The
    message names the pattern; ``tail`` (the console's last lines) follows it."""

    code = "E920"

    def __init__(self, message: str, *, tail: str = "", hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.tail = tail

    def lines(self) -> list[str]:
        lines = super().lines()
        return [*lines, *(f"  {line}" for line in self.tail.splitlines())]


def guest_time(timeout: float | int | str | None) -> int | None:
    """Nanoseconds of guest time: a number of seconds, or a duration (``"500ms"``).

    :raises ExpectFailed: the text is not a duration.
    """
    if timeout is None:
        return None
    if isinstance(timeout, str):
        try:
            return parse_duration(timeout)
        except UnitError as exc:
            hint = "a number of seconds or a duration: 2s, 500ms"
            raise ExpectFailed(f"timeout {timeout!r}: {exc}", hint=hint) from None
    return int(timeout * 1_000_000_000)


class Console:
    """One UART's output as text (UTF-8), what a test has matched of it, and its input."""

    def __init__(self, dut: Dut, path: str, backend: Any) -> None:
        self.dut = dut
        self.path = path
        self._backend = backend
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.data = bytearray()
        """Every byte it wrote."""
        self.text = ""
        """The same, as text."""
        self.pos = 0
        """Where the next expect looks from (the end of the last match)."""

    def _output(self, data: bytes) -> None:
        self.data += data
        self.text += self._decoder.decode(data)

    def write(self, data: str | bytes) -> None:
        """Type ``data`` into the UART: the guest reads it when it next runs."""
        self._backend.feed(data.encode() if isinstance(data, str) else data)

    def expect(
        self,
        pattern: str | bytes | re.Pattern[str] | re.Pattern[bytes],
        timeout: float | str | None = DEFAULT_TIMEOUT,
        *,
        wall: float | None = None,
    ) -> re.Match[str]:
        """Run the machine until its output after the last match matches ``pattern`` (a
        regular expression; bytes are read as UTF-8), for at most ``timeout`` of guest
        time (seconds or a duration; None: no limit) and ``wall`` host seconds; the
        match, on the text.

        :raises ExpectFailed: the time ran out, or the guest ended (powered off, faulted)
            or waits for input that nothing sent, before it matched.
        """
        regex = _compile(pattern)
        return self._expect(regex, _shown(pattern), guest_time(timeout), wall)

    def expect_exact(
        self, text: str | bytes, timeout: float | str | None = DEFAULT_TIMEOUT, *,
        wall: float | None = None,
    ) -> re.Match[str]:  # fmt: skip
        """:meth:`expect` for the text itself (no regular expression)."""
        literal = text.decode() if isinstance(text, bytes) else text
        return self._expect(re.compile(re.escape(literal)), repr(literal), guest_time(timeout),
                            wall)  # fmt: skip

    def _expect(
        self, regex: re.Pattern[str], shown: str, timeout_ns: int | None, wall: float | None
    ) -> re.Match[str]:
        found: list[re.Match[str]] = []

        def seen() -> bool:
            m = regex.search(self.text, self.pos)
            if m is not None:
                found.append(m)
            return m is not None

        why = self.dut.run_until(seen, timeout_ns, wall)
        if found:
            self.pos = found[0].end()
            return found[0]
        within = f"{timeout_ns / 1e9:g} s of guest time" if timeout_ns is not None else "no limit"
        if why == "wall":
            wall = wall if wall is not None else self.dut.default_wall
            within = f"{wall:g} host seconds ({self.dut.now_ns / 1e9:.6f} s of guest time)"
        what = {"timeout": f"not seen within {within}",
                "wall": f"not seen within {within}",
                "idle": "the guest waits for input that nothing has sent (every CPU waits for "
                        "an interrupt and no timer is armed)"}.get(why)  # fmt: skip
        if what is None:
            stats = self.dut.stats
            what = f"the run ended first (status {stats.exit_code}: {stats.reason})"
        raise ExpectFailed(f"expected {shown} on {self.path}: {what}",
                           tail=self.dut.tail_text(self))  # fmt: skip

    def lines(self, count: int = 10) -> list[str]:
        """The last ``count`` lines of its output."""
        return self.text.replace("\r", "").splitlines()[-count:]


def _compile(pattern: str | bytes | re.Pattern[str] | re.Pattern[bytes]) -> re.Pattern[str]:
    if isinstance(pattern, re.Pattern):
        source = pattern.pattern
        text = source.decode() if isinstance(source, bytes) else source
        return re.compile(text, pattern.flags & ~re.ASCII if isinstance(source, str) else 0)
    return re.compile(pattern.decode() if isinstance(pattern, bytes) else pattern)


def _shown(pattern: Any) -> str:
    if isinstance(pattern, re.Pattern):
        pattern = pattern.pattern
    if isinstance(pattern, bytes):
        pattern = pattern.decode(errors="replace")
    return repr(pattern)
