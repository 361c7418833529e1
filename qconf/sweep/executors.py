"""Where a sweep's jobs run: a pool of local processes (the default), or a Ray cluster.

Both run :func:`qconf.sweep.jobs.run_job` on each job and report each row as it comes
(:class:`Progress`); rows come back in the order they finish, and :func:`run_jobs` returns
them in the order of the variants. A local worker reads the images from this host's disk;
a Ray worker gets their bytes from Ray's object store (each image put there once, by
digest, and fetched by a worker only when it has no copy yet), so the cluster needs qconf
installed (the same version: a worker with another says so in its row) but not the machine
files or the firmware.
"""

from __future__ import annotations

import logging
import multiprocessing
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qconf.errors import QconfError
from qconf.sweep.jobs import Job, Row, failed_row, run_job

__all__ = ("EXECUTORS", "ExecutorError", "Progress", "run_jobs")

EXECUTORS = ("local", "ray")


class ExecutorError(QconfError):
    """An executor cannot start: Ray is not installed, or its cluster cannot be reached."""

    code = "E915"


@dataclass
class Progress:
    """Counts as the sweep goes: finished (of which failed) and running, of ``total``.
    ``show`` is called after each change."""

    total: int
    show: Callable[[Progress], None] = lambda progress: None
    finished: int = 0
    failed: int = 0
    running: int = 0
    rows: list[Row] = field(default_factory=list)

    def started(self, running: int) -> None:
        self.running = running
        self.show(self)

    def done(self, row: Row, running: int) -> None:
        self.finished += 1
        self.failed += not row.ok
        self.running = running
        self.rows.append(row)
        self.show(self)


def run_jobs(
    jobs: Sequence[Job],
    images: dict[str, str],
    executor: str = "local",
    workers: int | None = None,
    address: str | None = None,
    progress: Progress | None = None,
) -> list[Row]:
    """Run every job; the rows in the order of the jobs.

    :param images: digest -> a path on this host with those bytes (for Ray's object store).
    :param workers: processes (local) or tasks at once (Ray; default: the cluster's CPUs).
    :param address: the Ray cluster (``auto``, ``ray://HOST:10001``); default: a local one.
    :raises ExecutorError: (E915) Ray is not installed or its cluster cannot be reached.
    """
    progress = progress or Progress(len(jobs))
    if executor == "ray":
        _ray(jobs, images, workers, address, progress)
    else:
        _local(jobs, workers or 1, progress)
    return sorted(progress.rows, key=lambda row: row.variant)


def _context() -> Any:
    # forkserver: workers start from a clean process (no threads, no Ray, no engine of the
    # driver's), and each imports Unicorn once for all its jobs
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _local(jobs: Sequence[Job], workers: int, progress: Progress) -> None:
    workers = max(1, min(workers, len(jobs)))
    with ProcessPoolExecutor(max_workers=workers, mp_context=_context()) as pool:
        pending: dict[Future[Row], Job] = {}
        queue = list(jobs)
        while queue or pending:
            while queue and len(pending) < workers:  # one job ahead per worker at most
                job = queue.pop(0)
                pending[pool.submit(run_job, job)] = job
            progress.started(len(pending))
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                job = pending.pop(future)
                progress.done(_result(future, job), len(pending))


def _result(future: Future[Row], job: Job) -> Row:
    try:
        return future.result()
    except Exception as exc:  # a worker that died (a crash in the engine) fails its row
        number = job.variant.number
        message = f"the worker running variant {number} failed: {type(exc).__name__}: {exc}"
        return failed_row(job, [f"qconf: error: {message}"])


# --- Ray --------------------------------------------------------------------------------


def _ray_job(job: Job, blobs: dict[str, Any], version: str) -> Row:
    """A Ray task: run ``job`` with its images from the object store."""
    import ray

    import qconf

    if qconf.__version__ != version:
        message = (f"this Ray worker runs qconf {qconf.__version__}, the sweep qconf {version}: "
                   "install the same version on the cluster")  # fmt: skip
        return failed_row(job, [f"qconf: error: {message}"])
    return run_job(job, lambda digest: bytes(ray.get(blobs[digest])))


def _ray(
    jobs: Sequence[Job],
    images: dict[str, str],
    workers: int | None,
    address: str | None,
    progress: Progress,
) -> None:
    try:
        import ray
    except ImportError:
        raise ExecutorError(
            "the ray executor needs Ray, which is not installed",
            hint="pip install 'qconf[ray]' (or pip install ray)",
        ) from None
    import qconf

    started = False
    if not ray.is_initialized():
        try:
            ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False,
                     include_dashboard=False, configure_logging=True)  # fmt: skip
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise ExecutorError(
                f"cannot reach the Ray cluster at {address or 'a new local one'}: {exc}",
                hint="start one with `ray start --head` and give --address auto, or leave "
                "--address out for a local cluster",
            ) from None
        started = True
    try:
        blobs = {digest: ray.put(Path(path).read_bytes()) for digest, path in images.items()
                 if digest != "missing"}  # fmt: skip
        task = ray.remote(num_cpus=1, max_retries=0)(_ray_job)
        limit = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        pending: dict[Any, Job] = {}
        queue = list(jobs)
        while queue or pending:
            while queue and len(pending) < limit:
                job = queue.pop(0)
                mine = {d: blobs[d] for d in job.images.values() if d in blobs}
                pending[task.remote(job, mine, qconf.__version__)] = job
            progress.started(len(pending))
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                job = pending.pop(ref)
                try:
                    row = ray.get(ref)
                except Exception as exc:  # the task failed in Ray itself (a lost worker)
                    message = (f"the Ray task of variant {job.variant.number} failed: "
                               f"{type(exc).__name__}: {exc}")  # fmt: skip
                    row = failed_row(job, [f"qconf: error: {message}"])
                progress.done(row, len(pending))
    finally:
        if started:
            ray.shutdown()
        sys.stderr.flush()
