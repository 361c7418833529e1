"""Listening sockets for QMP clients: unix sockets (created owner-only) and TCP on
loopback (another address needs ``allow_remote``); several clients at once.

The server never ends on its clients' account: a client's input is read a piece at a time
within a time budget per poll (so a flood of messages shares the time with the guest and
the other clients), at the process's file descriptor limit it stops accepting until a
client leaves, and SIGTERM ends qconf as ``quit`` does (event ``SHUTDOWN``, reason
``host-signal``, as QEMU), with its unix sockets removed."""

from __future__ import annotations

import contextlib
import errno
import os
import selectors
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from qconf.errors import QconfError
from qconf.qmp.control import Control
from qconf.qmp.protocol import JsonStream, encode, event, greeting
from qconf.qmp.session import Session

__all__ = ("QmpServer", "parse_address")


class QmpAddressError(QconfError):
    code = "E950"


def parse_address(text: str, allow_remote: bool = False) -> tuple[str, Any]:
    """``unix:PATH`` or ``tcp:HOST:PORT`` (loopback unless ``allow_remote``)."""
    if text.startswith("unix:") and len(text) > 5:
        return "unix", text[5:]
    if text.startswith("tcp:"):
        host, _, port = text[4:].rpartition(":")
        if not port.isdigit():
            raise QmpAddressError(f"bad QMP address {text!r}: the port must be a number",
                                  hint="write tcp:127.0.0.1:4444")  # fmt: skip
        host = host or "127.0.0.1"
        if host not in ("127.0.0.1", "localhost", "::1") and not allow_remote:
            raise QmpAddressError(
                f"QMP on {host} would be reachable from other machines",
                hint="listen on 127.0.0.1, or pass --qmp-allow-remote if that is what you want",
            )
        return "tcp", (host, int(port))
    raise QmpAddressError(f"bad QMP address {text!r}",
                          hint="write unix:PATH or tcp:127.0.0.1:PORT")  # fmt: skip


MAX_BACKLOG = 16 << 20
"""Bytes of replies and events a client may leave unread before it is disconnected."""
READ_SIZE = 8 << 10
"""Bytes read from a client at a time."""
READ_BUDGET_S = 0.002
"""How long one poll goes on reading a client that has more to say; what is left waits in
the socket (the client sees backpressure) for the next poll."""
ACCEPT_PAUSE_S = 1.0
"""How long accepting pauses at the file descriptor limit, unless a client leaves first."""


@dataclass
class _Client:
    sock: socket.socket
    session: Session
    stream: JsonStream = field(default_factory=JsonStream)
    outbox: bytearray = field(default_factory=bytearray)  # written when the socket can take it


