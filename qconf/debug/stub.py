"""One gdb connection: the remote protocol's commands, answered against a :class:`Target`.

The stub parses what gdb sends (:mod:`qconf.debug.rsp` frames it), answers it, and sends a
stop reply when the target reports a stop. It knows nothing of Unicorn or of the run: a
target (:mod:`qconf.debug.target` for a machine's CPUs; a fake in the tests) reads and
writes registers and memory, sets breakpoints, steps a thread and resumes. The threads are
the target's CPUs, numbered from 1. The packets are those gdb 13 uses with a bare-metal
stub (the GDB manual, "Remote Protocol" > "Packets", "Stop Reply Packets", "General Query
Packets"); unknown packets get the empty reply, as the protocol asks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from qconf.debug import rsp
from qconf.debug.tdesc import Description, Register

__all__ = ("SIGINT", "SIGSEGV", "SIGTRAP", "Stop", "Stub", "Target")

SIGINT, SIGILL, SIGTRAP, SIGSEGV = 2, 4, 5, 11
"""gdb's signal numbers (its own, the same on every host) that stop replies carry."""
PACKET_SIZE = 0x1000
"""The largest packet gdb may send (``PacketSize``); memory replies stay under it too."""
WATCH_KINDS = {2: "watch", 3: "rwatch", 4: "awatch"}
"""``Z2``-``Z4``: write, read and access watchpoints, and how their stop replies say it."""


@dataclass(frozen=True)
class Stop:
    """Why the target stopped, as its stop reply says it.

    :param thread: the thread (CPU, from 1) that stopped.
    :param signal: gdb's signal number: ``SIGTRAP`` for a breakpoint, a watchpoint or a
        step, ``SIGINT`` for an interrupt, ``SIGILL``/``SIGSEGV`` for a guest fault.
    :param reason: ``swbreak``, ``hwbreak``, ``watch``, ``rwatch``, ``awatch`` or none.
    :param address: the data address of a watchpoint stop.
    :param exited: the machine ended with this exit status (a ``W`` reply).
    """

    thread: int = 1
    signal: int = SIGTRAP
    reason: str = ""
    address: int = 0
    exited: int | None = None


class Target(Protocol):
    """What a stub debugs: the CPUs of one architecture, as threads ``1..threads``."""

    @property
    def description(self) -> Description: ...

    @property
    def threads(self) -> int: ...

    def thread_name(self, thread: int) -> str:
        """A line about the thread (``qThreadExtraInfo``): its CPU's path."""
        ...

    def read_register(self, thread: int, reg: Register) -> int | None: ...

    def write_register(self, thread: int, reg: Register, value: int) -> bool: ...

    def read_memory(self, thread: int, address: int, length: int) -> bytes | None:
        """``length`` bytes at ``address`` as the thread's CPU sees them, None if they
        cannot all be read."""
        ...

    def write_memory(self, thread: int, address: int, data: bytes) -> bool: ...

    def breakpoint(self, kind: int, address: int, length: int, insert: bool) -> bool:
        """Insert or remove a breakpoint (``kind`` 0 software, 1 hardware) or a watchpoint
        (2 write, 3 read, 4 access) on every thread; whether it could."""
        ...

    def step(self, thread: int) -> Stop:
        """Run one instruction of ``thread`` now (no other thread runs); why it stopped."""
        ...

    def resume(self, threads: set[int] | None = None) -> None:
        """Let the machine run (of this target's CPUs, only ``threads`` if given); the
        target calls :meth:`Stub.report` when it stops."""
        ...

    def interrupt(self) -> None:
        """gdb asks for a stop (Ctrl-C): the target reports it soon."""
        ...

    def detach(self) -> None:
        """gdb leaves: remove its breakpoints and let the machine run."""
        ...

    def kill(self) -> None:
        """gdb asks to end the run."""
        ...

    def monitor(self, command: str) -> str:
        """Run a ``monitor`` command line; its output."""
        ...


def _hex(data: bytes) -> bytes:
    return data.hex().encode()


