"""The stdio console on a terminal, as QEMU's multiplexer (``-nographic``): the guest's
input and output, QEMU's escape keys, and a monitor sharing the terminal.

Ctrl-A starts an escape: ``h`` (or ``?``) prints the keys, ``x`` quits, ``c`` switches
between the guest and the monitor, ``t`` stamps each line of guest output with virtual
time, ``a`` or a second Ctrl-A types a Ctrl-A; any other key is dropped. While the
monitor has the terminal, keys go to its line editor (backspace, Ctrl-U, up and down for
history; a line runs between time slices, see :meth:`Mux.serve`), and the guest's output
is held and shown when the guest has the terminal again: nothing else writes into what
the guest prints. The monitor itself (what a line does) is the front end's
(:class:`Monitor`; ``qconf.qmp.monitor`` runs the human monitor commands).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from qconf.emu.chardev import StdioChardev
    from qconf.emu.context import Clock

__all__ = ("CTRL_A", "HELP", "Monitor", "Mux")

CTRL_A = 0x01
HELP = (
    "C-a h    print this help",
    "C-a x    exit emulator",
    "C-a t    toggle console timestamps (virtual time)",
    "C-a c    switch between console and monitor",
    "C-a a    sends C-a",
    "C-a C-a  sends C-a",
)
"""What Ctrl-A h prints: QEMU's list (``chardev/char-mux.c``), for the keys qconf has."""
TERMINATED = b"qconf: Terminated\r\n"
"""What Ctrl-A x prints, as QEMU prints ``QEMU: Terminated``."""
_GROUND, _ESCAPE, _CSI, _OSC, _OSC_ESCAPE = range(5)
QUIT_GRACE_S = 0.2
"""How long (host seconds) Ctrl-A x waits for the guest to read the keys typed before it."""
HELD_BYTES = 1 << 20
"""Guest output kept while the monitor has the terminal (beyond it, the oldest goes)."""


class Monitor(Protocol):
    """What the terminal's monitor runs (given by the front end)."""

    prompt: str

    @property
    def done(self) -> bool:
        """Whether a line ended the run (``quit``): no prompt after it."""
        ...

    def banner(self) -> str:
        """The lines shown when the monitor first has the terminal."""
        ...

    def execute(self, line: str) -> str:
        """Run one command line; its output (lines ending in CRLF)."""
        ...


