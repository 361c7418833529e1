"""Which Unicorn runs the machines: the stock wheel from PyPI, or the store-fix build.

``qconf engine build`` (:mod:`qconf.engine.build`) makes a Unicorn wheel with Unicorn's
slow store path fixed (``store-fastpath.patch`` beside this file, see docs/engine.md) and
marks it with a local version label, ``2.1.4+qconf.N``. The label is how qconf tells the
engines apart: ``qconf --version``, ``qconf engine`` and ``qconf run --stats`` name the
engine of the environment. Both engines give the same results; the store-fix one runs
guests that store to RAM faster.

This module is small on purpose: ``qconf run --stats`` imports it, never the builder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ("LABEL", "Engine", "installed")

LABEL = "qconf"
"""The local version label's first part on wheels ``qconf engine build`` makes."""


@dataclass(frozen=True)
class Engine:
    """The Unicorn a Python environment runs.

    :param kind: ``stock`` (a release from the package index), ``store-fix`` (built by
        ``qconf engine build``), ``local`` (another local build of Unicorn's Python
        package), ``LIBUNICORN_PATH`` (the library the binding was pointed at) or
        ``missing``.
    :param version: the ``unicorn`` distribution's version (``2.1.4+qconf.2``), if any.
    :param library: the folder ``$LIBUNICORN_PATH`` names, when set.
    """

    kind: str
    version: str | None
    library: str | None = None

    def __str__(self) -> str:
        if self.kind == "missing":
            return "missing (the unicorn package is not installed)"
        if self.library is not None:
            return f"the library in $LIBUNICORN_PATH ({self.library}), not unicorn {self.version}"
        return f"{self.kind} (unicorn {self.version})"


def installed() -> Engine:
    """The engine of this environment, from the ``unicorn`` distribution's version label
    (and ``$LIBUNICORN_PATH``, which the binding loads first when set)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("unicorn")
    except PackageNotFoundError:
        return Engine("missing", None)
    library = os.environ.get("LIBUNICORN_PATH")
    if library and (Path(library) / "libunicorn.so.2").exists():
        return Engine("LIBUNICORN_PATH", found, library)
    local = found.partition("+")[2]
    if not local:
        return Engine("stock", found)
    if local.split(".")[0] == LABEL:
        return Engine("store-fix", found)
    return Engine("local", found)
