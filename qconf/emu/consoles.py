"""The character backends of a running machine's devices.

Each UART's backend is opened when its model asks for it: the one its ``chardev`` names,
or one given in place of it by path (tests, the Python API). The first one opened is the
console, which a script (``--expect``/``--send``) drives whatever backend it is. Every
device's output is also shown to listeners (QMP clients that asked for console events),
and text typed over QMP comes before the backend's own input.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from qconf.assembly.machine import Machine
from qconf.emu.chardev import Chardev, NullChardev, StdioChardev, open_chardev, open_hint
from qconf.emu.memory import RunError
from qconf.emu.script import Script, steps
from qconf.emu.terminal import Mux
from qconf.model.objects import Object

if TYPE_CHECKING:
    from qconf.emu.scheduler import Scheduler

__all__ = ("Consoles",)


class Consoles:
    """The backends, by backend object (or by device, for those given in place).

    :param given: backends by the path of their backend object or of their device.
    :param script: the console's script (the first backend opened): steps of
        :mod:`qconf.emu.script`, or ``(pattern, text)`` pairs.
    :param on_quit: what Ctrl-A x on a terminal does.
    :param on_closed: what a closed standard output does.
    :param scheduler: the clock and run a script's time limits (and the terminal) use.
    """

    def __init__(
        self,
        machine: Machine,
        given: dict[str, Chardev] | None = None,
        script: Sequence[Any] | None = None,
        on_quit: Callable[[], None] | None = None,
        on_closed: Callable[[], None] | None = None,
        scheduler: Scheduler | None = None,
    ) -> None:
        self.machine = machine
        self.script = steps(script or [])
        self.scheduler = scheduler
        self.on_quit = on_quit
        self.on_closed = on_closed
        self.opened: dict[Object, Chardev] = {}
        for path, dev in (given or {}).items():
            self.opened[machine.object(path)] = dev
        self.console: Chardev | None = None
        self.scripted: Script | None = None
        """The console's script, once the console is opened (with a script)."""
        self.terminal: Mux | None = None
        """The stdio backend when standard input is a terminal (escape keys, monitor)."""
        self.listeners: list[Callable[[Object, bytes], None]] = []
        """Called with each device's output (QMP console events)."""
        self.typed: dict[Object, deque[int]] = {}
        """Input typed into a device over QMP (``qconf-console-write``)."""

    def of(self, device: Object) -> Chardev:
        """The backend of ``device`` (opened on first use), tapped for listeners."""
        backend = self.machine.backends.get((device, "chardev"))
        if device in self.opened:
            key: Object | None = device
        else:
            key = backend
        if key is None:  # no backend: its output goes nowhere, and it is no console
            return _Tapped(NullChardev(), device, self)
        found = self.opened.get(key)
        if found is None:
            assert backend is not None
            found = self._open(device, backend)
            if isinstance(found, StdioChardev) and found.terminal and self.scheduler is not None:
                found = self.terminal = Mux(found, self.on_quit, self.scheduler.cut_slice,
                                            self.scheduler)  # fmt: skip
        if self.console is None:  # the first one opened is the console: a script drives it
            if self.script:
                assert self.scheduler is not None, "a script needs the run's scheduler"
                found = self.scripted = Script(found, self.script, self.scheduler)
            self.console = found
        self.opened[key] = found
        return _Tapped(found, device, self)

    def _open(self, device: Object, backend: Object) -> Chardev:
        kind, path, port = backend.get("backend"), backend.get("path"), backend.get("port")
        try:
            return open_chardev(kind, path, backend.get("host"), port,
                                on_closed=self.on_closed)  # fmt: skip
        except OSError as exc:
            where = f"{backend.get('host')}:{port}" if kind == "tcp" else path
            raise RunError(
                f"cannot open its {kind} backend {where}: {exc.strerror or exc}",
                code="E910",
                origin=device.origins.get("chardev") or backend.origin,
                path=f"{device.key}.chardev",
                hint=open_hint(kind, path, port, exc),
            ) from None

    def uses_stdout(self) -> bool:
        """Whether a backend opened writes to standard output (``stdio``)."""
        for opened in self.opened.values():
            dev: object = opened
            while dev is not None:
                if isinstance(dev, StdioChardev):
                    return True
                dev = getattr(dev, "inner", None)
        return False

    def input_fds(self) -> list[int]:
        """The descriptors input may come from, on any backend opened."""
        return [fd for dev in self.opened.values() if (fd := dev.wait_fd()) is not None]

    def close(self) -> None:
        for dev in self.opened.values():
            dev.close()
        self.opened.clear()


class _Tapped:
    """A device's backend, with its output also shown to listeners and input typed over
    QMP first."""

    def __init__(self, inner: Chardev, obj: Object, consoles: Consoles) -> None:
        self.inner, self.obj, self.consoles = inner, obj, consoles

    def write(self, data: bytes) -> None:
        self.inner.write(data)
        for listener in self.consoles.listeners:
            listener(self.obj, data)

    def read(self) -> int | None:
        typed = self.consoles.typed.get(self.obj)
        if typed:
            return typed.popleft()
        return self.inner.read()

    def wait_fd(self) -> int | None:
        return self.inner.wait_fd()

    def close(self) -> None:
        self.inner.close()
