"""Pre-flight: everything a run checks before the first instruction, without an engine.

``qconf run`` (through :meth:`~qconf.emu.platform.Platform.prepare`) and ``qconf
validate`` both call :func:`check`, so a machine that validates is one a run accepts up
to its first instruction. It never imports Unicorn and never starts an engine; it reads
the images (a run loads the bytes it read) and looks at the host the way the run will:

====  ===================================================================================
E905  a CPU type with no core
E911  a device or CPU type whose model cannot be imported
E906  a machine with no CPU
E901  memory each CPU maps that is not on 4 KiB pages (Unicorn maps pages)
E902  memory and device registers in one 4 KiB page
E903  an image file that cannot be read, or is not a regular file
E904  a raw image without an address, a broken ELF file, ``format: elf`` on another file
E907  an image (or an ELF segment) that does not fit in the RAM and ROM of its space
E905  a CPU booting a kernel directly whose architecture has no boot protocol for it
E903  a CPU's ``kernel`` or ``initrd`` that cannot be read (read and placed as its
      architecture's boot protocol says: :mod:`qconf.emu.kernel`)
E908  ``device_tree: auto`` without a RAM
E910  a console backend that cannot be opened (a missing directory, a path that is not a
      socket, a port in use), probed without creating anything
E909  host memory for every RAM and ROM, mapped and given back (:func:`host_memory`;
      ``validate`` asks for it, a run makes the buffers it keeps)
====  ===================================================================================

Every problem is reported, in file order (:class:`~qconf.errors.Problems`).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from qconf.assembly.machine import AddressSpace, Machine
from qconf.emu.kernel import BootGroup, BootPlan, boot_groups, read_kernel
from qconf.emu.loader import Chunk, read_image
from qconf.emu.memory import HostBuffer, MmioPages, RunError, Segment, flatten, mmio_windows
from qconf.errors import Problems, QconfError
from qconf.model.facets import load
from qconf.model.objects import Object

__all__ = ("Image", "Kernel", "Plan", "check", "host_memory", "model_of")

UNIX_PATH_MAX = 107
"""The longest unix socket path the system binds (``sun_path`` holds 108 bytes)."""


@dataclass(frozen=True)
class Image:
    """An image read and checked: what goes where, and the CPU it is the program of."""

    obj: Object
    cpu: Object | None
    space: AddressSpace
    chunks: list[Chunk]
    entry: int | None


@dataclass(frozen=True)
class Kernel:
    """A direct kernel boot read and placed: its CPUs and files, where its architecture's
    boot protocol puts it, and the initrd's bytes."""

    group: BootGroup
    boot: BootPlan
    initrd: bytes | None


@dataclass
class Plan:
    """What :func:`check` found: each CPU's memory and device windows, the images read,
    the kernels placed, and the models' classes."""

    layouts: dict[Object, tuple[list[Segment], list[MmioPages]]] = field(default_factory=dict)
    images: list[Image] = field(default_factory=list)
    kernels: list[Kernel] = field(default_factory=list)
    models: dict[Object, Any] = field(default_factory=dict)


def check(machine: Machine, *, given: Collection[Object] = (), memory: bool = False) -> Plan:
    """Check ``machine`` as a run does before its first instruction.

    :param given: devices and backend objects whose consoles are given in place (tests,
        the Python API): their backends are not probed.
    :param memory: also map (and give back) the host memory of every RAM and ROM (E909);
        a run makes the buffers it keeps instead.
    :raises RunError: one problem.
    :raises Problems: several.
    """
    plan = Plan()
    errors: list[QconfError] = []
    _models(machine, plan, errors)
    if not machine.cpus():
        errors.append(RunError("the machine has no CPU to run", code="E906",
                               origin=machine.root.origin))  # fmt: skip
    seen: set[tuple[str, str | None, str]] = set()
    for cpu in machine.cpus():
        try:
            plan.layouts[cpu] = mmio_windows(flatten(machine.space_of(cpu)))
        except RunError as exc:  # CPUs that share a space share its problem: once
            if (exc.code, exc.path, exc.message) not in seen:
                seen.add((exc.code, exc.path, exc.message))
                errors.append(exc)
    _images(machine, plan, errors)
    _kernels(machine, plan, errors)
    if machine.root.get("device_tree") == "auto" and not machine.rams():
        errors.append(RunError("device_tree: auto needs a RAM to hold the tree", code="E908",
                               origin=machine.root.origins.get("device_tree")))  # fmt: skip
    _backends(machine, given, errors)
    if memory and not errors:
        try:
            for buf in host_memory(machine).values():
                buf.close()
        except RunError as exc:
            errors.append(exc)
    if errors:
        raise errors[0] if len(errors) == 1 else Problems(errors)
    return plan


def host_memory(machine: Machine) -> dict[Object, HostBuffer]:
    """A host buffer for every memory backend (RAM and ROM), by backend object.

    :raises RunError: the host cannot give one (E909, at the ``size`` that set it); the
        buffers made so far are given back.
    """
    buffers: dict[Object, HostBuffer] = {}
    try:
        for (user, kind), backend in machine.backends.items():
            if kind == "memory" and backend not in buffers:
                buffers[backend] = HostBuffer(backend.get("size"), user)
    except BaseException:
        for buf in buffers.values():
            buf.close()
        raise
    return buffers


def model_of(obj: Object) -> Any:
    """The class that runs ``obj`` (its type's behaviour), imported now.

    :raises RunError: the type's behaviour names nothing (a broken installation).
    """
    ref = obj.info.behaviour
    assert ref is not None
    try:
        return load(ref)
    except Exception as exc:  # an import may fail in any way: say which and why
        raise RunError(
            f"the model of {obj.info.name} ({ref!r}) cannot be loaded: "
            f"{type(exc).__name__}: {exc}", code="E911", path=obj.key,
            hint=f"reinstall the module that declares {obj.info.name} ({obj.info.module})",
        ) from None  # fmt: skip


