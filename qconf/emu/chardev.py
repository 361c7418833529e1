"""Character backends at run time: where a UART's bytes go and come from."""

from __future__ import annotations

import contextlib
import errno
import os
import select
import stat
import sys
import time
from collections import deque
from typing import IO, TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import socket

INPUT_POLL_S = 0.0002
"""After finding no input on standard input, how long (host seconds) reads answer "none"
without asking the system again: guests read their UART's status before every character
they print, and a system call for each would cost more than the character."""

__all__ = (
    "Chardev",
    "FileChardev",
    "MemoryChardev",
    "NullChardev",
    "SocketChardev",
    "StdioChardev",
    "open_chardev",
)


class Chardev(Protocol):
    def write(self, data: bytes) -> None: ...

    def read(self) -> int | None:
        """One received byte, or None when nothing is waiting."""
        ...

    def wait_fd(self) -> int | None:
        """A file descriptor that becomes readable when input may come; None when none
        can (the run may then be stopped as hung, see the emulator)."""
        ...

    def close(self) -> None: ...


class _NoInput:
    """For backends whose input never comes from a file descriptor."""

    def wait_fd(self) -> int | None:
        return None


class NullChardev(_NoInput):
    def write(self, data: bytes) -> None:
        pass

    def read(self) -> int | None:
        return None

    def close(self) -> None:
        pass


class MemoryChardev(_NoInput):
    """Keeps output in memory and serves input from a queue (tests, scripts)."""

    def __init__(self) -> None:
        self.output = bytearray()
        self.input: deque[int] = deque()

    def write(self, data: bytes) -> None:
        self.output += data

    def read(self) -> int | None:
        return self.input.popleft() if self.input else None

    def feed(self, data: bytes) -> None:
        self.input.extend(data)

    def close(self) -> None:
        pass


