"""Checkpoints: a running machine's whole state in a file, and back into a new run.

A checkpoint is taken between two time slices, where nothing is half done, and holds:

- every RAM and ROM (the 64 KiB chunks that are not all zeros);
- each CPU: its engine's state (Unicorn's context for RISC-V and AArch64; the registers by
  name for Cortex-M, whose context holds heap pointers), qconf's own state of it
  (:meth:`~qconf.emu.core.Core.state`: pc, wfi, busy-wait tracking, the instruction
  counter, RISC-V's FPU flags and SEIP line, AArch64's timers and remembered
  translations, Cortex-M's active exceptions);
- every device model's state (:meth:`~qconf.devices.base.Device.state`), from which it arms
  its timer events again; the interrupt lines' levels;
- virtual time, the scheduler's carry-over between slices, and the pending wake-up
  events (:func:`~qconf.emu.vtime.wake`) by time;
- the consoles' input not read yet and a console script's progress.

Loading it into a freshly prepared run of the same machine gives the run that would have
followed, to the byte and the instruction. A checkpoint names its machine: the digest of
the resolved configuration and the images' bytes (:mod:`qconf.assembly.identity`), and
keeps the machine itself as data when it can (:mod:`qconf.assembly.snapshot`), so that
``qconf run --restore FILE`` needs nothing else. Loading refuses another machine.

The file is a zip archive: ``checkpoint.json`` (everything above but the bytes), the
engines' states under ``cpu/`` and the memory under ``memory/``; nothing in it is
executed.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qconf.emu.state import StateError
from qconf.emu.vtime import wake
from qconf.errors import QconfError

if TYPE_CHECKING:
    from qconf.assembly.identity import Identity
    from qconf.assembly.machine import Machine
    from qconf.emu.emulator import Emulator

__all__ = ("FORMAT", "VERSION", "Checkpoint", "CheckpointError", "read", "save")

FORMAT = "qconf-checkpoint"
VERSION = 1
CHUNK = 64 << 10
MANIFEST = "checkpoint.json"


class CheckpointError(QconfError):
    """A checkpoint cannot be saved (something in the machine has no state a checkpoint
    can hold), read (not a checkpoint, damaged, another version), or loaded into this
    machine (it belongs to another)."""

    code = "E930"


def _error(path: str | Path, message: str, code: str, hint: str | None = None) -> CheckpointError:
    from qconf.config.origin import LayerKind, Origin, Source

    origin = Origin(Source(str(path), layer="checkpoint", kind=LayerKind.FILE, path=Path(path)))
    return CheckpointError(message, code=code, origin=origin, hint=hint)


# --- saving ----------------------------------------------------------------------------


def save(
    emulator: Emulator,
    path: str | Path,
    identity: Identity,
    *,
    label: str = "",
    files: tuple[str, ...] = (),
    sets: tuple[str, ...] = (),
    include_dirs: tuple[str, ...] = (),
) -> Checkpoint:
    """Write the state of ``emulator`` (between slices, still running) to ``path``,
    atomically; what it wrote.

    :param identity: the machine's (``identify(machine)``).
    :param label: what the checkpoint is (the text it was saved at), for messages.
    :raises CheckpointError: (E930) the run has ended, a model or a timer event has no
        state a checkpoint can hold, or the file cannot be written.
    """
    scheduler = emulator.scheduler
    if scheduler.stopping:
        raise _error(path, f"the run has ended ({scheduler.reason}): nothing to save", "E930")
    assert scheduler.running is None, "checkpoints are taken between slices"
    machine = emulator.machine
    platform = emulator.platform
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "qconf": _version(),
        "label": label,
        "machine": {
            "digest": identity.digest,
            "images": identity.images,
            "snapshot": _snapshot(machine),
            "files": list(files),
            "sets": list(sets),
            "include_dirs": list(include_dirs),
        },
        "time_ns": scheduler.time.now,
        "instructions": {core.obj.path: core.instructions for core in emulator.cpus},
        "scheduler": {
            "ahead": {cpu.obj.path: n for cpu, n in scheduler.ahead.items()},
            "log": list(scheduler.log),
        },
    }
    blobs: dict[str, bytes] = {}
    cores = []
    for n, core in enumerate(emulator.cpus):
        name = f"cpu/{n}.bin"
        blobs[name] = core.engine_state()
        state = _guarded(path, core.obj.path, core.state)
        cores.append({"path": core.obj.path, "type": core.obj.info.name, "state": state,
                      "engine": name})  # fmt: skip
    manifest["cores"] = cores
    devices = {}
    owners: set[int] = set()
    for obj, model in platform.models.items():
        owners.add(id(model))
        devices[obj.path] = _guarded(path, obj.path, lambda m=model: _model_state(m))
    manifest["devices"] = devices
    for core in emulator.cpus:
        owners.add(id(core))
    manifest["wires"] = [[src.path, output, level]
                         for (src, output), level in emulator.wires.levels.items()]  # fmt: skip
    wakes, events = [], []
    for event in scheduler.time.pending():
        events.append(event.when)
        if event.action is wake:
            wakes.append(event.when)
        elif id(getattr(event.action, "__self__", None)) not in owners:
            what = _name(event.action)
            raise _error(path, f"a pending timer event ({what}) belongs to no device model "
                         "or core: a checkpoint cannot arm it again", "E930")  # fmt: skip
    manifest["wakes"] = sorted(set(wakes))
    manifest["events"] = sorted(set(events))
    manifest["consoles"] = _consoles_state(emulator)
    memory = []
    for n, (backend, buf) in enumerate(platform.buffers.items()):
        name = f"memory/{n}.bin"
        with buf.view() as view:
            chunks, data = _chunks(view)
        blobs[name] = data
        memory.append({"backend": backend.path, "size": buf.size, "chunk": CHUNK,
                       "chunks": chunks, "entry": name})  # fmt: skip
    manifest["memory"] = memory
    target = Path(path)
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            archive.writestr(MANIFEST, json.dumps(manifest, indent=1))
            for name, data in blobs.items():
                archive.writestr(name, data)
        partial.replace(target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise _error(path, f"cannot write the checkpoint: {exc.strerror or exc}", "E930") from None
    return Checkpoint(target, manifest)


def _version() -> str:
    import qconf

    return qconf.__version__


def _snapshot(machine: Machine) -> dict[str, Any] | None:
    from qconf.assembly.snapshot import NotSnapshottable, dump

    try:
        return dump(machine)
    except NotSnapshottable:
        return None  # a plugin's types: the machine's files are needed to restore it


def _name(action: Any) -> str:
    return str(getattr(action, "__qualname__", type(action).__name__))


def _guarded(path: str | Path, where: str, state: Any) -> Any:
    try:
        return state()
    except StateError as exc:
        raise _error(path, f"{where}: {exc}", "E930",
                     hint="a checkpoint holds only models that say what their state is "
                     "(STATE, docs/internals.md)") from None  # fmt: skip


def _model_state(model: Any) -> dict[str, Any]:
    from qconf.emu.platform import Unimplemented

    if isinstance(model, Unimplemented):
        return {}
    state = getattr(model, "state", None)
    if state is None:
        raise StateError(f"the model {type(model).__name__} has no state() to save")
    result: dict[str, Any] = state()
    return result


def _chunks(view: memoryview) -> tuple[list[int], bytes]:
    """The indices of the chunks of ``view`` that are not all zeros, and their bytes."""
    zero = bytes(CHUNK)
    indices, parts = [], []
    for index in range((len(view) + CHUNK - 1) // CHUNK):
        part = view[index * CHUNK : (index + 1) * CHUNK].tobytes()  # (memoryviews compare
        if part != zero[: len(part)]:  # item by item: bytes compare with memcmp)
            indices.append(index)
            parts.append(part)
    return indices, b"".join(parts)


def _step_data(step: Any) -> list[Any]:
    """A script step as JSON data: ``["send", HEX]`` or ``["expect", HEX or
    "re:"+HEX, within, within_wall, number]``."""
    from qconf.emu.script import Send

    if isinstance(step, Send):
        return ["send", step.text.hex()]
    pattern = step.pattern
    text = pattern.hex() if isinstance(pattern, bytes) else "re:" + pattern.pattern.hex()
    return ["expect", text, step.within, step.within_wall, step.number]


def _step_from(item: list[Any]) -> Any:
    """The step :func:`_step_data` gave (``[PATTERN_HEX, TEXT_HEX]`` pairs of older
    checkpoints: an expect and a send)."""
    import re

    from qconf.emu.script import Expect, Send

    if item[0] == "send":
        return Send(bytes.fromhex(item[1]))
    if item[0] == "expect":
        text = str(item[1])
        pattern: bytes | re.Pattern[bytes] = (
            re.compile(bytes.fromhex(text[3:])) if text.startswith("re:") else bytes.fromhex(text)
        )
        return Expect(pattern, item[2], item[3], int(item[4]))
    return (bytes.fromhex(item[0]), bytes.fromhex(item[1]))


def _consoles_state(emulator: Emulator) -> dict[str, Any]:
    from qconf.emu.chardev import MemoryChardev
    from qconf.emu.script import Script

    out: dict[str, Any] = {}
    consoles = emulator.consoles
    for key, opened in consoles.opened.items():
        entry: dict[str, Any] = {}
        dev = opened
        if isinstance(opened, Script):
            entry["script"] = {"steps": [_step_data(step) for step in opened.steps],
                               "seen": bytes(opened.seen).hex(),
                               "typed": bytes(opened.typed).hex(),
                               "matched": opened.matched}  # fmt: skip
            dev = opened.inner
        if isinstance(dev, MemoryChardev) and dev.input:
            entry["input"] = bytes(dev.input).hex()
        if entry:
            out[key.path] = entry
    for obj, typed in consoles.typed.items():
        if typed:
            out.setdefault(obj.path, {})["typed_qmp"] = bytes(typed).hex()
    return out


# --- reading and loading -----------------------------------------------------------------


@dataclass
class Checkpoint:
    """A checkpoint file, read: its manifest (what :func:`save` wrote, the bytes aside)."""

    path: Path
    manifest: dict[str, Any]

    @property
    def digest(self) -> str:
        """The machine's identity (``sha256:...``)."""
        return str(self.manifest["machine"]["digest"])

    @property
    def time_ns(self) -> int:
        return int(self.manifest["time_ns"])

    @property
    def label(self) -> str:
        return str(self.manifest.get("label", ""))

    def configuration(self) -> str:
        """The command line's configuration it was saved from (``-c board.yaml --set
        ...``), for messages."""
        m = self.manifest["machine"]
        words = [w for f in m["files"] for w in ("-c", f)] + [
            w for s in m["sets"] for w in ("--set", s)
        ]
        return " ".join(words) or "(a machine built over QMP)"

    def script(self) -> list[Any]:
        """The console script's steps still to come when it was saved (none if none)."""
        for entry in self.manifest["consoles"].values():
            script = entry.get("script")
            if script:
                return [_step_from(item) for item in script["steps"]]
        return []

    def machine(self) -> Machine:
        """The machine it was saved from, built again from the data it keeps.

        :raises CheckpointError: (E932) it keeps none (a machine with a plugin's types):
            give its configuration.
        """
        from qconf.assembly.snapshot import restore

        data = self.manifest["machine"]["snapshot"]
        if data is None:
            raise _error(self.path, "the checkpoint does not hold its machine (it uses types "
                         "from a plugin)", "E932",
                         hint=f"give its configuration too: qconf run {self.configuration()} "
                         f"--restore {self.path}")  # fmt: skip
        try:
            return restore(data)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise _error(
                self.path, f"the machine it holds cannot be built: {exc!r}", "E931"
            ) from None

    def check(self, identity: Identity) -> None:
        """Refuse a machine that is not the one it was saved from.

        :raises CheckpointError: (E932) another configuration, or other image bytes.
        """
        if identity.digest == self.digest:
            return
        saved = self.manifest["machine"]["images"]
        changed = [p for p, d in identity.images.items() if p in saved and saved[p] != d]
        if changed:
            why = f"the bytes of {changed[0]} are not those it was saved with"
        elif set(identity.images.values()) != set(saved.values()):
            why = "its images are not those it was saved with"
        else:
            why = "its configuration is another"
        raise _error(self.path, f"the checkpoint belongs to another machine: {why} (machine "
                     f"{self.digest.removeprefix('sha256:')[:12]}, this one "
                     f"{identity.short})", "E932",
                     hint=f"it was saved from: qconf run {self.configuration()}")  # fmt: skip

    def load(self, emulator: Emulator) -> None:
        """Put the saved state into ``emulator``: a prepared run of the same machine (not
        yet run, or between slices: QMP's ``loadvm``).

        :raises CheckpointError: (E931) the file is damaged or does not fit the machine.
        """
        try:
            with zipfile.ZipFile(self.path) as archive:
                self._load(emulator, archive)
        except (OSError, zipfile.BadZipFile, KeyError, ValueError, TypeError, StateError) as exc:
            raise _error(self.path, f"the checkpoint cannot be loaded: {exc}", "E931",
                         hint="it is damaged, or was saved by another qconf") from None  # fmt: skip

    def _load(self, emulator: Emulator, archive: zipfile.ZipFile) -> None:
        m = self.manifest
        machine, platform, scheduler = emulator.machine, emulator.platform, emulator.scheduler
        by_path = {obj.path: obj for obj in machine.objects()}
        for entry in m["memory"]:
            buf = platform.buffers[by_path[entry["backend"]]]
            if buf.size != entry["size"]:
                raise ValueError(f"{entry['backend']} holds {buf.size} bytes, not {entry['size']}")
            with buf.view() as view:
                _load_chunks(view, entry["chunks"], archive.read(entry["entry"]), entry["chunk"])
        scheduler.time.reset(int(m["time_ns"]))
        cores = {core.obj.path: core for core in emulator.cpus}
        if sorted(cores) != sorted(c["path"] for c in m["cores"]):
            raise ValueError("its CPUs are not this machine's")
        for saved in m["cores"]:
            core = cores[saved["path"]]
            core.load_engine_state(archive.read(saved["engine"]))
            core.load_state(saved["state"])
        scheduler.ahead.clear()  # in place: a running loop holds it (QMP's loadvm)
        scheduler.ahead.update({cores[p]: int(n) for p, n in m["scheduler"]["ahead"].items()})
        scheduler.log[:] = m["scheduler"]["log"]
        emulator.wires.levels = {(by_path[src], output): bool(level)
                                 for src, output, level in m["wires"]}  # fmt: skip
        models = {obj.path: model for obj, model in platform.models.items()}
        for path, state in m["devices"].items():
            model = models[path]
            if hasattr(model, "load_state"):
                model.load_state(state)
        for when in m["wakes"]:
            scheduler.time.at(int(when), wake)
        pending = sorted({e.when for e in scheduler.time.pending()})
        if pending != m["events"]:
            raise ValueError(f"the timer events armed again ({pending}) are not those saved "
                             f"({m['events']})")  # fmt: skip
        _load_consoles(emulator, m["consoles"], by_path)


