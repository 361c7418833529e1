"""Machine snapshots: a built machine as plain data, and the cache that lets ``qconf run``
start from one instead of resolving and building again.

Resolving needs the YAML reader and pydantic, whose imports alone take longer than many
guests run; running a built machine needs neither. So after ``qconf run`` builds a machine
it writes a snapshot (:func:`dump`): every object with its type's name, category and
property names, its validated property values and their origins, and the address
spaces, IRQ wires, clock and reset links and backends, by object path. The next run of
the same command line whose recorded inputs are all unchanged restores the machine
(:func:`restore`) through the same life cycle (create, configure, realize) without
resolving, validating or importing a property model.

A snapshot is kept for a command line (:meth:`MachineCache.command_line`): the files,
``--set`` and ``-I`` arguments, the working directory (messages show paths relative to
it), ``$QCONF_PATH`` and ``$QCONF_MAX_FILE_BYTES``, and qconf's own code (each module's
size and modification time). Its inputs are every configuration file the resolve read
(size, modification time and checksum) and every directory it searched (modification time: a file
added where a profile or component is looked up changes it). Machines with types from
plugins are not snapshotted: their code is not qconf's to fingerprint.

Snapshots are JSON (nothing in one is executed), written atomically to
``$QCONF_CACHE_DIR`` (default ``$XDG_CACHE_HOME/qconf``, else ``~/.cache/qconf``), the
newest :data:`MAX_ENTRIES` kept. An entry that cannot be read or restored is a miss.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from qconf.assembly.machine import AddressSpace, Machine, Mapping, Wire
from qconf.config.origin import LayerKind, Origin, Source
from qconf.model.annotations import UNITS, Wiring
from qconf.model.facets import ArchInfo, ref_text
from qconf.model.objects import Object
from qconf.model.registry import PropFacts, Region, TypeInfo, no_regions

__all__ = (
    "FORMAT",
    "MAX_ENTRIES",
    "CacheFolder",
    "Inputs",
    "MachineCache",
    "NotSnapshottable",
    "cache_dir",
    "cached_machine",
    "code_fingerprint",
    "describe_entry",
    "dump",
    "restore",
    "searched",
)

FORMAT = 3
"""The snapshot layout's version: part of every key."""

MAX_ENTRIES = 32
"""Snapshots kept in the cache; older ones are removed when a new one is written."""

ENVIRONMENT = ("QCONF_PATH", "QCONF_MAX_FILE_BYTES")
"""Environment variables that change what a configuration resolves to."""

_PLAIN = (str, int, float, bool, type(None))


class NotSnapshottable(Exception):
    """A machine that cannot be saved as plain data (the reason is the message)."""


# --- machine -> data --------------------------------------------------------------------


def dump(machine: Machine) -> dict[str, Any]:
    """``machine`` as JSON-ready data.

    :raises NotSnapshottable: a type comes from a plugin or has code that is not a
        reference, or a value is not plain data.
    """
    sources: dict[Source, int] = {}

    def at(origin: Origin | None) -> list[int] | None:
        if origin is None:
            return None
        index = sources.setdefault(origin.source, len(sources))
        return [index, origin.line, origin.col]

    types: dict[str, Any] = {}
    objects = []
    for obj in machine.objects():
        info = obj.info
        if info.name not in types:
            types[info.name] = _dump_type(info)
        values = {name: _plain(obj.values.get(name), obj, name)
                  for name in sorted(info.prop_names)}  # fmt: skip
        origins = {name: at(origin) for name, origin in obj.origins.items()}
        objects.append([obj.path, info.name, at(obj.origin), values, origins])
    spaces = []
    for space in machine.spaces.values():
        mappings = [[m.obj.path, [m.region.name, m.region.base, m.region.size, m.region.kind,
                                  m.region.priority],
                     at(m.origin), m.target.path if m.target else None, m.offset]
                    for m in space.mappings]  # fmt: skip
        spaces.append([space.name, space.owner.path,
                       space.parent.owner.path if space.parent else None,
                       mappings, [cpu.path for cpu in space.cpus]])  # fmt: skip
    return {
        "types": types,
        "objects": objects,
        "spaces": spaces,
        "wires": [
            [w.source.path, w.output, w.sink.path, w.line, w.index, at(w.origin)]
            for w in machine.wires
        ],
        "clock_links": [[o.path, prop, c.path] for (o, prop), c in machine.clock_links.items()],
        "reset_parent": [[o.path, p.path] for o, p in machine.reset_parent.items()],
        "backends": [[o.path, kind, b.path] for (o, kind), b in machine.backends.items()],
        "order": [o.path for o in machine.order],
        "sources": [
            [s.name, s.layer, s.kind.value, str(s.path) if s.path else None] for s in sources
        ],
    }


