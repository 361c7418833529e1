"""Listening sockets for QMP clients: unix sockets (created owner-only) and TCP on
loopback (another address needs ``allow_remote``); several clients at once."""

from __future__ import annotations

import os
import selectors
import socket
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
        for text in addresses:
            kind, where = parse_address(text, allow_remote)
            if kind == "unix":
                if os.path.exists(where):
                    os.unlink(where)
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                # bound under a temporary name and renamed once listening: a client that
                # sees the path never meets a socket that refuses it
                bound = f"{where}.{os.getpid()}.tmp"
                if len(os.fsencode(bound)) >= 108:  # sun_path's size: no room, no rename
                    bound = where
                old = os.umask(0o177)  # owner-only from the start
                try:
                    sock.bind(bound)
                finally:
                    os.umask(old)
                sock.listen(128)
                if bound != where:
                    os.replace(bound, where)
                self.paths.append(where)
            else:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(where)
                sock.listen(128)
            sock.setblocking(False)
            self.selector.register(sock, selectors.EVENT_READ, None)
            self.listeners.append(sock)

    def poll(self, timeout: float = 0.0) -> None:
        """Accept clients, read what they sent, answer; wait up to ``timeout`` seconds."""
        for key, events in self.selector.select(timeout):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            if sock in self.listeners:
                try:
                    conn, _ = sock.accept()
                except OSError:  # the client gave up before we accepted it
                    continue
                conn.setblocking(False)
                self.count += 1
                new = _Client(conn, Session(self.control, self.count))
                self.clients[conn] = new
                self.selector.register(conn, selectors.EVENT_READ, None)
                self._send(new, [greeting(self.package)])
                continue
            found = self.clients.get(sock)
            if found is None:  # dropped earlier in this round
                continue
            client = found
            if events & selectors.EVENT_WRITE:
                self._flush(client)
            if not events & selectors.EVENT_READ or sock not in self.clients:
                continue
            try:
                data = sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:  # hung up, perhaps in the middle of a command: forget it
                self._drop(client)
                continue
            for msg in client.stream.feed(data):
                self._send(client, client.session.handle(msg))
                if sock not in self.clients:
                    break

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
        for sock in self.listeners:
            self.selector.unregister(sock)
            sock.close()
        for path in self.paths:
            if os.path.exists(path):
                os.unlink(path)
        self.selector.close()
