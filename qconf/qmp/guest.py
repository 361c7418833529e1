"""The guest state and output of a running machine: memory and registers as a CPU sees
them (``qconf-memory-read``/``-write``, ``qconf-register-read``/``-write``, QEMU's
``memsave`` and ``pmemsave``), and the UARTs' consoles (``qconf-console-events``,
``qconf-console-write``). They act on the emulation the machine runs in
(``Control.live``), from the build on."""

from __future__ import annotations

from typing import Any

from qconf.qmp.control import Control
from qconf.qmp.protocol import QmpError

__all__ = (
    "Unmapped",
    "console_events",
    "console_write",
    "memory_read",
    "memory_write",
    "memsave",
    "pmemsave",
    "read_memory",
    "register_read",
    "register_write",
)

_CHUNK = 1 << 20  # memsave and pmemsave read and write this much at a time


class Unmapped(QmpError):
    """Guest memory that no region of the CPU's address space maps."""

    def __init__(self, what: str, cpu: Any, address: int) -> None:
        super().__init__(f"cannot {what} guest memory: {address:#x} is not mapped in "
                         f"{cpu.obj.path}'s address space")  # fmt: skip
        self.address = address


def _regions(cpu: Any, address: int, size: int) -> list[tuple[int, int]]:
    """The mapped parts of ``[address, address + size)`` as ``cpu`` sees them, in order,
    as (start, end) with ``end`` excluded."""
    end = address + size
    return [(max(first, address), min(last + 1, end))
            for first, last, _perms in sorted(cpu.uc.mem_regions())
            if last >= address and first < end]  # fmt: skip


def _first_unmapped(cpu: Any, address: int, size: int) -> int | None:
    at = address
    for start, stop in _regions(cpu, address, size):
        if start > at:
            return at
        at = stop
    return at if at < address + size else None


def _check_range(address: int, size: int, name: str = "address") -> None:
    if not 0 <= address < 1 << 64:
        raise QmpError(f"Parameter '{name}' expects a guest address (0 to 0xffffffffffffffff)")
    if size < 0 or address + size > 1 << 64:
        raise QmpError(f"Parameter 'size' expects a size from 0 to the end of the address space "
                       f"(at most {(1 << 64) - address:#x} from {address:#x})")  # fmt: skip


def read_memory(cpu: Any, address: int, size: int) -> bytes:
    """``size`` bytes at ``address`` as ``cpu`` sees them.

    :raises Unmapped: a byte of it is not mapped (the first is named).
    :raises QmpError: the range is not in the 64-bit address space.
    """
    _check_range(address, size)
    first = _first_unmapped(cpu, address, size)
    if first is not None:
        raise Unmapped("read", cpu, first)
    return bytes(cpu.uc.mem_read(address, size)) if size else b""


def _cpu(control: Control, path: str) -> Any:
    for cpu in control.live().cpus:
        if path in (cpu.obj.path, cpu.obj.key):
            return cpu
    raise QmpError(f"Device '{path}' not found (a CPU path, e.g. /machine/cpu0)",
                   "DeviceNotFound")  # fmt: skip


def memory_read(control: Control, args: dict[str, Any], who: str) -> Any:
    """``size`` bytes at ``address`` as ``cpu`` sees them, as hex."""
    cpu = _cpu(control, args["cpu"])
    size: int = args["size"]
    if not 0 < size <= 1 << 20:
        raise QmpError("Parameter 'size' must be between 1 and 1048576")
    return {"data": read_memory(cpu, args["address"], size).hex()}


def memory_write(control: Control, args: dict[str, Any], who: str) -> Any:
    """Write ``data`` (hex) at ``address`` as ``cpu`` sees it; every CPU's translated
    code is dropped, since the bytes may be code."""
    cpu = _cpu(control, args["cpu"])
    address: int = args["address"]
    try:
        data = bytes.fromhex(args["data"])
    except ValueError as exc:
        raise QmpError(f"Parameter 'data' expects hex digits, two a byte: {exc}") from None
    _check_range(address, len(data))
    first = _first_unmapped(cpu, address, len(data))
    if first is not None:
        raise Unmapped("write", cpu, first)
    cpu.uc.mem_write(address, data)
    for other in control.live().cpus:
        other.uc.ctl_flush_tb()
    return {}