class Mux:
    """The stdio backend on a terminal, shared by the guest and the monitor.

    :param inner: standard input and output (stdin a terminal in cbreak mode).
    :param on_quit: what Ctrl-A x does (after printing ``qconf: Terminated``).
    :param wake: called when a monitor line is ready (ends the running slice, so that the
        front end runs it soon).
    :param clock: the virtual time Ctrl-A t stamps lines with.
    """

    def __init__(
        self,
        inner: StdioChardev,
        on_quit: Callable[[], None] | None,
        wake: Callable[[], None],
        clock: Clock,
    ) -> None:
        self.inner = inner
        self.on_quit = on_quit
        self.wake = wake
        self.clock = clock
        self.open_monitor: Callable[[], Monitor] | None = None
        """Makes the monitor the first time it has the terminal (set by the front end)."""
        self.monitor: Monitor | None = None
        self.in_monitor = False
        self.lines: deque[str] = deque()  # monitor lines entered, not run yet
        self.at_line_start = True  # the terminal's cursor is at column 0 (as far as known)
        self._escape = False  # Ctrl-A typed: the next key is a command
        self._sequence = bytearray()  # an ANSI key sequence being typed (arrows)
        self._guest_in: deque[int] = deque()
        self._held = bytearray()
        self._dropped = 0  # held output that did not fit
        self._edit = bytearray()  # the monitor line being typed
        self._history: list[str] = []
        self._recall = 0  # where up/down is in the history
        self._stamps = False
        self._stamp_next = True
        self._quit = False
        self._quit_after = 0.0  # Ctrl-A x typed after keys the guest has not read: at the
        # slice's end after it read them (or after this host time, if it does not), it quits
        self._titles = False  # the status goes to the terminal's title (see set_title)
        self._title: bytes | None = None  # waiting for the guest's output to be at rest
        self._state = _GROUND  # where the guest's output is in an escape or a character
        self._more = 0  # continuation bytes of a UTF-8 character still to come

    # --- the guest's backend -------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Guest output: to the terminal, or held while the monitor has it."""
        if self.in_monitor:
            self._held += data
            if len(self._held) > HELD_BYTES:
                self._dropped += len(self._held) - HELD_BYTES
                del self._held[: len(self._held) - HELD_BYTES]
            return
        self._to_terminal(self._stamped(data) if self._stamps else data)
        if self._titles:
            self._scan(data)
            if self._title is not None and self._state == _GROUND and not self._more:
                self._to_terminal(self._title, column=False)
                self._title = None

    def read(self) -> int | None:
        """A key for the guest, if one was typed (escapes and monitor keys taken out)."""
        self.poll()
        if self._guest_in and not self.in_monitor:
            key = self._guest_in.popleft()
            if self._quit_after and not self._guest_in:  # quit between this slice and the
                self._quit_after = time.monotonic()  # next: the guest handles the key first
            return key
        return None

    def wait_fd(self) -> int | None:
        return None if self._guest_in else self.inner.wait_fd()

    def close(self) -> None:
        self.inner.close()

    # --- keys ----------------------------------------------------------------------------

    def poll(self) -> None:
        """Take the keys typed so far (the guest's UART reads, and the front end between
        slices, call it)."""
        while (key := self.inner.read()) is not None:
            self._key(key)
        if self._quit_after and time.monotonic() >= self._quit_after + QUIT_GRACE_S:
            self._do_quit()  # no front end serves between slices (the Python API alone)

    def _key(self, key: int) -> None:
        if self._escape:
            self._escape = False
            self._command(key)
        elif key == CTRL_A:
            self._escape = True
        elif self.in_monitor:
            self._monitor_key(key)
        else:
            self._guest_in.append(key)

    def _command(self, key: int) -> None:
        """The key after Ctrl-A (QEMU's ``mux_proc_byte``)."""
        char = chr(key) if key < 128 else ""
        if key == CTRL_A or char == "a":
            if self.in_monitor:
                self._monitor_key(CTRL_A)
            else:
                self._guest_in.append(CTRL_A)
        elif char in ("h", "?"):
            self._to_terminal(b"\r\n" + b"".join(line.encode() + b"\r\n" for line in HELP))
        elif char == "x":
            if self._guest_in and not self.in_monitor:  # the keys before it go in first
                self._quit_after = time.monotonic() + QUIT_GRACE_S
            else:
                self._do_quit()
        elif char == "c":
            self._switch()
        elif char == "t":
            self._stamps = not self._stamps
            self._stamp_next = self.at_line_start

    def _do_quit(self) -> None:
        if self._quit:
            return
        self._quit, self._quit_after = True, 0.0
        self._to_terminal((b"" if self.at_line_start else b"\r\n") + TERMINATED)
        if self.on_quit is not None:
            self.on_quit()

    @property
    def quit_requested(self) -> bool:
        """Whether Ctrl-A x was typed."""
        return self._quit

    # --- the monitor ---------------------------------------------------------------------

    def _switch(self) -> None:
        if self.in_monitor:  # back to the guest: what it printed meanwhile, then its keys
            self.in_monitor = False
            self._to_terminal(b"\r\n")
            if self._dropped:
                self._to_terminal(f"[qconf: {self._dropped} bytes of the guest's output did "
                                  "not fit while the monitor had the terminal]\r\n")  # fmt: skip
            held, self._held, self._dropped = bytes(self._held), bytearray(), 0
            self.write(held)
            return
        if self.monitor is None:
            if self.open_monitor is None:
                self._to_terminal(b"\r\n[qconf: this run has no monitor]\r\n")
                return
            self.monitor = self.open_monitor()
            self.in_monitor = True
            self._to_terminal(("" if self.at_line_start else "\r\n") +
                              self.monitor.banner() + self.monitor.prompt)  # fmt: skip
        else:
            self.in_monitor = True
            self._to_terminal(("" if self.at_line_start else "\r\n") + self.monitor.prompt)
        self._edit.clear()

    def _monitor_key(self, key: int) -> None:
        if self._sequence or key == 0x1B:  # ESC [ A (up), ESC [ B (down): history
            self._sequence.append(key)
            if len(self._sequence) >= 3 or (len(self._sequence) == 2 and key != ord("[")):
                arrow, self._sequence = bytes(self._sequence), bytearray()
                if arrow in (b"\x1b[A", b"\x1b[B"):
                    self._recall_line(-1 if arrow == b"\x1b[A" else 1)
            return
        if key in (0x0D, 0x0A):
            line = self._edit.decode("utf-8", errors="replace")
            self._edit.clear()
            self._to_terminal("\r\n")
            if line.strip():
                self._history.append(line)
            self._recall = len(self._history)
            self.lines.append(line)
            self.wake()
        elif key in (0x7F, 0x08):
            if self._edit:
                del self._edit[-1]
                self._to_terminal(b"\b \b")
        elif key == 0x15:  # Ctrl-U: the whole line
            self._to_terminal(b"\b \b" * len(self._edit))
            self._edit.clear()
        elif key >= 0x20:
            self._edit.append(key)
            self._to_terminal(bytes((key,)))

    def _recall_line(self, step: int) -> None:
        if not self._history:
            return
        self._recall = max(0, min(len(self._history), self._recall + step))
        text = self._history[self._recall] if self._recall < len(self._history) else ""
        self._to_terminal(b"\b \b" * len(self._edit) + text.encode())
        self._edit = bytearray(text.encode())

    def serve(self) -> None:
        """Between slices: take the keys typed, and run the monitor lines entered, each
        followed by the prompt (nothing while the guest has the terminal)."""
        self.poll()
        if self._quit_after and time.monotonic() >= self._quit_after:
            self._do_quit()  # the guest took the keys typed before Ctrl-A x, or never will
        while self.lines:
            line = self.lines.popleft()
            if self.monitor is None:
                continue
            output = self.monitor.execute(line) if line.strip() else ""
            self._to_terminal(output)
            if self.in_monitor and not self.monitor.done:
                self._to_terminal(self.monitor.prompt)

    # --- the status in the title ---------------------------------------------------------

    def set_title(self, text: str) -> None:
        """Show ``text`` in the terminal's title (OSC 2), never inside an escape sequence
        or a character the guest is printing: then it waits for the guest's next output
        to end at rest."""
        if not self._titles:
            self._titles = True
            self._to_terminal(b"\x1b[22;2t", column=False)  # keep the user's title (xterm)
        title = b"\x1b]2;" + text.encode("utf-8", errors="replace") + b"\x07"
        if self._state == _GROUND and not self._more:
            self._to_terminal(title, column=False)
        else:
            self._title = title

    def restore_title(self) -> None:
        """Give the terminal its title back (xterm's title stack)."""
        if self._titles:
            self._to_terminal(b"\x1b[23;2t", column=False)
            self._titles = False

    def _scan(self, data: bytes) -> None:
        """Follow the guest's output through escape sequences (CSI, OSC, two-byte ones)
        and UTF-8 characters."""
        state, more = self._state, self._more
        for byte in data:
            if state == _GROUND:
                if more and 0x80 <= byte < 0xC0:
                    more -= 1
                    continue
                more = 0
                if byte == 0x1B:
                    state = _ESCAPE
                elif byte >= 0xC0:
                    more = 1 if byte < 0xE0 else 2 if byte < 0xF0 else 3
            elif state == _ESCAPE:
                state = _CSI if byte == 0x5B else _OSC if byte == 0x5D else _GROUND
            elif state == _CSI:
                if 0x40 <= byte <= 0x7E:
                    state = _GROUND
            elif state == _OSC:
                if byte == 0x07:
                    state = _GROUND
                elif byte == 0x1B:
                    state = _OSC_ESCAPE
            else:  # ESC inside OSC: ESC \ ends it
                state = _GROUND if byte == 0x5C else _OSC
        self._state, self._more = state, more

    # --- the terminal --------------------------------------------------------------------

    def _stamped(self, data: bytes) -> bytes:
        """Guest output with ``[virtual time]`` at each line's start (Ctrl-A t)."""
        out = bytearray()
        for byte in data:
            if self._stamp_next:
                now = self.clock.now()
                seconds, ns = divmod(now, 1_000_000_000)
                out += f"[{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}." \
                       f"{ns // 1_000_000:03d}] ".encode()  # fmt: skip
                self._stamp_next = False
            out.append(byte)
            if byte == 0x0A:
                self._stamp_next = True
        return bytes(out)

    def _to_terminal(self, data: bytes | str, column: bool = True) -> None:
        raw = data.encode() if isinstance(data, str) else data
        if raw:
            self.inner.write(raw)
            if column:
                self.at_line_start = raw.endswith((b"\n", b"\r"))