def _models(machine: Machine, plan: Plan, errors: list[QconfError]) -> None:
    """Each CPU's core and each mapped device's model (E905, E911)."""
    mmio = {mp.obj for sp in machine.spaces.values() for mp in sp.mappings
            if mp.region.kind == "mmio"}  # fmt: skip
    for obj in machine.objects():
        if obj.info.arch is None and (obj not in mmio or obj.info.behaviour is None):
            continue
        if obj.info.behaviour is None:
            errors.append(RunError(
                f"{obj.info.name} CPUs cannot run yet", code="E905", path=obj.key,
                origin=obj.origin, hint="every built-in CPU type runs; this one has no core",
            ))  # fmt: skip
            continue
        try:
            plan.models[obj] = model_of(obj)
        except RunError as exc:
            exc.origin = exc.origin or obj.origin
            errors.append(exc)


def _images(machine: Machine, plan: Plan, errors: list[QconfError]) -> None:
    """Read every image and check that its bytes fit in the memory of its space."""
    for image in machine.objects():
        if image.info.category != "image":
            continue
        target = machine.find(image.get("target") or "")
        cpu = target if target is not None and target.info.arch is not None else None
        space = machine.space_of(target or machine.root)
        try:
            chunks, entry = read_image(image.get("file"), image.get("address"),
                                       image.origins.get("file"), image.get("format"),
                                       space)  # fmt: skip
        except RunError as exc:
            errors.append(exc)
            continue
        memory = [(s.start, s.end) for s in flatten(space) if s.mapping.region.kind != "mmio"]
        for address, data in chunks:
            if not any(a <= address and address + len(data) <= b for a, b in memory):
                errors.append(RunError(
                    f"{image.get('file')}: {len(data)} bytes at {address:#x} do not fit in "
                    "any RAM or ROM", code="E907",
                    origin=image.origins.get("file") or image.origin, path=image.key,
                    hint="link the program for this machine's memory map (qconf mtree shows "
                    "it)",
                ))  # fmt: skip
                break
        else:
            plan.images.append(Image(image, cpu, space, chunks, entry))


def _kernels(machine: Machine, plan: Plan, errors: list[QconfError]) -> None:
    """Read every CPU's kernel and initrd and place them as its architecture says."""
    for group in boot_groups(machine):
        first = group.cpus[0]
        arch = first.info.arch_info
        if arch is None or arch.boot is None:
            errors.append(RunError(f"{first.info.name} CPUs cannot boot a kernel directly",
                                   code="E905", path=first.key,
                                   origin=first.origins.get("kernel"),
                                   hint="give it the kernel as its firmware instead"))  # fmt: skip
            continue
        # where the boot CPU's own program ends: a kernel that is its payload goes after
        ends = [address + len(data) for image in plan.images if image.cpu is first
                for address, data in image.chunks]  # fmt: skip
        try:
            tree_size = 0
            if arch.device_tree is not None:  # the initrd's addresses do not change its size
                from qconf.dtb import Chosen, device_tree_blob

                chosen = Chosen(group.append, (0, 0) if group.initrd else None)
                tree_size = len(device_tree_blob(machine, chosen))
            request, initrd = read_kernel(group, machine, max(ends) if ends else None,
                                          tree_size)  # fmt: skip
            boot: BootPlan = load(arch.boot)(request)
        except RunError as exc:
            errors.append(exc)
            continue
        plan.kernels.append(Kernel(group, boot, initrd))


def _backends(machine: Machine, given: Collection[Object], errors: list[QconfError]) -> None:
    """Each console's backend, probed as it will be opened (nothing is created)."""
    from qconf.emu.chardev import open_hint

    for (device, kind), backend in machine.backends.items():
        if kind != "chardev" or device in given or backend in given:
            continue
        what, path, port = backend.get("backend"), backend.get("path"), backend.get("port")
        exc = probe_backend(what, path, backend.get("host"), port)
        if exc is None:
            continue
        where = f"{backend.get('host')}:{port}" if what == "tcp" else path
        errors.append(RunError(
            f"cannot open its {what} backend {where}: {exc.strerror or exc}", code="E910",
            origin=device.origins.get("chardev") or backend.origin,
            path=f"{device.key}.chardev", hint=open_hint(what, path, port, exc),
        ))  # fmt: skip


def probe_backend(kind: str, path: str | None, host: str, port: int | None) -> OSError | None:
    """Why a ``kind`` backend at ``path`` (or ``host:port``) would not open, without
    opening it: None if it would."""
    if kind in ("file", "unix") and path:
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            return FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
        if kind == "unix" and len(os.fsencode(path)) > UNIX_PATH_MAX:
            return OSError(errno.ENAMETOOLONG, os.strerror(errno.ENAMETOOLONG), path)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            st = None
        except OSError as exc:
            return exc
        if kind == "unix" and st is not None and not stat.S_ISSOCK(st.st_mode):
            return FileExistsError(errno.EEXIST, "it exists and is not a socket", path)
        if kind == "file" and st is not None and stat.S_ISDIR(st.st_mode):
            return IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        writable = os.access(path, os.W_OK) if kind == "file" and st is not None else True
        if not writable or (not os.access(directory, os.W_OK | os.X_OK) and st is None):
            return PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
        return None
    if kind == "tcp" and port:
        import socket

        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as exc:
                return exc
    return None
