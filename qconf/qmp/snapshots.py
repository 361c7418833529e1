"""Checkpoints over QMP, in QEMU 7.2's words: the ``snapshot-save``, ``snapshot-load`` and
``snapshot-delete`` jobs (``job-id``, ``tag``, ``vmstate``, ``devices``), ``query-jobs``
and ``job-dismiss``, and HMP's ``savevm``, ``loadvm`` and ``delvm``.

A snapshot is a checkpoint file (:mod:`qconf.emu.checkpoint`): its ``tag`` is the file's
path, with ``.qcp`` added to a bare name (``boot`` is ``./boot.qcp``). QEMU keeps
snapshots inside the disk images that ``vmstate`` and ``devices`` name; qconf's machines
have none, so both are taken as QEMU's shape asks and the whole state goes to the one file.
Commands run between two time slices, so a job is done when its command returns: its
``JOB_STATUS_CHANGE`` events (created, running, waiting, pending, concluded) follow the
reply, and ``query-jobs`` shows it concluded (with ``error`` if it failed) until
``job-dismiss``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qconf.errors import QconfError
from qconf.qmp.control import Control
from qconf.qmp.protocol import QmpError

__all__ = (
    "delvm",
    "job_dismiss",
    "loadvm",
    "query_jobs",
    "savevm",
    "snapshot_delete",
    "snapshot_load",
    "snapshot_save",
    "snapshot_path",
)

_STEPS = ("created", "running", "waiting", "pending", "concluded")


def snapshot_path(tag: str) -> Path:
    """The file of snapshot ``tag``: the tag itself if it has a folder or ends with
    ``.qcp``, else ``TAG.qcp`` in the working directory."""
    if "/" in tag or tag.endswith(".qcp"):
        return Path(tag)
    return Path(f"{tag}.qcp")


def _jobs(control: Control) -> dict[str, dict[str, Any]]:
    jobs: dict[str, dict[str, Any]] = vars(control).setdefault("snapshot_jobs", {})
    return jobs


def _save(control: Control, tag: str) -> None:
    from qconf.assembly.identity import identify
    from qconf.emu.checkpoint import save

    emulator = control.live()
    save(emulator, snapshot_path(tag), identify(control.machine), label=tag,
         files=tuple(control.files), sets=tuple(t for t, _ in control.sets),
         include_dirs=tuple(control.include_dirs))  # fmt: skip


def _load(control: Control, tag: str) -> None:
    from qconf.assembly.identity import identify
    from qconf.emu.checkpoint import read

    emulator = control.live()
    saved = read(snapshot_path(tag))
    saved.check(identify(control.machine))
    saved.load(emulator)


def _delete(control: Control, tag: str) -> None:
    from qconf.emu.checkpoint import read

    path = snapshot_path(tag)
    read(path)  # only ever a checkpoint
    path.unlink()


def _job(control: Control, args: dict[str, Any], kind: str, action: Any) -> Any:
    job_id: str = args["job-id"]
    jobs = _jobs(control)
    if job_id in jobs:
        raise QmpError(f"Job ID '{job_id}' already in use")
    error = None
    try:
        action(control, args["tag"])
    except QconfError as exc:
        error = " ".join(exc.lines()[0:1]) + (f" ({exc.hint})" if exc.hint else "")
    jobs[job_id] = {"id": job_id, "type": kind, "status": "concluded", "current-progress": 1,
                    "total-progress": 1, **({"error": error} if error else {})}  # fmt: skip
    for step in _STEPS:
        control.events.append({"event": "JOB_STATUS_CHANGE",
                               "data": {"id": job_id, "status": step}})  # fmt: skip
    return {}


def snapshot_save(control: Control, args: dict[str, Any], who: str) -> Any:
    """Save the machine's whole state as snapshot ``tag`` (a job: see ``query-jobs``)."""
    return _job(control, args, "snapshot-save", _save)


def snapshot_load(control: Control, args: dict[str, Any], who: str) -> Any:
    """Load snapshot ``tag`` into the running machine (a job; it must be this machine's)."""
    return _job(control, args, "snapshot-load", _load)


def snapshot_delete(control: Control, args: dict[str, Any], who: str) -> Any:
    """Delete snapshot ``tag`` (a job)."""
    return _job(control, args, "snapshot-delete", _delete)


def query_jobs(control: Control, args: dict[str, Any], who: str) -> Any:
    """The jobs not yet dismissed."""
    return list(_jobs(control).values())


def job_dismiss(control: Control, args: dict[str, Any], who: str) -> Any:
    """Forget a concluded job (event ``JOB_STATUS_CHANGE`` to ``null``)."""
    job_id: str = args["id"]
    if _jobs(control).pop(job_id, None) is None:
        raise QmpError(f"Job not found: '{job_id}'")
    control.events.append({"event": "JOB_STATUS_CHANGE",
                           "data": {"id": job_id, "status": "null"}})  # fmt: skip
    return {}


def _hmp(action: Any, control: Control, tag: str) -> list[str]:
    try:
        action(control, tag)
    except QconfError as exc:
        raise QmpError("\n".join(exc.lines())) from None
    return []


def savevm(control: Control, tag: str) -> list[str]:
    """HMP ``savevm TAG``."""
    return _hmp(_save, control, tag)


def loadvm(control: Control, tag: str) -> list[str]:
    """HMP ``loadvm TAG``."""
    return _hmp(_load, control, tag)


def delvm(control: Control, tag: str) -> list[str]:
    """HMP ``delvm TAG``."""
    return _hmp(_delete, control, tag)