def _dump_type(info: TypeInfo) -> dict[str, Any]:
    if not (info.module == "builtin" or info.module.startswith(("qconf.", "component "))):
        raise NotSnapshottable(f"type {info.name!r} comes from plugin {info.module!r}")
    props = []
    for name in sorted(info.prop_names):
        unit, wiring = info.units.get(name), info.wires.get(name)
        props.append([name, unit.name if unit else None,
                      [wiring.kind, wiring.target] if wiring else None])  # fmt: skip
    try:
        refs = [ref_text(info.behaviour), ref_text(info.fdt),
                ref_text(info.arch if not isinstance(info.arch, ArchInfo) else None)]  # fmt: skip
    except TypeError as exc:
        raise NotSnapshottable(f"type {info.name!r}: {exc}") from None
    if info.hooks is not None or isinstance(info.arch, ArchInfo):
        raise NotSnapshottable(f"type {info.name!r} has code of its own")
    return {"category": info.category, "module": info.module, "description": info.description,
            "props": props, "runtime": sorted(info.runtime), "hotpluggable": info.hotpluggable,
            "backends": list(info.backends), "refs": refs}  # fmt: skip


def _plain(value: Any, obj: Object, name: str) -> Any:
    if isinstance(value, _PLAIN):
        return value
    if type(value) is list:
        return [_plain(v, obj, name) for v in value]
    if type(value) is dict and all(isinstance(k, str) for k in value):
        return {k: _plain(v, obj, name) for k, v in value.items()}
    raise NotSnapshottable(f"{obj.key}.{name} is a {type(value).__name__}, not plain data")


# --- data -> machine --------------------------------------------------------------------


def restore(data: dict[str, Any]) -> Machine:
    """The realized machine a :func:`dump` describes.

    :raises KeyError, TypeError, ValueError, IndexError: ``data`` is not such a dump.
    """
    sources = [Source(name, layer, LayerKind(kind), Path(path) if path else None)
               for name, layer, kind, path in data["sources"]]  # fmt: skip

    def at(ref: list[int] | None) -> Origin | None:
        return None if ref is None else Origin(sources[ref[0]], ref[1], ref[2])

    types = {name: _restore_type(name, spec) for name, spec in data["types"].items()}
    by_path: dict[str, Object] = {}
    machine: Machine | None = None
    configured = []
    for path, type_name, origin, values, origins in data["objects"]:
        info = types[type_name]
        here = at(origin)
        assert here is not None
        if machine is None:
            obj = Object._root(info, here)
            machine = Machine(root=obj)
        else:
            parent, _, name = path.rpartition("/")
            obj = by_path[parent].add_child(name, info, here)
        by_path[path] = obj
        configured.append((obj, values, {k: o for k, v in origins.items() if (o := at(v))}))
    if machine is None:
        raise ValueError("a snapshot without objects")
    for obj, values, origins in configured:
        obj.configure(values, origins)
    spaces: dict[str, AddressSpace] = {}
    for name, owner, parent, mappings, cpus in data["spaces"]:
        space = AddressSpace(name, by_path[owner], spaces[parent] if parent else None)
        for obj, region, origin, target, offset in mappings:
            space.mappings.append(Mapping(by_path[obj], Region(*region), at(origin),
                                          by_path[target] if target else None, offset))  # fmt: skip
        space.cpus.extend(by_path[cpu] for cpu in cpus)
        spaces[owner] = machine.spaces[owner] = space
    machine.wires.extend(Wire(by_path[src], out, by_path[sink], line, index, at(origin))
                         for src, out, sink, line, index, origin in data["wires"])  # fmt: skip
    for obj, prop, clock in data["clock_links"]:
        machine.clock_links[(by_path[obj], prop)] = by_path[clock]
    for obj, parent in data["reset_parent"]:
        machine.reset_parent[by_path[obj]] = by_path[parent]
    for obj, kind, backend in data["backends"]:
        machine.backends[(by_path[obj], kind)] = by_path[backend]
    for path in data["order"]:
        machine.realize(by_path[path])
    return machine