class QmpServer:
    def __init__(self, control: Control, addresses: list[str], allow_remote: bool = False) -> None:
        from qconf import __version__

        self.control = control
        self.package = f"qconf {__version__}"
        self.selector = selectors.DefaultSelector()
        self.listeners: list[socket.socket] = []
        self.paths: list[str] = []
        self.clients: dict[socket.socket, _Client] = {}
        self.count = 0
        self._accept_paused_until: float | None = None  # at the fd limit: not accepting
        self._signalled: int | None = None  # SIGTERM arrived: quit at the next poll
        self._previous_sigterm: Any = None
        for text in addresses:
            kind, where = parse_address(text, allow_remote)
            if kind == "unix":
                sock = self._listen_unix(where)
                self.paths.append(where)
                control.monitors.append(f"unix:{where},server=on")
            else:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(where)
                sock.listen(128)
                control.monitors.append(f"tcp:{where[0]}:{where[1]},server=on")
            sock.setblocking(False)
            self.selector.register(sock, selectors.EVENT_READ, None)
            self.listeners.append(sock)
        if threading.current_thread() is threading.main_thread():
            self._previous_sigterm = signal.signal(signal.SIGTERM, self._terminate)

    @staticmethod
    def _listen_unix(path: str) -> socket.socket:
        """A listening unix socket at ``path``, created owner-only; the path appears only
        once the socket listens (it is bound under a name beside it, then renamed), so a
        client that waits for the file to exist is never refused."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        staged = path + "~" if len(os.fsencode(path)) < 107 else path  # sun_path: 108 bytes
        with contextlib.suppress(FileNotFoundError):
            os.unlink(staged)
        try:
            old = os.umask(0o177)  # owner-only from the start
            try:
                sock.bind(staged)
            finally:
                os.umask(old)
            sock.listen(128)
            if staged != path:
                os.replace(staged, path)  # any stale socket file there goes
        except BaseException:
            sock.close()
            raise
        return sock

    def _terminate(self, signum: int, frame: object) -> None:
        """SIGTERM: no new client from now (the unix sockets go at once), and qconf ends as
        on ``quit`` at the next poll; a second SIGTERM ends it at once."""
        self._signalled = signum
        self._remove_paths()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    def poll(self, timeout: float = 0.0) -> None:
        """Accept clients, read what they sent, answer; wait up to ``timeout`` seconds."""
        self._resume_accepting()
        for key, events in self.selector.select(timeout):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            if sock in self.listeners:
                self._accept(sock)
                continue
            found = self.clients.get(sock)
            if found is None:  # dropped earlier in this round
                continue
            if events & selectors.EVENT_WRITE:
                self._flush(found)
            if events & selectors.EVENT_READ:
                self._read(found)
        if self._signalled is not None and not self.control.quit_requested:
            sys.stderr.write(f"qconf: terminating on signal {self._signalled}\n")
            self.control.quit_requested = True
            self.broadcast("SHUTDOWN", {"guest": False, "reason": "host-signal"})

    def _accept(self, listener: socket.socket) -> None:
        try:
            conn, _ = listener.accept()
        except OSError as exc:
            if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                # out of descriptors: the listener stays ready, and accepting again at once
                # would spin; the client waits in the backlog until one leaves
                self._pause_accepting()
            return  # (or the client gave up before it was accepted)
        conn.setblocking(False)
        self.count += 1
        new = _Client(conn, Session(self.control, self.count))
        self.clients[conn] = new
        self.selector.register(conn, selectors.EVENT_READ, None)
        self._send(new, [greeting(self.package)])

    def _pause_accepting(self) -> None:
        if self._accept_paused_until is None:
            for sock in self.listeners:
                self.selector.unregister(sock)
        self._accept_paused_until = time.monotonic() + ACCEPT_PAUSE_S

    def _resume_accepting(self, now: bool = False) -> None:
        until = self._accept_paused_until
        if until is not None and (now or time.monotonic() >= until):
            self._accept_paused_until = None
            for sock in self.listeners:
                self.selector.register(sock, selectors.EVENT_READ, None)

    def _read(self, client: _Client) -> None:
        """What the client sent, a piece at a time, answered as it is read, for up to
        ``READ_BUDGET_S``."""
        sock = client.sock
        deadline = time.monotonic() + READ_BUDGET_S
        while sock in self.clients:
            try:
                data = sock.recv(READ_SIZE)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:  # hung up, perhaps in the middle of a command: forget it
                self._drop(client)
                return
            for msg in client.stream.feed(data):
                self._send(client, client.session.handle(msg))
                if sock not in self.clients:
                    return
            if len(data) < READ_SIZE or time.monotonic() >= deadline:
                return

    def broadcast(
        self, name: str, data: dict[str, Any] | None = None, only: set[int] | None = None
    ) -> None:
        """An event to every client past negotiation (or to the sessions in ``only``)."""
        msg = event(name, data)
        for client in list(self.clients.values()):
            if client.session.negotiated and (only is None or client.session.number in only):
                self._send(client, [msg])

    def _send(self, client: _Client, messages: list[dict[str, Any]]) -> None:
        """Queue messages for a client and write what its socket takes now; the rest is
        written when it can take more (a client that does not read never blocks the
        server, and one that leaves too much unread is disconnected)."""
        if client.sock not in self.clients:
            return
        client.outbox += b"".join(encode(m) for m in messages)
        if len(client.outbox) > MAX_BACKLOG:
            self._drop(client)
            return
        self._flush(client)

    def _flush(self, client: _Client) -> None:
        try:
            sent = client.sock.send(client.outbox) if client.outbox else 0
        except BlockingIOError:
            sent = 0
        except OSError:
            self._drop(client)
            return
        del client.outbox[:sent]
        wanted = selectors.EVENT_READ | (selectors.EVENT_WRITE if client.outbox else 0)
        if self.selector.get_key(client.sock).events != wanted:
            self.selector.modify(client.sock, wanted)

    def _drop(self, client: _Client) -> None:
        if self.clients.pop(client.sock, None) is None:
            return
        self.selector.unregister(client.sock)
        client.sock.close()
        self._resume_accepting(now=True)  # a descriptor is free again

    def close(self) -> None:
        for client in list(self.clients.values()):
            # what is still queued (the last events and replies), as far as it goes
            try:
                client.sock.setblocking(True)
                client.sock.settimeout(1.0)
                client.sock.sendall(client.outbox)
            except OSError:
                pass
            self._drop(client)
        self._resume_accepting(now=True)
        for sock in self.listeners:
            self.selector.unregister(sock)
            sock.close()
        self._remove_paths()
        self.selector.close()
        if self._previous_sigterm is not None:
            signal.signal(signal.SIGTERM, self._previous_sigterm)
            self._previous_sigterm = None

    def _remove_paths(self) -> None:
        for path in self.paths:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
