"""What makes a built machine itself: a digest of its configuration and its images' bytes.

Two machines with the same digest run the same guest on the same hardware: every object
with its type and validated values, the address spaces, wires, clock and reset links and
backends, and the bytes of every image (firmware, ROM contents, data blobs). Where things
were written (files, lines, origins) is not part of it, nor where an image lives: an image
is known by its bytes (so a Ray worker that holds a copy elsewhere runs the same machine).
Sweeps label their rows with it; checkpoints name the machine they belong to with it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qconf.assembly.machine import Machine
from qconf.model.objects import Object

__all__ = ("Identity", "file_digest", "identify")


@dataclass(frozen=True)
class Identity:
    """A machine's digest (``sha256:...`` hex) and its images: path as the machine names
    it -> digest of the file's bytes (``missing`` for a file that cannot be read)."""

    digest: str
    images: dict[str, str]

    @property
    def short(self) -> str:
        """The first 12 hex digits, for tables and messages."""
        return self.digest.removeprefix("sha256:")[:12]


def file_digest(path: str | Path) -> str:
    """``sha256:`` and the hex digest of a file's bytes; ``missing`` if it cannot be read."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return "missing"
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _image_files(machine: Machine) -> dict[str, str]:
    files = {}
    for obj in machine.objects():
        if obj.info.category == "image":
            name = obj.get("file")
            if isinstance(name, str) and name not in files:
                files[name] = file_digest(name)
    return files


def _plain(value: Any, obj: Object, name: str, images: dict[str, str]) -> Any:
    """``value`` as JSON data, a path to an image (as written, or relative to the file
    that set it) replaced by the image's digest."""
    if isinstance(value, str):
        if value in images:
            return images[value]
        if not value or value.startswith("/") or not images:
            return value
        origin = obj.origins.get(name) or obj.origin
        path = origin.source.path if origin is not None else None
        base = path.parent if path is not None else Path.cwd()
        return images.get(str(base / value), value)
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v, obj, name, images) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v, obj, name, images) for k, v in sorted(value.items())}
    return repr(value)


def identify(machine: Machine) -> Identity:
    """The digest of ``machine`` and of its images' bytes (read now)."""
    images = _image_files(machine)
    objects = [[obj.path, obj.info.name,
                {name: _plain(obj.values.get(name), obj, name, images)
                 for name in sorted(obj.info.prop_names)}]
               for obj in machine.objects()]  # fmt: skip
    spaces = [[space.name, space.owner.path,
               sorted([m.obj.path, m.region.name, m.region.base, m.region.size,
                       m.region.kind, m.region.priority,
                       m.target.path if m.target else None, m.offset]
                      for m in space.mappings),
               [cpu.path for cpu in space.cpus]]
              for space in machine.spaces.values()]  # fmt: skip
    wires = machine.wires
    data = {
        "objects": objects,
        "spaces": spaces,
        "wires": sorted([w.source.path, w.output, w.sink.path, w.line, w.index] for w in wires),
        "clocks": sorted([o.path, prop, c.path] for (o, prop), c in machine.clock_links.items()),
        "resets": sorted([o.path, p.path] for o, p in machine.reset_parent.items()),
        "backends": sorted([o.path, kind, b.path] for (o, kind), b in machine.backends.items()),
    }
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=repr)
    return Identity("sha256:" + hashlib.sha256(text.encode()).hexdigest(), images)
