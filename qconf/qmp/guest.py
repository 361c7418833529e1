"""The guest state and output of a running machine: memory and registers as a CPU sees
them (``qconf-memory-read``/``-write``, ``qconf-register-read``/``-write``), and the
UARTs' consoles (``qconf-console-events``, ``qconf-console-write``). They act on the
emulation the machine runs in (``Control.live``), from the build on."""

from __future__ import annotations

from typing import Any

from qconf.qmp.control import Control
from qconf.qmp.protocol import QmpError

__all__ = (
    "console_events",
    "console_write",
    "memory_read",
    "memory_save",
    "memory_write",
    "register_read",
    "register_write",
)


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
    address = _address(args)
    try:
        return {"data": bytes(cpu.uc.mem_read(address, size)).hex()}
    except Exception as exc:
        raise _memory_error("read", cpu, address, size, exc) from None


def memory_save(control: Control, args: dict[str, Any], who: str) -> Any:
    """``memsave``/``pmemsave``: ``size`` bytes at ``val`` as CPU ``cpu-index`` (default
    the first) sees them, into the host file ``filename`` (relative to qconf's working
    directory), as QEMU's. qconf's CPUs see physical addresses, so both are the same."""
    cpus = control.live().cpus
    index: int = args.get("cpu-index", 0)
    if not 0 <= index < len(cpus):
        raise QmpError(f"Parameter 'cpu-index' must be between 0 and {len(cpus) - 1}")
    cpu = cpus[index]
    size: int = args["size"]
    if not 0 < size <= 1 << 30:
        raise QmpError("Parameter 'size' must be between 1 and 1073741824")
    address = _address({"address": args["val"]})
    try:
        data = bytes(cpu.uc.mem_read(address, size))
    except Exception as exc:
        raise _memory_error("read", cpu, address, size, exc) from None
    try:
        with open(args["filename"], "wb") as f:
            f.write(data)
    except OSError as exc:
        raise QmpError(f"Could not open '{args['filename']}': {exc.strerror or exc}") from None
    return {}


def memory_write(control: Control, args: dict[str, Any], who: str) -> Any:
    """Write ``data`` (hex) at ``address`` as ``cpu`` sees it; every CPU's translated
    code is dropped, since the bytes may be code."""
    cpu = _cpu(control, args["cpu"])
    address = _address(args)
    try:
        data = bytes.fromhex(args["data"])
    except ValueError:
        raise QmpError("Parameter 'data' is not hex digits (two per byte)") from None
    try:
        cpu.uc.mem_write(address, data)
    except Exception as exc:
        raise _memory_error("write", cpu, address, len(data), exc) from None
    for other in control.live().cpus:
        other.uc.ctl_flush_tb()
    return {}


def _address(args: dict[str, Any]) -> int:
    address: int = args["address"]
    if not 0 <= address < 1 << 64:
        raise QmpError("Parameter 'address' must be between 0 and 0xffffffffffffffff")
    return address


def _memory_error(verb: str, cpu: Any, address: int, size: int, exc: Exception) -> QmpError:
    """Unicorn's refusal of a memory access, in qconf's words."""
    import unicorn

    where = f"0x{address:x}..0x{address + size - 1:x}" if size > 1 else f"0x{address:x}"
    errno = getattr(exc, "errno", None)
    if errno in (unicorn.UC_ERR_READ_UNMAPPED, unicorn.UC_ERR_WRITE_UNMAPPED):
        why = f"nothing is mapped at {where} in {cpu.obj.key}'s address space"
    elif errno in (unicorn.UC_ERR_READ_PROT, unicorn.UC_ERR_WRITE_PROT):
        why = f"{where} cannot be {'read' if verb == 'read' else 'written'} by {cpu.obj.key}"
    else:
        why = f"{where}: {exc}"
    return QmpError(f"cannot {verb} guest memory: {why} (qom-list /machine and "
                    "human-monitor-command 'info mtree' show what is mapped)")  # fmt: skip


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
