"""Machine snapshots by command line: what ``qconf run`` starts from when nothing it was
read from has changed."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qconf.assembly.machine import Machine
from qconf.assembly.snapshot import NotSnapshottable, dump, restore
from qconf.cache.folder import CacheFolder, Entry, Refused, code_fingerprint
from qconf.cache.host import unconfigured
from qconf.cache.inputs import Inputs, searched

__all__ = ("ENVIRONMENT", "FORMAT", "MachineCache", "cached_machine")

FORMAT = 4
"""The layout of an entry: part of every key."""

ENVIRONMENT = (
    "QCONF_PATH",
    "QCONF_MAX_FILE_BYTES",
    "QCONF_MAX_NODES",
    "QCONF_MAX_INCLUDES",
    "QCONF_MAX_OBJECTS",
)
"""Environment variables that change what a configuration resolves to."""


class MachineCache:
    """Snapshots of built machines in the cache's ``machines`` folder, by command line.

    :raises Refused: (every method but :meth:`command_line`) the cache directory cannot be
        trusted; see :mod:`qconf.cache.folder`.
    """

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
        """The machine saved for ``line``, if qconf saved it, its inputs are unchanged,
        and what it reaches on the host is what they say (else None)."""
        data = self.folder.read(line)
        if data is None:
            return None
        try:
            if data.get("line") != line:
                return None
            texts = Inputs.from_json(data["inputs"]).verified()
            if texts is None:
                return None
            machine = restore(data["machine"])
        except Exception:  # written by qconf, yet not a snapshot it can read: a miss
            return None
        if unconfigured(machine, texts.get, line["sets"]) is not None:
            machine.destroy()
            return None
        return machine

    def store(self, line: dict[str, Any], machine: Machine, inputs: Inputs) -> str:
        """Save ``machine`` for ``line`` with the inputs it was resolved from. Returns what
        happened, for ``--stats``: ``stored``, or why not."""
        try:
            snapshot = dump(machine)
        except NotSnapshottable as exc:
            return f"not stored: {exc}"
        readable = {path for path, *_ in inputs.files}
        reason = unconfigured(machine, lambda path: _bytes(path) if path in readable else None,
                              line["sets"])  # fmt: skip
        if reason is not None:
            return f"not stored: {reason}"
        try:
            self.folder.write(line, {"line": line, "inputs": inputs.to_json(),
                                     "machine": snapshot})  # fmt: skip
        except OSError as exc:
            return f"not stored: {self.directory}: {exc.strerror or exc}"
        return "stored"

    def entries(self) -> list[Entry]:
        """The snapshots in the cache, oldest first."""
        return self.folder.entries()

    def clear(self) -> int:
        """Remove every snapshot; returns how many there were."""
        return self.folder.clear()

    def describe(self, entry: Entry) -> tuple[str, str | None]:
        """One line about ``entry`` (when it was written, and for which command line), and
        the directory that command line ran in (None for an entry qconf cannot read)."""
        import shlex
        import time

        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.mtime_ns / 1e9))
        try:
            line = self.folder.read_name(entry.name)["line"]
            words = [*(w for f in line["files"] for w in ("-c", f)),
                     *(w for d in line["include"] for w in ("-I", d)),
                     *(w for s in line["sets"] for w in ("--set", s))]  # fmt: skip
            cwd = str(line["cwd"])
            return f"{when}  qconf run {shlex.join(words)}  (in {cwd})", cwd
        except (ValueError, KeyError, TypeError):
            return f"{when}  {entry.name}: not one qconf wrote, or damaged (not used)", None


def _bytes(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def cached_machine(
    files: Sequence[str], sets: Sequence[str], include_dirs: Sequence[str],
    cache: MachineCache | None,
) -> tuple[Machine, str]:  # fmt: skip
    """The built machine of a command line, and how the cache served it: ``hit``,
    ``stored``, ``not stored: WHY``, ``off`` when ``cache`` is None, or ``off (WHY)`` when
    the cache directory cannot be trusted. Restored from its snapshot when the inputs are
    unchanged, else resolved, built and stored.

    :raises QconfError: as :func:`~qconf.resolve.resolve` and
        :func:`~qconf.assembly.builder.build`.
    """
    how = "off"
    if cache is not None:
        line = cache.command_line(files, sets, include_dirs)
        try:
            machine = cache.load(line)
        except Refused as exc:
            how, cache = f"off ({exc})", None
        else:
            if machine is not None:
                return machine, "hit"
    from qconf.assembly.builder import build
    from qconf.config.sources import recording_reads
    from qconf.resolve import resolve

    with recording_reads() as reads:
        machine = build(resolve(files, sets, include_dirs=include_dirs))
    if cache is None:
        return machine, how
    inputs = Inputs.of(reads, searched(files, include_dirs))
    try:
        return machine, cache.store(line, machine, inputs)
    except Refused as exc:  # it changed since the look-up
        return machine, f"off ({exc})"
