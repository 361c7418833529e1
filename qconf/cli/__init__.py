"""The ``qconf`` command line (the only package that imports click).

Errors print ``qconf: error: ...`` and exit 1; usage errors exit 2; ``qconf diff`` exits
0 (equal), 1 (different) or 2 (error), like diff(1). ``QCONF_DEBUG=1`` shows tracebacks.

:mod:`~qconf.cli.base` holds the group and what commands share,
:mod:`~qconf.cli.configuration` the commands about the document, and
:mod:`~qconf.cli.machine` those that build, show or run the machine, and
:mod:`~qconf.cli.engine` ``qconf engine`` and
:mod:`~qconf.cli.sweep` ``qconf sweep``.
"""

from __future__ import annotations

from qconf.cli import configuration, engine, machine, sweep  # noqa: F401  (they add their commands)
from qconf.cli.base import main
from qconf.cli.base import resolve_files as _resolve  # noqa: F401  (bench/uboot_floor.py)

__all__ = ("main",)
