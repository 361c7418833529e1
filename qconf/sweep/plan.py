"""From a sweep's command line to its jobs: expand the ``--set`` sweeps, resolve and build
each variant here (errors are located here, once), and pack it as a :class:`Job`: its
machine as snapshot data, its images named by digest, its identity."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qconf.errors import QconfError, report
from qconf.model.document import Document
from qconf.sweep.grammar import Variant, expand
from qconf.sweep.jobs import EndConditions, Job

__all__ = ("Plan", "plan", "resolve_variant")


@dataclass
class Plan:
    """The jobs of a sweep, in the order of its variants, and every image they name:
    digest -> a path to read its bytes from (on the driver's host)."""

    jobs: list[Job]
    images: dict[str, str]


def resolve_variant(
    files: Sequence[str], variant: Variant, include_dirs: Sequence[str] = ()
) -> Document:
    """The resolved document of one variant (for ``--diff``).

    :raises QconfError: it does not resolve.
    """
    import qconf

    return qconf.resolve(list(files), list(variant.sets), include_dirs=list(include_dirs))


def plan(
    files: Sequence[str],
    sets: Sequence[str],
    include_dirs: Sequence[str],
    end: EndConditions,
) -> Plan:
    """Expand, resolve and build every variant.

    :raises QconfError: a sweep does not parse (E306), or no variant builds (the first
        one's error: a problem of the machine, not of a swept value).
    """
    import qconf
    from qconf.assembly.identity import identify
    from qconf.assembly.snapshot import NotSnapshottable, dump

    variants = expand(sets)
    jobs: list[Job] = []
    images: dict[str, str] = {}
    first_error: QconfError | None = None
    for variant in variants:
        try:
            machine = qconf.build(resolve_variant(files, variant, include_dirs))
        except QconfError as exc:
            first_error = first_error or exc
            jobs.append(Job(variant, end, error=tuple(report(exc))))
            continue
        try:
            identity = identify(machine)
            try:
                data = dump(machine)
            except NotSnapshottable:
                data = None  # a plugin's types: the worker resolves the files itself
        finally:
            machine.destroy()
        for path, digest in identity.images.items():
            images.setdefault(digest, path)
        jobs.append(Job(variant, end, data, tuple(files), tuple(include_dirs),
                        identity.images, identity.digest))  # fmt: skip
    if first_error is not None and all(job.error for job in jobs):
        raise first_error
    return Plan(jobs, images)