def _restore_type(name: str, spec: dict[str, Any]) -> TypeInfo:
    units, wires = {}, {}
    for prop, unit, wiring in spec["props"]:
        if unit:
            units[prop] = UNITS[unit]
        if wiring:
            wires[prop] = Wiring(*wiring)
    facts = PropFacts(frozenset(p[0] for p in spec["props"]), units, wires)
    behaviour, fdt, arch = spec["refs"]
    # no property model: the values were validated when the snapshot was made, and a
    # change to one finds the model in the built-in registry (TypeInfo.model)
    return TypeInfo(name, None, spec["description"], spec["category"], spec["module"],
                    regions=no_regions, runtime=frozenset(spec["runtime"]),
                    hotpluggable=spec["hotpluggable"], behaviour=behaviour, fdt=fdt,
                    backends=tuple(spec["backends"]), arch=arch, facts=facts)  # fmt: skip


# --- the cache --------------------------------------------------------------------------


def cache_dir() -> Path:
    """``$QCONF_CACHE_DIR``, else ``$XDG_CACHE_HOME/qconf``, else ``~/.cache/qconf``."""
    env = os.environ.get("QCONF_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "qconf"


@cache
def code_fingerprint() -> list[Any]:
    """qconf's own code, as each module's path, size and modification time."""
    package = Path(__file__).resolve().parent.parent
    out: list[Any] = []
    stack = [package]
    while stack:
        folder = stack.pop()
        with os.scandir(folder) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.is_dir() and entry.name != "__pycache__":
                    stack.append(Path(entry.path))
                elif entry.name.endswith(".py"):
                    st = entry.stat()
                    out.append([entry.path, st.st_size, st.st_mtime_ns])
    return out


class CacheFolder:
    """One folder of the cache: JSON entries named by a checksum of their key, written
    atomically, the newest :data:`MAX_ENTRIES` kept."""

    def __init__(self, name: str, directory: Path | None = None) -> None:
        self.path = (directory or cache_dir()) / name

    def entry(self, key: Any) -> Path:
        """Where the entry for ``key`` (JSON-ready) is. An entry holds its whole key, so a
        checksum is enough to name it: a collision is only a miss."""
        text = json.dumps(key).encode()
        return self.path / f"{zlib.crc32(text):08x}{zlib.adler32(text):08x}.json"

    def write(self, key: Any, data: Any) -> None:
        """Save ``data`` (JSON-ready) as the entry for ``key``.

        :raises OSError: the folder cannot be made or written.
        """
        import tempfile

        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=self.path, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, separators=(",", ":"))
        os.replace(tmp, self.entry(key))
        for old in self.entries()[:-MAX_ENTRIES]:
            old.unlink(missing_ok=True)

    def entries(self) -> list[Path]:
        """The entries, oldest first."""
        if not self.path.is_dir():
            return []
        return sorted(self.path.glob("*.json"), key=lambda p: p.stat().st_mtime_ns)

    def clear(self) -> int:
        """Remove every entry; returns how many there were."""
        entries = self.entries()
        for entry in entries:
            entry.unlink(missing_ok=True)
        return len(entries)


class MachineCache:
    """Snapshots of built machines in a directory, by command line (see the module's
    notes)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.folder = CacheFolder("machines", directory)
        self.directory = self.folder.path

    @staticmethod
    def command_line(
        files: Sequence[str], sets: Sequence[str], include_dirs: Sequence[str]
    ) -> dict[str, Any]:
        """What a snapshot is kept for: a ``qconf run`` command line in the present
        environment, with qconf's code."""
        return {
            "format": FORMAT,
            "python": list(sys.version_info[:2]),
            "code": code_fingerprint(),
            "cwd": os.getcwd(),
            "files": list(files),
            "sets": list(sets),
            "include": list(include_dirs),
            "env": {name: os.environ.get(name) for name in ENVIRONMENT},
        }

    def load(self, line: dict[str, Any]) -> Machine | None:
        """The machine saved for ``line``, if its inputs are unchanged (else None)."""
        entry = self.folder.entry(line)
        try:
            with open(entry, "rb") as f:
                data = json.load(f)
            if data.get("line") != line or not Inputs.from_json(data["inputs"]).unchanged():
                return None
            return restore(data["machine"])
        except OSError:  # none yet, or no cache to read
            return None
        except Exception:  # a damaged entry is a miss; the next run rewrites it
            with contextlib.suppress(OSError):
                entry.unlink()
            return None

    def store(self, line: dict[str, Any], machine: Machine, inputs: Inputs) -> str:
        """Save ``machine`` for ``line`` with the inputs it was resolved from. Returns what
        happened, for ``--stats``: ``stored``, or why not."""
        try:
            snapshot = dump(machine)
        except NotSnapshottable as exc:
            return f"not stored: {exc}"
        try:
            self.folder.write(line, {"line": line, "inputs": inputs.to_json(),
                                     "machine": snapshot})  # fmt: skip
        except OSError as exc:
            return f"not stored: {self.directory}: {exc.strerror or exc}"
        return "stored"

    def entries(self) -> list[Path]:
        """The snapshots in the cache, oldest first."""
        return self.folder.entries()

    def clear(self) -> int:
        """Remove every snapshot; returns how many there were."""
        return self.folder.clear()