class StdioChardev:
    """Standard output, and standard input when it is a pipe, a file or a terminal (put in
    cbreak mode: keys arrive one by one, Ctrl-C still stops the run). On a terminal, the
    console wraps it in a :class:`~qconf.emu.terminal.Mux` for QEMU's escape keys.

    When standard output is closed (``qconf run | head -1``), output is dropped from then
    on and ``on_closed`` is called once: like other tools, the run ends quietly; a closed
    pipe is not a fault of the guest."""

    def __init__(self, on_closed: Any = None) -> None:
        self.on_closed = on_closed  # called when standard output is closed
        self._fd: int | None = None
        self._saved: Any = None
        self._pending = bytearray()
        self._stream: Any = None
        self._quiet_until = 0.0  # no input was waiting when last looked; look again then
        self._out: int | None = None
        self._closed = False
        with contextlib.suppress(AttributeError, OSError, ValueError):
            sys.stdout.flush()
            self._out = sys.stdout.fileno()  # in-memory stdouts (test runners) have none
        try:
            fd = sys.stdin.fileno()
        except (AttributeError, OSError, ValueError):
            # no file descriptor (an in-memory stdin, as test runners give): read it whole
            self._stream = getattr(sys.stdin, "buffer", None)
            return
        self._fd = fd
        if os.isatty(fd):
            import termios
            import tty

            self._saved = termios.tcgetattr(fd)
            tty.setcbreak(fd)

    def write(self, data: bytes) -> None:
        if self._closed:
            return
        try:
            if self._out is not None:  # straight to the descriptor: one system call a write
                view = memoryview(data)
                while view:
                    view = view[os.write(self._out, view) :]
                return
            out = getattr(sys.stdout, "buffer", None)
            if out is None:
                sys.stdout.write(data.decode("utf-8", errors="replace"))
            else:
                out.write(data)
            sys.stdout.flush()
        except BrokenPipeError:
            self._output_closed()

    def _output_closed(self) -> None:
        self._closed = True
        # what is still buffered for standard output (and Python's flush at exit) goes
        # nowhere instead of failing again
        with contextlib.suppress(AttributeError, OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        if self.on_closed is not None:
            self.on_closed()

    def read(self) -> int | None:
        if self._stream is not None:
            with contextlib.suppress(OSError, ValueError):  # unreadable stdin: no input
                self._pending += self._stream.read() or b""
            self._stream = None
        if not self._pending and self._fd is not None:
            now = time.monotonic()
            if now < self._quiet_until:  # a guest polls its UART for every character
                return None
            ready, _, _ = select.select([self._fd], [], [], 0)
            if not ready:
                self._quiet_until = now + INPUT_POLL_S
            else:
                chunk = os.read(self._fd, 4096)
                if chunk:
                    self._pending += chunk
                else:
                    self._fd = None  # end of input
        if self._pending:
            byte = self._pending[0]
            del self._pending[0]
            return byte
        return None

    def wait_fd(self) -> int | None:
        """Readable when a key or piped input arrives (None once input has ended)."""
        return None if self._pending else self._fd

    @property
    def terminal(self) -> bool:
        """Whether standard input is a terminal (in cbreak mode while this is open)."""
        return self._saved is not None

    def close(self) -> None:
        if self._saved is not None and self._fd is not None:
            import termios

            termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
            self._saved = None


class SocketChardev:
    """A listening unix or TCP socket: the first client to connect gets the output from
    then on, and what it sends is input; output before a client connects is dropped."""

    def __init__(self, family: str, path: str | None, host: str, port: int | None) -> None:
        import socket  # only for socket backends

        self._path: str | None = None
        if family == "unix":
            assert path is not None
            if os.path.lexists(path):  # a stale socket from an earlier run goes, nothing else
                if not stat.S_ISSOCK(os.lstat(path).st_mode):
                    raise FileExistsError(errno.EEXIST, "it exists and is not a socket", path)
                os.unlink(path)
            self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        else:
            self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            if family == "unix":
                assert path is not None
                old = os.umask(0o177)  # owner only from the start (not after a chmod)
                try:
                    self._server.bind(path)
                finally:
                    os.umask(old)
                self._path = path
            else:
                self._server.bind((host, port or 0))
            self._server.listen(1)
        except OSError:  # nothing left open (the caller reports where and why)
            self.close_server()
            raise
        self._server.setblocking(False)
        self._client: socket.socket | None = None
        self._pending = bytearray()

    @property
    def address(self) -> Any:
        return self._server.getsockname()

    def wait_fd(self) -> int | None:
        """Readable when the client sends (or, before one connects, when one does)."""
        return (self._client or self._server).fileno()

    def _accept(self) -> None:
        if self._client is None:
            try:
                self._client, _ = self._server.accept()
                self._client.setblocking(False)
            except BlockingIOError:
                pass

    def write(self, data: bytes) -> None:
        self._accept()
        if self._client is not None:
            try:
                self._client.sendall(data)
            except OSError:
                self._client = None

    def read(self) -> int | None:
        self._accept()
        if not self._pending and self._client is not None:
            try:
                chunk = self._client.recv(4096)
                if chunk:
                    self._pending += chunk
                else:
                    self._client = None
            except BlockingIOError:
                pass
        if self._pending:
            byte = self._pending[0]
            del self._pending[0]
            return byte
        return None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        self.close_server()

    def close_server(self) -> None:
        self._server.close()
        if self._path is not None and os.path.exists(self._path):
            os.unlink(self._path)


class FileChardev(_NoInput):
    def __init__(self, path: str) -> None:
        self._file: IO[bytes] = open(path, "wb")  # noqa: SIM115 - closed by close()

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self._file.flush()

    def read(self) -> int | None:
        return None

    def close(self) -> None:
        self._file.close()


def open_chardev(
    kind: str,
    path: str | None,
    host: str = "127.0.0.1",
    port: int | None = None,
    on_closed: Any = None,
) -> Chardev:
    """A backend for a ``chardev`` object's ``backend``, ``path``, ``host`` and ``port``;
    ``on_closed`` is what a closed standard output does.

    :raises OSError: a file or socket backend cannot be opened (see :func:`open_hint`).
    """
    if kind == "stdio":
        return StdioChardev(on_closed)
    if kind == "memory":
        return MemoryChardev()
    if kind == "file":
        assert path is not None
        return FileChardev(os.fspath(path))
    if kind in ("unix", "tcp"):
        return SocketChardev(kind, path, host, port)
    return NullChardev()


def open_hint(kind: str, path: str | None, port: int | None, exc: OSError) -> str | None:
    """How to fix the failure ``exc`` of opening a ``kind`` backend."""
    where = os.path.dirname(os.path.abspath(path)) if path else ""
    if exc.errno == errno.ENOENT and path:
        return f"the directory {where} does not exist: create it, or choose another path"
    if exc.errno == errno.EEXIST:
        return "qconf replaces only a socket left by an earlier run: choose another path"
    if exc.errno == errno.EADDRINUSE:
        if kind == "unix":
            return "another program listens on that socket: stop it, or choose another path"
        return (f"another program listens on port {port}: stop it, choose another port, "
                "or port 0 for any free one")  # fmt: skip
    if exc.errno in (errno.EACCES, errno.EPERM):
        if kind == "tcp":
            return "ports below 1024 need privileges: choose a port of 1024 or more"
        return f"no permission to create files in {where}: choose another path"
    if exc.errno == errno.EADDRNOTAVAIL:
        return "no network interface has that address: use 127.0.0.1, or one of this host's"
    if exc.errno == errno.ENAMETOOLONG or (kind == "unix" and exc.errno == errno.EINVAL):
        return "unix socket paths are limited to about 100 bytes: choose a shorter path"
    return None
