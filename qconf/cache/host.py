"""What a machine from the cache may reach on the host: only what its configuration says.

Entries are authenticated (:mod:`qconf.cache.folder`), and what a run opens outside the
guest is checked once more against the text it came from, so that no entry, however it got
there, widens what the configuration allows. The values that reach the host are each
console backend's ``path`` (a file it writes, a socket it makes) and ``host`` (an address
it listens on or connects to), and each image's ``file``. Before a restored machine is
used, and before a built one is stored:

* a path must be written where its origin says: on that line of a configuration file
  whose bytes were just verified, or in that ``--set`` argument of the command line (a
  relative path as written, before validation made it absolute from its file's directory
  or the working directory);
* an address other than loopback only from a ``--set`` argument of the command line: one
  written in a file is read from the file on every run.

A machine that fails is resolved and built from its configuration instead (a miss).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Iterator, Sequence

from qconf.assembly.machine import Machine
from qconf.config.origin import LayerKind, Origin
from qconf.model.objects import Object

__all__ = ("reaching_host", "unconfigured")

Texts = Callable[[str], bytes | None]
"""The verified bytes of a configuration file, by real path (None: not an input)."""


def reaching_host(machine: Machine) -> Iterator[tuple[Object, str]]:
    """The (object, property) pairs of ``machine`` that name something on the host: the
    backends its consoles open (``path`` for files and unix sockets, ``host`` for TCP),
    and its images' ``file``."""
    seen = set()
    for (_, kind), backend in machine.backends.items():
        if kind != "chardev" or backend in seen:
            continue
        seen.add(backend)
        how = backend.get("backend")
        if how in ("file", "unix"):
            yield backend, "path"
        elif how == "tcp":
            yield backend, "host"
    for obj in machine.objects():
        if obj.info.category == "image":
            yield obj, "file"


def unconfigured(machine: Machine, texts: Texts, sets: Sequence[str]) -> str | None:
    """Why ``machine`` may not come from (or go to) the cache: the first value that
    reaches the host and that its configuration does not say where the value's origin
    points (``texts``: the files' bytes; ``sets``: the command line's ``--set``
    arguments). None when every such value is so written."""
    for obj, prop in reaching_host(machine):
        value = obj.get(prop)
        if value is None:
            continue
        text, origin = str(value), obj.origins.get(prop)
        if prop == "host":
            if _loopback(text):
                continue
            if origin is None or origin.source.kind is not LayerKind.SET:
                return (f"{obj.key}.host is {text}, which other machines reach: taken "
                        "from the configuration on every run unless a --set argument gives "
                        "it")  # fmt: skip
        if origin is None or not _written(text, origin, texts, sets):
            where = origin.where() if origin is not None else "no known place"
            return f"{obj.key}.{prop} ({text}) is not what {where} says"
    return None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name: it may resolve to anything
        return False


def _written(text: str, origin: Origin, texts: Texts, sets: Sequence[str]) -> bool:
    """Whether ``text`` is written where ``origin`` points."""
    source = origin.source
    if source.kind is LayerKind.SET:
        index = source.layer.removeprefix("--set #")
        if not index.isdigit() or not 0 < int(index) <= len(sets):
            return False
        written = sets[int(index) - 1]
        return text in written or _relative(text, os.getcwd()) in written
    if source.path is None or origin.line <= 0:
        return False
    data = texts(str(source.path))
    if data is None:
        return False
    lines = data.decode("utf-8-sig", errors="replace").splitlines()
    if origin.line > len(lines):
        return False
    line = lines[origin.line - 1][max(origin.col - 1, 0) :]
    beside = str(source.path.parent) + os.sep  # a relative path, joined to its file's
    return (
        text in line
        or (text.startswith(beside) and text[len(beside) :] in line)
        or _relative(text, str(source.path.parent)) in line
    )


def _relative(path: str, start: str) -> str:
    """``path`` as a relative path from ``start`` (``../guests/a.elf``), or the path when
    it has none."""
    if not os.path.isabs(path):
        return path
    try:
        return os.path.relpath(path, start)
    except ValueError:
        return path
