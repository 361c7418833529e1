"""GDB's remote serial protocol on the wire: packets, acknowledgements, interrupts, escapes.

A packet is ``$DATA#CS``: ``CS`` is the sum of ``DATA``'s bytes modulo 256 in two hex
digits. Until ``QStartNoAckMode``, each side answers every packet with ``+`` (received)
or ``-`` (checksum wrong: send it again). A lone ``0x03`` outside a packet is an
interrupt (the user pressed Ctrl-C in gdb). Binary data (``X`` packets, ``qXfer``
replies) escapes ``$``, ``#``, ``}`` and ``*`` as ``}`` followed by the byte XOR 0x20.
See the GDB manual, "Remote Protocol" ("Overview", "Packet Acknowledgment", "Interrupts").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ("Ack", "Interrupt", "Packet", "PacketReader", "checksum", "escape", "frame", "unescape")

INTERRUPT = 0x03
MAX_PACKET = 1 << 20
"""The longest packet accepted; gdb sends at most the ``PacketSize`` the stub announces."""
_SPECIAL = frozenset(b"$#}*")


@dataclass(frozen=True)
class Packet:
    """A packet's data (without ``$``, ``#`` and the checksum); ``valid`` is False when
    its checksum did not match (ask for it again)."""

    data: bytes
    valid: bool = True


@dataclass(frozen=True)
class Interrupt:
    """``0x03``: stop the target."""


@dataclass(frozen=True)
class Ack:
    """``+`` (``ok``) or ``-`` (the other side asks for the last packet again)."""

    ok: bool


Event = Packet | Interrupt | Ack


def checksum(data: bytes) -> int:
    """The packet checksum: the sum of the bytes modulo 256."""
    return sum(data) & 0xFF


def frame(data: bytes) -> bytes:
    """``data`` as a packet on the wire (the caller escapes binary data)."""
    return b"$" + data + b"#%02x" % checksum(data)


def escape(data: bytes) -> bytes:
    """Binary data with ``$``, ``#``, ``}`` and ``*`` escaped."""
    if not any(b in _SPECIAL for b in data):
        return data
    out = bytearray()
    for b in data:
        if b in _SPECIAL:
            out += bytes((0x7D, b ^ 0x20))
        else:
            out.append(b)
    return bytes(out)


def unescape(data: bytes) -> bytes:
    """Binary data as sent (``X`` packets): ``}`` escapes the byte after it.

    :raises ValueError: the data ends in the middle of an escape.
    """
    if b"}" not in data:
        return data
    out = bytearray()
    it = iter(data)
    for b in it:
        if b == 0x7D:
            nxt = next(it, None)
            if nxt is None:
                raise ValueError("binary data ends with an escape character")
            out.append(nxt ^ 0x20)
        else:
            out.append(b)
    return bytes(out)


class PacketReader:
    """Splits what arrives on a connection into packets, acknowledgements and interrupts,
    whatever the chunks (a packet may come in pieces, several in one chunk)."""

    def __init__(self) -> None:
        self._packet: bytearray | None = None  # inside $...: the data so far
        self._sum: bytearray | None = None  # after #: the checksum digits so far
        self._overflow = False

    def feed(self, chunk: bytes) -> Iterator[Event]:
        """The events ``chunk`` completes, in order."""
        for b in chunk:
            if self._sum is not None:
                self._sum.append(b)
                if len(self._sum) == 2:
                    yield self._finish()
            elif self._packet is not None:
                if b == ord("#"):
                    self._sum = bytearray()
                elif b == ord("$"):  # a new packet: the one before was cut short
                    self._packet, self._overflow = bytearray(), False
                elif len(self._packet) < MAX_PACKET:
                    self._packet.append(b)
                else:
                    self._overflow = True
            elif b == ord("$"):
                self._packet, self._overflow = bytearray(), False
            elif b == INTERRUPT:
                yield Interrupt()
            elif b == ord("+"):
                yield Ack(True)
            elif b == ord("-"):
                yield Ack(False)
            # anything else between packets is noise: ignored, as gdbserver does

    def _finish(self) -> Packet:
        data, digits = bytes(self._packet or b""), bytes(self._sum or b"")
        self._packet = self._sum = None
        try:
            valid = int(digits, 16) == checksum(data) and not self._overflow
        except ValueError:
            valid = False
        return Packet(data, valid)