class Stub:
    """The protocol state of one gdb connection.

    :param target: what it debugs.
    :param send: writes bytes to gdb.
    """

    def __init__(self, target: Target, send: Callable[[bytes], None]) -> None:
        self.target = target
        self._send = send
        self._reader = rsp.PacketReader()
        self._acks = True  # until QStartNoAckMode
        self._last = b""  # the last packet sent, for a '-'
        self.gdb_features: set[str] = set()
        self.g_thread = 1  # registers and memory (Hg)
        self.running = False  # gdb waits for a stop reply
        self.closed = False  # detached or killed: the connection ends
        self.last_stop = Stop()

    # --- the wire ------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Handle what gdb sent (any chunk of it)."""
        for event in self._reader.feed(data):
            if self.closed:
                return
            if isinstance(event, rsp.Interrupt):
                if self.running:
                    self.target.interrupt()
            elif isinstance(event, rsp.Ack):
                if not event.ok and self._acks and self._last:
                    self._send(self._last)
            elif not event.valid and self._acks:
                self._send(b"-")
            else:
                if self._acks:
                    self._send(b"+")
                self._handle(event.data)

    def _reply(self, data: bytes) -> None:
        self._last = rsp.frame(data)
        self._send(self._last)

    def report(self, stop: Stop) -> None:
        """The target stopped (or the machine ended): tell gdb if it waits for it."""
        self.last_stop = stop
        if stop.exited is None:
            self.g_thread = stop.thread
        if self.running:
            self.running = False
            self._reply(self.stop_reply(stop))

    def stop_reply(self, stop: Stop) -> bytes:
        """``T05thread:1;swbreak:;``, ``T05thread:2;watch:80001000;``, ``W00``..."""
        if stop.exited is not None:
            return b"W%02x" % (stop.exited & 0xFF)
        out = b"T%02xthread:%x;" % (stop.signal, stop.thread)
        if stop.reason in WATCH_KINDS.values():
            out += b"%s:%x;" % (stop.reason.encode(), stop.address)
        elif stop.reason and f"{stop.reason}+" in self.gdb_features:
            out += stop.reason.encode() + b":;"
        return out

    # --- packets -------------------------------------------------------------------------

    def _handle(self, packet: bytes) -> None:
        head = packet[:1]
        try:
            reply = self._dispatch(head, packet)
        except (ValueError, IndexError):
            reply = b"E01"  # a malformed packet
        if reply is not None:
            self._reply(reply)

    def _dispatch(self, head: bytes, packet: bytes) -> bytes | None:
        """The reply to ``packet``, None for none (a resume, whose reply is the stop)."""
        body = packet[1:]
        if head in (b"q", b"Q"):
            return self._query(packet)
        if head == b"v":
            return self._v(packet)
        if head == b"?":
            return self.stop_reply(self.last_stop)
        if head == b"g":
            return b"".join(self._register_hex(reg) for reg in self.target.description.g_registers)
        if head == b"G":
            return self._write_all(bytes.fromhex(body.decode()))
        if head == b"p":
            reg = self.target.description.register(int(body, 16))
            return b"E14" if reg is None else self._register_hex(reg)
        if head == b"P":
            number, _, value = body.partition(b"=")
            reg = self.target.description.register(int(number, 16))
            if reg is None:
                return b"E14"
            raw = bytes.fromhex(value.decode())
            ok = self.target.write_register(self.g_thread, reg, int.from_bytes(raw, "little"))
            return b"OK" if ok else b"E14"
        if head == b"m":
            address, length = (int(x, 16) for x in body.split(b","))
            data = self.target.read_memory(self.g_thread, address, min(length, PACKET_SIZE // 2))
            return b"E14" if data is None else _hex(data)
        if head in (b"M", b"X"):
            where, _, data = body.partition(b":")
            address, length = (int(x, 16) for x in where.split(b","))
            raw = bytes.fromhex(data.decode()) if head == b"M" else rsp.unescape(data)
            if len(raw) != length:
                return b"E01"
            return (
                b"OK"
                if not raw or self.target.write_memory(self.g_thread, address, raw)
                else b"E14"
            )
        if head in (b"Z", b"z"):
            kind, address, length = (int(x, 16) for x in body.split(b";")[0].split(b","))
            if kind > 4:
                return b""
            return b"OK" if self.target.breakpoint(kind, address, length, head == b"Z") else b"E22"
        if head == b"H":
            thread = int(body[1:], 16) if body[1:] not in (b"", b"-1") else 0
            if thread and not 1 <= thread <= self.target.threads:
                return b"E22"
            if body[:1] == b"g" and thread:
                self.g_thread = thread
            return b"OK"
        if head == b"T":
            return b"OK" if 1 <= int(body, 16) <= self.target.threads else b"E01"
        if head in (b"c", b"C"):
            return self._resume([("c", 0)], self._resume_address(head, body))
        if head in (b"s", b"S"):
            return self._resume([("s", self.g_thread)], self._resume_address(head, body))
        if head == b"D":
            self._reply(b"OK")
            self.closed = True
            self.target.detach()
            return None
        if head == b"k":
            self.closed = True
            self.target.kill()
            return None
        return b""

    def _query(self, packet: bytes) -> bytes | None:
        name, _, args = packet.partition(b":")
        if name == b"qSupported":
            self.gdb_features = {f.decode() for f in args.split(b";") if f}
            out = [b"PacketSize=%x" % PACKET_SIZE, b"qXfer:features:read+",
                   b"vContSupported+", b"QStartNoAckMode+"]  # fmt: skip
            out += [f.encode() for f in ("swbreak+", "hwbreak+") if f in self.gdb_features]
            return b";".join(out)
        if name == b"QStartNoAckMode":
            self._reply(b"OK")  # gdb acknowledges this one, then neither side does
            self._acks = False
            return None
        if name == b"qXfer" and args.startswith(b"features:read:"):
            annex, _, span = args[len(b"features:read:") :].partition(b":")
            if annex != b"target.xml":
                return b"E00"
            offset, length = (int(x, 16) for x in span.split(b","))
            xml = self.target.description.xml().encode()
            chunk = xml[offset : offset + min(length, PACKET_SIZE - 16)]
            return (b"l" if offset + len(chunk) >= len(xml) else b"m") + rsp.escape(chunk)
        if name == b"qC":
            return b"QC%x" % self.g_thread
        if name == b"qfThreadInfo":
            return b"m" + b",".join(b"%x" % t for t in range(1, self.target.threads + 1))
        if name == b"qsThreadInfo":
            return b"l"
        if name == b"qAttached":
            return b"1"  # attached to a machine that exists without gdb: detach on quit
        if packet.startswith(b"qThreadExtraInfo,"):
            thread = int(packet.split(b",")[1], 16)
            return _hex(self.target.thread_name(thread).encode())
        if packet.startswith(b"qRcmd,"):
            output = self.target.monitor(bytes.fromhex(packet[6:].decode()).decode())
            data = output.encode()
            for at in range(0, len(data), PACKET_SIZE // 2 - 8):
                self._reply(b"O" + _hex(data[at : at + PACKET_SIZE // 2 - 8]))
            return b"OK"
        return b""

    def _v(self, packet: bytes) -> bytes | None:
        if packet == b"vCont?":
            return b"vCont;c;C;s;S"
        if packet.startswith(b"vCont;"):
            actions = []
            for item in packet[6:].split(b";"):
                action, _, thread = item.partition(b":")
                tid = int(thread, 16) if thread not in (b"", b"-1") else 0
                actions.append((action[:1].decode().lower(), tid))
            return self._resume(actions, None)
        if packet.startswith(b"vKill"):
            self._reply(b"OK")
            self.closed = True
            self.target.kill()
            return None
        return b""  # vMustReplyEmpty, vFile, vRun...: not supported

    # --- registers -----------------------------------------------------------------------

    def _register_hex(self, reg: Register) -> bytes:
        value = self.target.read_register(self.g_thread, reg)
        if value is None:
            return b"xx" * reg.size
        return _hex(value.to_bytes(reg.size, "little"))

    def _write_all(self, raw: bytes) -> bytes:
        at = 0
        for reg in self.target.description.g_registers:
            chunk = raw[at : at + reg.size]
            at += reg.size
            if len(chunk) == reg.size:
                self.target.write_register(self.g_thread, reg, int.from_bytes(chunk, "little"))
        return b"OK"

    # --- running -------------------------------------------------------------------------

    def _resume_address(self, head: bytes, body: bytes) -> int | None:
        """``c ADDR``, ``C SIG;ADDR``: where to resume, if said (the signal is ignored: a
        machine has no signals to deliver)."""
        if head in (b"C", b"S"):
            body = body.partition(b";")[2]
        return int(body, 16) if body else None

    def _resume(self, actions: list[tuple[str, int]], address: int | None) -> bytes | None:
        """Step the first thread an action steps (nothing else runs: all-stop, and a step
        is one instruction of one CPU), else let the machine run: every thread, or only
        those named (``vCont;c:1``: the others stay stopped)."""
        if address is not None:
            pc = next(r for r in self.target.description.g_registers if r.name == "pc")
            self.target.write_register(self.g_thread, pc, address)
        for action, thread in actions:
            if action == "s":
                stop = self.target.step(thread or self.g_thread)
                self.last_stop = stop
                self.g_thread = stop.thread if stop.exited is None else self.g_thread
                return self.stop_reply(stop)
        resumed = [thread for action, thread in actions if action == "c"]
        if resumed:
            self.running = True
            self.target.resume(None if 0 in resumed else set(resumed))
            return None
        return b"E01"  # only 't' (stop) actions: gdb uses them in non-stop mode only