def describe_entry(entry: Path) -> str:
    """One line about a cache entry: when it was written, and for which command line."""
    import shlex
    import time

    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.stat().st_mtime))
    try:
        with open(entry, "rb") as f:
            line = json.load(f)["line"]
        words = [*(w for f in line["files"] for w in ("-c", f)),
                 *(w for d in line["include"] for w in ("-I", d)),
                 *(w for s in line["sets"] for w in ("--set", s))]  # fmt: skip
        return f"{when}  qconf run {shlex.join(words)}  (in {line['cwd']})"
    except (OSError, ValueError, KeyError, TypeError):
        return f"{when}  {entry.name}: damaged (the next run that needs it rewrites it)"


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


@dataclass(frozen=True)
class Inputs:
    """What a resolve depended on: the files it read (size, modification time and CRC-32
    of their bytes when read) and the directories it searched (modification time, None if
    missing)."""

    files: tuple[tuple[str, int, int, int], ...]
    dirs: tuple[tuple[str, int | None], ...]

    @classmethod
    def of(cls, reads: dict[Path, tuple[int, int, int]], searched: Iterable[Path]) -> Inputs:
        """From the files :func:`~qconf.config.sources.recording_reads` noted and the
        directories searched (each read file's directory is added)."""
        dirs = {p.resolve() for p in searched} | {p.parent for p in reads}
        return cls(tuple((str(p), *read) for p, read in sorted(reads.items())),
                   tuple((str(d), _mtime(d)) for d in sorted(dirs)))  # fmt: skip

    def unchanged(self) -> bool:
        """Whether every file and directory is as it was: a file's bytes are compared too
        (by checksum), so an edit within a coarse clock tick, or one that keeps the
        modification time, is seen."""
        for path, size, mtime, crc in self.files:
            try:
                st = os.stat(path)
                if (st.st_size, st.st_mtime_ns) != (size, mtime):
                    return False
                with open(path, "rb") as f:
                    if zlib.crc32(f.read()) != crc:
                        return False
            except OSError:
                return False
        return all(_mtime(Path(path)) == mtime for path, mtime in self.dirs)

    def to_json(self) -> dict[str, Any]:
        return {"files": [list(f) for f in self.files], "dirs": [list(d) for d in self.dirs]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Inputs:
        return cls(tuple((p, s, m, c) for p, s, m, c in data["files"]),
                   tuple((p, m) for p, m in data["dirs"]))  # fmt: skip


def cached_machine(
    files: Sequence[str], sets: Sequence[str], include_dirs: Sequence[str],
    cache: MachineCache | None,
) -> tuple[Machine, str]:  # fmt: skip
    """The built machine of a command line, and how the cache served it (``hit``,
    ``stored``, ``not stored: WHY``, or ``off`` when ``cache`` is None): restored from
    its snapshot when the inputs are unchanged, else resolved, built and stored.

    :raises QconfError: as :func:`~qconf.resolve.resolve` and
        :func:`~qconf.assembly.builder.build`.
    """
    if cache is not None:
        line = cache.command_line(files, sets, include_dirs)
        machine = cache.load(line)
        if machine is not None:
            return machine, "hit"
    from qconf.assembly.builder import build
    from qconf.config.sources import recording_reads
    from qconf.resolve import resolve

    with recording_reads() as reads:
        machine = build(resolve(files, sets, include_dirs=include_dirs))
    if cache is None:
        return machine, "off"
    return machine, cache.store(line, machine, Inputs.of(reads, searched(files, include_dirs)))


def searched(files: Sequence[str], include_dirs: Sequence[str]) -> list[Path]:
    """The directories a resolve of ``files`` looks in for profiles and components (a
    file added there could change what it finds), besides those of the files it reads."""
    from qconf.config.search import SearchPath

    search = SearchPath.default(include_dirs)
    return [*search.dirs, *(d / "components" for d in search.dirs),
            *(Path(f).parent for f in files)]  # fmt: skip