def _load_chunks(view: memoryview, indices: list[int], data: bytes, chunk: int) -> None:
    """Make ``view`` the saved memory: the saved chunks, zeros everywhere else (only where
    it is not zero already: untouched pages stay untouched)."""
    zero = bytes(chunk)
    saved = set(indices)
    for index in range((len(view) + chunk - 1) // chunk):
        if index not in saved:
            part = view[index * chunk : (index + 1) * chunk]
            if part.tobytes() != zero[: len(part)]:
                part[:] = zero[: len(part)]
    for n, index in enumerate(indices):
        saved_part = data[n * chunk : (n + 1) * chunk]
        view[index * chunk : index * chunk + len(saved_part)] = saved_part


def _load_consoles(emulator: Emulator, saved: dict[str, Any], by_path: dict[str, Any]) -> None:
    from collections import deque

    from qconf.emu.chardev import MemoryChardev
    from qconf.emu.script import Script

    consoles = emulator.consoles
    opened = {key.path: dev for key, dev in consoles.opened.items()}
    for path, entry in saved.items():
        dev = opened.get(path)
        script = entry.get("script")
        if isinstance(dev, Script):
            if script is not None:  # where the saved script was: what it had seen and typed
                dev.seen[:] = bytes.fromhex(script["seen"])
                dev.typed.extend(bytes.fromhex(script["typed"]))
                dev.matched = int(script.get("matched", 0))
            dev = dev.inner
        if isinstance(dev, MemoryChardev) and "input" in entry:
            dev.feed(bytes.fromhex(entry["input"]))
        if "typed_qmp" in entry and path in by_path:
            consoles.typed.setdefault(by_path[path], deque()).extend(
                bytes.fromhex(entry["typed_qmp"]))  # fmt: skip


def read(path: str | Path) -> Checkpoint:
    """The checkpoint at ``path``, its manifest read (the bytes are read by ``load``).

    :raises CheckpointError: (E931) not a checkpoint, damaged, or of another version.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = json.loads(archive.read(MANIFEST))
    except FileNotFoundError:
        raise _error(path, "no such checkpoint file", "E931") from None
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise _error(path, f"not a qconf checkpoint ({exc})", "E931",
                     hint="give a file saved by qconf run --save-at, savevm or "
                     "snapshot-save") from None  # fmt: skip
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _error(path, "not a qconf checkpoint", "E931")
    if manifest.get("version") != VERSION:
        raise _error(path, f"a checkpoint of format version {manifest.get('version')}; this "
                     f"qconf reads version {VERSION}", "E931",
                     hint=f"it was saved by qconf {manifest.get('qconf')}")  # fmt: skip
    return Checkpoint(Path(path), manifest)
