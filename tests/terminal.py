"""A real terminal for tests: a tmux server of the test's own (its own socket), a shell in
a window of fixed size, keys sent as a person types them, and the screen read back."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from tests.external import require_program
from tests.helpers import REPO


class Terminal:
    """One tmux window running ``bash``, in the repository, with qconf's Python first on
    the PATH (as an activated virtual environment)."""

    def __init__(self, name: str) -> None:
        self.tmux = require_program("tmux", "tmux")
        self.name = name
        env = f"PATH={shlex.quote(os.path.dirname(sys.executable))}:$PATH"
        self._run("new-session", "-d", "-x", "160", "-y", "50", "-c", str(REPO),
                  f"env {env} PS1='$ ' bash --norc --noprofile")  # fmt: skip

    def _run(self, *args: str) -> str:
        done = subprocess.run([self.tmux, "-L", self.name, *args], capture_output=True,
                              text=True, check=True, timeout=30)  # fmt: skip
        return done.stdout

    def type(self, text: str, enter: bool = True) -> None:
        """Type ``text`` (literally), then Enter."""
        self._run("send-keys", "-l", text)
        if enter:
            self._run("send-keys", "Enter")

    def keys(self, *keys: str) -> None:
        """tmux key names: ``C-a``, ``x``, ``Enter``."""
        self._run("send-keys", *keys)

    def screen(self) -> str:
        """What the window shows, and what scrolled off it (up to 2,000 lines)."""
        return self._run("capture-pane", "-p", "-J", "-S", "-2000")

    def title(self) -> str:
        return self._run("display", "-p", "#{pane_title}").strip()

    def wait_for(self, text: str, timeout: float = 90, after: str = "") -> str:
        """The screen once it shows ``text`` (after the last ``after`` on it, if given)."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            tail = screen.rsplit(after, 1)[-1] if after else screen
            if text in tail:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not on the screen:\n{screen[-3000:]}")
            time.sleep(0.2)

    def close(self) -> None:
        subprocess.run([self.tmux, "-L", self.name, "kill-server"], capture_output=True,
                       check=False, timeout=30)  # fmt: skip


@contextmanager
def terminal(name: str) -> Iterator[Terminal]:
    """A terminal named for the test (its tmux socket), killed at the end."""
    term = Terminal(f"qconf-test-{os.getpid()}-{name}")
    try:
        yield term
    finally:
        term.close()
