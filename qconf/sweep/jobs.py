"""One variant of a sweep, run to its end: what a worker is given (:class:`Job`) and what it
gives back (:class:`Row`).

A job carries the variant's machine as plain data (a snapshot, :mod:`qconf.assembly.snapshot`)
and names its images by the digest of their bytes, so a worker on another host needs
neither the machine files nor the firmware on its disk: :func:`run_job` asks ``fetch`` for
the bytes of each image it does not have, keeps them in a folder of its own by digest, and
points the machine at those copies. Every UART's output is kept in memory (nothing is
printed, nothing read from the host); the run ends at the first of: the last ``--expect``
matched, the guest's exit, a fault, ``max_time`` of virtual time, ``max_insns``
instructions, or the ``timeout`` in host seconds. Everything in a :class:`Row` but
``wall_s`` follows from the job alone: the same job gives the same row on any worker.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from qconf.sweep.grammar import Variant

__all__ = ("EndConditions", "Job", "Row", "failed_row", "run_job", "unescape")

EXIT_ERROR = 1
"""A variant that cannot be built or started: its row has this status and the error."""


def unescape(text: str) -> bytes:
    """``--expect``/``--send`` text as bytes, ``\\n``, ``\\r`` and ``\\t`` understood."""
    return text.replace("\\n", "\n").replace("\\r", "\r").replace("\\t", "\t").encode()


@dataclass(frozen=True)
class EndConditions:
    """How every variant's run ends, and what it types.

    :param expects: texts the console must show, in order; the run ends when the last
        one shows (``\\n`` and the like understood).
    :param sends: what to type when the expect at the same position shows (fewer sends
        than expects: the last expects only wait).
    :param max_time_ns: virtual time after which the run stops (status 124).
    :param max_insns: instructions (all CPUs) after which the run stops (status 124).
    :param timeout_s: host seconds after which the run stops (status 124; the one end
        that depends on the host, off by default).
    :param tail_lines: how many of the console's last lines a row keeps.
    """

    expects: tuple[str, ...] = ()
    sends: tuple[str, ...] = ()
    max_time_ns: int | None = None
    max_insns: int | None = None
    timeout_s: float | None = None
    tail_lines: int = 3


@dataclass(frozen=True)
class Job:
    """A variant to run.

    :param machine: its built machine as snapshot data, or None when it cannot be one (a
        plugin's types): then the worker resolves ``files`` with the variant's sets itself.
    :param images: each image path the machine names -> the digest of its bytes.
    :param digest: the machine's identity (:mod:`qconf.assembly.identity`).
    :param error: the variant could not be built: the lines of its error.
    """

    variant: Variant
    end: EndConditions
    machine: dict[str, Any] | None = None
    files: tuple[str, ...] = ()
    include_dirs: tuple[str, ...] = ()
    images: dict[str, str] = field(default_factory=dict)
    digest: str = ""
    error: tuple[str, ...] = ()


@dataclass
class Row:
    """What one variant did. ``ok``: it exited 0 having matched every expect."""

    variant: int
    tweaks: list[str]
    exit: int
    reason: str
    ok: bool
    instructions: int
    cpus: dict[str, int]
    virtual_ns: int
    matched: int
    expected: int
    console_sha256: str
    console_tail: list[str]
    config: str
    wall_s: float = 0.0
    sets: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def same_run(self) -> dict[str, Any]:
        """Everything but the wall time: equal for the same job on any worker."""
        data = self.to_json()
        del data["wall_s"]
        return data


Fetch = Callable[[str], bytes]
"""The bytes of an image, by digest (from the driver, Ray's object store...)."""


_FOLDER: list[Path] = []


def _blob_folder() -> Path:
    """This user's folder of fetched images (by digest): kept between jobs of a worker,
    never one that others could have written."""
    if not _FOLDER:
        folder = Path(tempfile.gettempdir()) / f"qconf-sweep-images-{os.getuid()}"
        folder.mkdir(mode=0o700, exist_ok=True)
        st = folder.lstat()
        if (
            not folder.is_dir()
            or folder.is_symlink()
            or st.st_uid != os.getuid()
            or (st.st_mode & 0o077)
        ):
            folder = Path(tempfile.mkdtemp(prefix="qconf-sweep-images-"))
        _FOLDER.append(folder)
    return _FOLDER[0]


def _local_images(images: dict[str, str], fetch: Fetch | None) -> dict[str, str]:
    """Each image path -> a file with the same bytes on this host: the path itself when its
    bytes are the ones named (no fetch), else a copy by digest, fetched once."""
    out = {}
    for path, digest in images.items():
        if fetch is None or digest == "missing":
            out[path] = path
            continue
        copy = _blob_folder() / digest.removeprefix("sha256:")
        if not copy.exists():
            data = fetch(digest)
            if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
                raise ValueError(f"the bytes fetched for {path} are not {digest}")
            partial = copy.with_name(f"{copy.name}.{os.getpid()}.part")
            partial.write_bytes(data)
            partial.replace(copy)
        out[path] = str(copy)
    return out


def _machine(job: Job, fetch: Fetch | None) -> Any:
    if job.machine is None:
        import qconf

        return qconf.build(qconf.resolve(list(job.files), list(job.variant.sets),
                                         include_dirs=list(job.include_dirs)))  # fmt: skip
    from qconf.assembly.snapshot import restore

    local = _local_images(job.images, fetch)
    data = job.machine
    if any(local[p] != p for p in local):  # point the machine at this host's copies
        image_types = {name for name, t in data["types"].items() if t["category"] == "image"}
        objects = []
        for path, type_name, origin, values, origins in data["objects"]:
            here = values
            if type_name in image_types and values.get("file") in local:
                here = {**values, "file": local[values["file"]]}
            objects.append([path, type_name, origin, here, origins])
        data = {**data, "objects": objects}
    return restore(data)


def failed_row(job: Job, lines: Sequence[str], wall_s: float = 0.0) -> Row:
    """The row of a variant that could not run: status 1, its error's lines."""
    v = job.variant
    return Row(v.number, list(v.tweaks), EXIT_ERROR, lines[0] if lines else "error", False, 0,
               {}, 0, 0, len(job.end.expects), "", list(lines[1:]), job.digest,
               round(wall_s, 3), list(v.sets))  # fmt: skip


def run_job(job: Job, fetch: Fetch | None = None) -> Row:
    """Run one variant to its end (see the module's description); never raises for what
    the variant does: an error building or starting it is a row with status 1."""
    started = time.monotonic()
    if job.error:
        return failed_row(job, job.error, time.monotonic() - started)
    from qconf.emu.chardev import MemoryChardev
    from qconf.emu.emulator import Emulator
    from qconf.errors import QconfError, report

    try:
        machine = _machine(job, fetch)
    except QconfError as exc:
        return failed_row(job, report(exc), time.monotonic() - started)
    except (OSError, ValueError) as exc:
        return failed_row(job, [f"qconf: error: {exc}"], time.monotonic() - started)
    end = job.end
    uarts = {obj.path: MemoryChardev() for obj in machine.objects()
             if "chardev" in obj.info.prop_names}  # fmt: skip
    emulator = Emulator(machine, dict(uarts))
    watch = _Watch(emulator, end)
    try:
        try:
            emulator.prepare()
        except QconfError as exc:
            return failed_row(job, report(exc), time.monotonic() - started)
        emulator.listeners.append(watch.output)
        if end.max_time_ns is not None:
            limit = end.max_time_ns
            emulator.scheduler.at(limit, lambda: emulator.request_stop(
                124, f"stopped at {limit / 1e6:g} ms of virtual time (--max-time)"))  # fmt: skip
        outcome = emulator.run(end.max_insns, end.timeout_s)
    finally:
        emulator.close()
        machine.destroy()
    output = bytes(watch.seen)
    lines = output.decode("utf-8", errors="replace").replace("\r", "").splitlines()
    v = job.variant
    code = outcome.exit_code
    return Row(
        variant=v.number,
        tweaks=list(v.tweaks),
        exit=code,
        reason=outcome.reason
        if outcome.fault is None
        else outcome.fault.lines()[0].removeprefix("qconf: "),
        ok=code == 0 and watch.matched == len(end.expects),
        instructions=sum(outcome.instructions.values()),
        cpus=dict(outcome.instructions),
        virtual_ns=outcome.time_ns,
        matched=watch.matched,
        expected=len(end.expects),
        console_sha256=hashlib.sha256(output).hexdigest(),
        console_tail=lines[-end.tail_lines :] if end.tail_lines else [],
        config=job.digest,
        wall_s=round(time.monotonic() - started, 3),
        sets=list(v.sets),
    )


class _Watch:
    """Every UART's output in order; the expects matched in it, the sends typed into the
    console (the first UART opened) at each match, and the stop at the last one."""

    def __init__(self, emulator: Any, end: EndConditions) -> None:
        self.emulator = emulator
        self.expects = [unescape(e) for e in end.expects]
        self.sends = [unescape(s) for s in end.sends]
        self.seen = bytearray()
        self.start = 0  # where the next expect is looked for
        self.matched = 0

    def output(self, obj: Any, data: bytes) -> None:
        self.seen += data
        while self.matched < len(self.expects):
            pattern = self.expects[self.matched]
            at = self.seen.find(pattern, max(0, self.start))
            if at < 0:
                return
            self.start = at + len(pattern)
            if self.matched < len(self.sends):
                feed = getattr(self.emulator.consoles.console, "feed", None)
                if feed is not None:  # the console is one of the run's memory backends
                    feed(self.sends[self.matched])
            self.matched += 1
            if self.matched == len(self.expects):
                self.emulator.request_stop(0, f"matched {self.expects[-1].decode()!r}")
