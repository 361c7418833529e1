"""The one exception root of qconf and a class per pipeline stage.

Every user-facing error carries a stable code, the full dotted key it concerns, where the
offending text was written (an :class:`~qconf.config.origin.Origin`: file:line:col, a
``--set`` argument, or a type default), and a hint that says how to fix it.

::

    QconfError                      root; never raised bare
     +-- SourceError  (E1xx)        a file cannot be read or parsed (syntax, duplicate key,
     |                              size or nesting limits, aliases, tags)
     +-- LayerError   (E2xx)        extends/include: profile not found, cycles, depth,
     |                              directives and merge markers used wrongly
     +-- OverrideError (E3xx)       a ``--set`` argument: grammar, missing or existing key
     +-- ValidationError (E4xx)     one value or object does not fit its type
     +-- EditError    (E5xx)        ``qconf set`` cannot edit the file as asked
     +-- BuildError   (E6xx)        the document cannot become a machine: a dangling
     |                              link or wire, overlapping regions, a cycle, a module
     |                              that failed to load, an object that failed to realize
     +-- StateError   (E7xx)        an operation needs an object in another life-cycle state
     +-- ToolError    (E8xx)        a program qconf runs (Graphviz's dot) is missing or failed
     +-- Problems                   several errors reported at once (validation)

Codes are stable: tests and users may grep for them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qconf.config.origin import Origin

__all__ = (
    "BuildError",
    "EditError",
    "LayerError",
    "OverrideError",
    "Problems",
    "QconfError",
    "SourceError",
    "StateError",
    "ToolError",
    "ValidationError",
    "exit_status",
    "flatten",
    "in_file_order",
    "report",
)


class QconfError(Exception):
    """Root of every error qconf reports to a user.

    :param message: what is wrong, in one line, without location.
    :param code: the stable code (``E101``...).
    :param origin: where the offending text was written, if known.
    :param path: the full dotted key the error concerns, if any.
    :param hint: how to fix it (valid keys, did-you-mean, syntax).
    """

    code = "E000"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        origin: Origin | None = None,
        path: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.origin = origin
        self.path = path
        self.hint = hint

    def lines(self) -> list[str]:
        """The error as printed: a located first line, then indented detail lines."""
        head = ""
        if self.origin is not None:
            head = self.origin.where() + ": "
        if self.path:
            head += self.path + ": "
        out = [f"{head}{self.message} [{self.code}]"]
        if self.origin is not None and self.origin.source.layer:
            out.append(f"  layer: {self.origin.source.layer}")
        if self.hint:
            out.extend(
                "  hint: " + h if i == 0 else "        " + h
                for i, h in enumerate(self.hint.splitlines())
            )
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


class SourceError(QconfError):
    """A configuration file cannot be read or parsed."""

    code = "E100"


class LayerError(QconfError):
    """Layering failed: ``extends``/``include`` or a merge marker is wrong."""

    code = "E200"


class OverrideError(QconfError):
    """A ``--set`` argument is malformed or addresses a key wrongly."""

    code = "E300"


class ValidationError(QconfError):
    """A value or object in the resolved document does not fit its declared type."""

    code = "E400"


class EditError(QconfError):
    """``qconf set`` cannot edit a file as asked."""

    code = "E500"


class BuildError(QconfError):
    """The validated document cannot be built into a machine."""

    code = "E600"


class StateError(QconfError):
    """An operation was asked of an object in the wrong life-cycle state.

    :param state: the state the object is in.
    :param required: the state (or states) the operation needs.
    """

    code = "E701"

    def __init__(self, message: str, *, state: str, required: str, path: str | None = None) -> None:
        super().__init__(message, path=path)
        self.state = state
        self.required = required


class ToolError(QconfError):
    """A program qconf needs is not installed, or failed."""

    code = "E800"


class Problems(QconfError):
    """Several errors found in one pass, reported together (validation reports all), in
    file order (see :func:`in_file_order`)."""

    code = "E001"

    def __init__(self, errors: Iterable[QconfError]) -> None:
        self.errors: Sequence[QconfError] = tuple(in_file_order(errors))
        n = len(self.errors)
        super().__init__(f"{n} problem{'s' if n != 1 else ''} in the machine document")

    def lines(self) -> list[str]:
        out: list[str] = []
        for err in self.errors:
            out.extend(err.lines())
        return out


def flatten(error: QconfError) -> list[QconfError]:
    """The individual errors inside ``error`` (itself, unless it is :class:`Problems`), in
    file order."""
    if isinstance(error, Problems):
        return in_file_order(e for sub in error.errors for e in flatten(sub))
    return [error]


def in_file_order(errors: Iterable[QconfError]) -> list[QconfError]:
    """``errors`` as a reader meets them: by layer (profiles, files, ``--set``), then by
    source in the order errors name them, then by line and column. Errors that name no
    place come last, in the order found (the sort is stable)."""
    errors = list(errors)
    sources: dict[object, int] = {}
    for err in errors:
        origin = _first_origin(err)
        if origin is not None:
            sources.setdefault(origin.source.name, len(sources))

    def key(err: QconfError) -> tuple[int, int, int, int, int]:
        origin = _first_origin(err)
        if origin is None:
            return (1, 0, 0, 0, 0)
        tier = _TIERS.get(origin.source.kind.value, 0)
        return (0, tier, sources[origin.source.name], origin.line, origin.col)

    return sorted(errors, key=key)


_TIERS = {"default": 0, "profile": 1, "file": 2, "set": 3, "qmp": 4}


def _first_origin(err: QconfError) -> Origin | None:
    if isinstance(err, Problems):
        return next((o for e in err.errors if (o := _first_origin(e)) is not None), None)
    return err.origin


def report(error: QconfError) -> list[str]:
    """The lines the command line prints for ``error``: ``qconf: error: ...`` for each
    error inside it, with its location and hint, and a count when there are several."""
    errors = flatten(error)
    out = []
    for err in errors:
        lines = err.lines()
        out.append(f"qconf: error: {lines[0]}")
        out.extend(lines[1:])
    if len(errors) > 1:
        out.append(f"qconf: {len(errors)} errors")
    return out


def exit_status(action: Callable[[], int | None], error_code: int = 1) -> int:
    """``action()``'s exit status (0 for None), ended as every command ends: a
    :class:`QconfError` prints :func:`report`'s lines on standard error and gives
    ``error_code``; Ctrl-C prints ``qconf: interrupted`` and gives 130. With
    ``QCONF_DEBUG=1`` both go on with their traceback."""
    try:
        return action() or 0
    except QconfError as exc:
        if os.environ.get("QCONF_DEBUG") == "1":
            raise
        lines, status = report(exc), error_code
    except KeyboardInterrupt:  # before a run started, or outside one
        if os.environ.get("QCONF_DEBUG") == "1":
            raise
        lines, status = ["qconf: interrupted"], 130
    sys.stderr.write("".join(line + "\n" for line in lines))
    sys.stderr.flush()
    return status
