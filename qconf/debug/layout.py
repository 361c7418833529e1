"""Where gdb stubs listen and which CPUs each serves.

A stub serves the CPUs of one architecture, as threads (gdb debugs one architecture per
session). ``ADDRESS`` (``-s`` is ``tcp:127.0.0.1:1234``) serves the machine's first
architecture there and each further one on the next port (or ``PATH.2``, ``PATH.3`` for a
unix socket); ``CPU=ADDRESS`` serves that CPU's architecture on ``ADDRESS``. TCP
addresses are loopback unless the user allows others (``--gdb-allow-remote``): a stub
reads and writes the guest.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qconf.errors import QconfError

if TYPE_CHECKING:
    from qconf.debug.stub import Stub
    from qconf.debug.target import CpuTarget

__all__ = ("DEFAULT", "GdbAddressError", "Slot", "layout", "parse_address")

DEFAULT = "tcp:127.0.0.1:1234"
"""Where ``-s`` listens (QEMU's ``-s``: port 1234; here on loopback)."""
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class GdbAddressError(QconfError):
    """A ``--gdb`` address or CPU that cannot be served."""

    code = "E951"


def parse_address(text: str, allow_remote: bool = False) -> tuple[str, Any]:
    """``tcp:HOST:PORT`` (``tcp::PORT``: loopback; another host needs ``allow_remote``) or
    ``unix:PATH``, as ``("tcp", (host, port))`` or ``("unix", path)``.

    :raises GdbAddressError: it is neither, or not loopback without ``allow_remote``.
    """
    if text.startswith("unix:") and len(text) > 5:
        return "unix", text[5:]
    if text.startswith("tcp:"):
        host, _, port = text[4:].rpartition(":")
        if not port.isdigit() or int(port) > 65535:
            raise GdbAddressError(f"bad gdb address {text!r}: the port must be a number",
                                  hint="write tcp:127.0.0.1:1234 (or -s for that)")  # fmt: skip
        host = (host or "127.0.0.1").strip("[]")
        if host not in LOOPBACK and not allow_remote:
            raise GdbAddressError(
                f"a gdb stub on {host} would be reachable from other machines (and let them "
                "read and write the guest)",
                hint="listen on 127.0.0.1, or pass --gdb-allow-remote if that is what you want",
            )
        return "tcp", (host, int(port))
    raise GdbAddressError(f"bad gdb address {text!r}",
                          hint="write tcp:127.0.0.1:PORT, tcp::PORT or unix:PATH, optionally "
                          "after CPU= (mcu.cpu0=tcp::1235)")  # fmt: skip


def _next_address(text: str, n: int) -> str:
    """The ``n``-th address after ``text``: the next ports, or ``PATH.2``..."""
    if text.startswith("tcp:"):
        host, _, port = text.rpartition(":")
        return f"{host}:{int(port) + n}"
    return f"{text}.{n + 1}"


@dataclass
class Slot:
    """One stub: where it listens and the CPUs (paths) it serves, then its socket, its
    client and its protocol state once the run is on."""

    address: str
    arch: str
    cpus: list[str]
    listener: socket.socket | None = None
    path: str | None = None  # a unix socket's, removed at the end
    client: socket.socket | None = None
    outbox: bytearray = field(default_factory=bytearray)
    stub: Stub | None = None
    target: CpuTarget | None = None
    stopped: bool = False  # its gdb sees the machine stopped: no CPU runs
    waiting: bool = False  # -S: no CPU runs until its debugger continues


def layout(specs: Sequence[str], cpus: Sequence[Any], allow_remote: bool = False) -> list[Slot]:
    """Which stub serves which CPUs. ``specs`` are ``ADDRESS`` or ``CPU=ADDRESS`` (CPU by
    its dotted key or path); ``cpus`` are the machine's CPU objects (``path``, ``key``,
    ``info.arch_info``). A CPU no spec names joins a stub of its architecture, else the
    plain addresses (and those after them) serve the architectures left, in the machine's
    order; CPUs with no gdb description are not served.

    :raises GdbAddressError: a bad address, a CPU that is not one, or one address for
        two architectures.
    """
    slots: dict[str, Slot] = {}
    plain: list[str] = []
    used = 0  # plain addresses (and those after the last) given to architectures so far
    placed: set[str] = set()
    debuggable = [c for c in cpus if c.info.arch_info is not None and c.info.arch_info.gdb]
    for spec in specs:
        name, sep, address = spec.rpartition("=")
        parse_address(address, allow_remote)
        if not sep:
            plain.append(address)
            continue
        cpu = next((c for c in debuggable if name in (c.key, c.path)), None)
        if cpu is None:
            known = ", ".join(c.key for c in debuggable) or "none"
            raise GdbAddressError(f"--gdb {spec}: {name!r} is not a CPU gdb can debug",
                                  hint=f"the machine's CPUs: {known}")  # fmt: skip
        arch = cpu.info.arch_info.name
        named = slots.setdefault(address, Slot(address, arch, []))
        if named.arch != arch:
            raise GdbAddressError(f"--gdb {spec}: {address} already serves {named.arch} CPUs, "
                                  f"and gdb debugs one architecture at a time",
                                  hint="give each architecture its own address")  # fmt: skip
        named.cpus.append(cpu.path)
        placed.add(cpu.path)
    for cpu in debuggable:
        if cpu.path in placed:
            continue
        arch = cpu.info.arch_info.name
        slot = next((s for s in slots.values() if s.arch == arch), None)
        if slot is None:
            if not plain:
                continue  # no address for this architecture: not served
            address = (
                plain[used]
                if used < len(plain)
                else _next_address(plain[-1], used - len(plain) + 1)
            )
            used += 1
            if address in slots:
                raise GdbAddressError(f"--gdb {address} would serve both {slots[address].arch} "
                                      f"and {arch} CPUs", hint="name each architecture's "
                                      "address with CPU=ADDRESS")  # fmt: skip
            parse_address(address, allow_remote)
            slot = slots[address] = Slot(address, arch, [])
        slot.cpus.append(cpu.path)
    order = {c.path: i for i, c in enumerate(cpus)}
    for slot in slots.values():
        slot.cpus.sort(key=order.__getitem__)
    return sorted(slots.values(), key=lambda s: order[s.cpus[0]] if s.cpus else len(order))