def _register_id(cpu: Any, name: str) -> int:
    reg = cpu.arch.register_number(name)
    if reg is None:
        raise QmpError(f"{cpu.obj.key} has no register {name!r}")
    return int(reg)


def register_read(control: Control, args: dict[str, Any], who: str) -> Any:
    """A CPU register's value (``pc``, ``sp``, ``a0``, ``x0``, ``r0``...)."""
    cpu = _cpu(control, args["cpu"])
    return {"value": int(cpu.uc.reg_read(_register_id(cpu, args["register"])))}


def register_write(control: Control, args: dict[str, Any], who: str) -> Any:
    """Set a CPU register."""
    cpu = _cpu(control, args["cpu"])
    name: str = args["register"]
    value: int = args["value"]
    cpu.uc.reg_write(_register_id(cpu, name), value)
    if name.lower() == "pc":
        cpu.pc = value
    return {}


def console_events(control: Control, args: dict[str, Any], who: str) -> Any:
    """``enable`` true or false: send an event ``QCONF_CONSOLE`` ({device, data}) with each
    chunk of output any UART writes, to this client."""
    session = int(who.split()[2])
    if args.get("enable", True):
        control.console_clients.add(session)
    else:
        control.console_clients.discard(session)
    return {}


def console_write(control: Control, args: dict[str, Any], who: str) -> Any:
    """Type ``data`` into the UART at ``device`` (its path), as if on its console, before
    what its own backend brings; ``format`` is ``utf8`` (default) or ``base64``, as
    QEMU's ``ringbuf-write``."""
    import base64
    import binascii
    from collections import deque

    path: str = args["device"]
    text: str = args["data"]
    obj = control.machine.find(path)
    if obj is None or "chardev" not in obj.info.prop_names:
        raise QmpError(f"Device '{path}' not found (a UART's path, e.g. /machine/soc/uart0)",
                       "DeviceNotFound")  # fmt: skip
    fmt = args.get("format", "utf8")
    if fmt == "base64":
        try:
            data = base64.b64decode(text, validate=True)
        except binascii.Error:
            raise QmpError("Parameter 'data' is not valid base64") from None
    elif fmt == "utf8":
        data = text.encode()
    else:
        raise QmpError(f"Parameter 'format' does not accept value '{fmt}'")
    control.live().console_input.setdefault(obj, deque()).extend(data)
    return {}


def _save(filename: str, write: Any) -> None:
    """Open ``filename`` as QEMU does (errors in its words) and let ``write`` fill it."""
    try:
        f = open(filename, "wb")  # noqa: SIM115 - closed below, after write
    except OSError as exc:
        raise QmpError(f"Could not open '{filename}': {exc.strerror}") from None
    try:
        with f:
            write(f)
    except OSError:
        raise QmpError("An IO error has occurred") from None


def memsave(control: Control, args: dict[str, Any], who: str) -> Any:
    """Write ``size`` bytes of guest memory at ``val``, as the CPU ``cpu-index`` (default
    0) sees it, to the file ``filename``."""
    cpus = control.live().cpus
    index: int = args.get("cpu-index", 0)
    if not 0 <= index < len(cpus):
        raise QmpError("Parameter 'cpu-index' expects a CPU number")
    cpu, address, size = cpus[index], args["val"], args["size"]
    _check_range(address, size, "val")

    def write(f: Any) -> None:
        if _first_unmapped(cpu, address, size) is not None:  # QEMU leaves the file empty
            raise QmpError(f"Invalid addr 0x{address:016x}/size {size} specified")
        for at in range(address, address + size, _CHUNK):
            f.write(cpu.uc.mem_read(at, min(_CHUNK, address + size - at)))

    _save(args["filename"], write)
    return {}


def pmemsave(control: Control, args: dict[str, Any], who: str) -> Any:
    """Write ``size`` bytes of physical memory at ``val`` to the file ``filename``; as in
    QEMU, what nothing maps reads as zeros. (qconf's CPUs see physical addresses: the first
    CPU's view.)"""
    cpu, address, size = control.live().cpus[0], args["val"], args["size"]
    _check_range(address, size, "val")

    def write(f: Any) -> None:
        for at in range(address, address + size, _CHUNK):
            chunk = bytearray(min(_CHUNK, address + size - at))
            for start, stop in _regions(cpu, at, len(chunk)):
                chunk[start - at : stop - at] = cpu.uc.mem_read(start, stop - start)
            f.write(chunk)

    _save(args["filename"], write)
    return {}
