"""What a property's annotation says beyond its Python type: the :class:`Unit` its value
is written in (``Frequency`` carries Hz), the :class:`Wiring` a link property makes
(``IrqRef`` wires an interrupt) and the :class:`FilePath` of a property that names a
file on the host (``firmware``, an image's ``file``, a console's ``file:PATH``).
:mod:`qconf.model.props` puts them into the property types; the type registry reads them
back. Nothing here needs pydantic, so a machine restored from a snapshot
(:mod:`qconf.assembly.snapshot`) has them too.
"""

from __future__ import annotations

import os
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qconf.config import units

if TYPE_CHECKING:
    from qconf.config.origin import Origin

__all__ = ("ADDRESS", "BYTES", "HZ", "NS", "UNITS", "FilePath", "Unit", "Wiring", "path_of",
           "unit_of", "wiring_of")  # fmt: skip


@dataclass(frozen=True)
class Unit:
    """How a unit-typed value is named, printed and described."""

    name: str
    format: Callable[[int], str]
    example: str


@dataclass(frozen=True)
class Wiring:
    """Marks a property whose value names another object, and what it connects.

    :param kind: ``irq`` (an output wired to an input line), ``clock`` (a frequency or a
        clock object), ``link`` (any object reference).
    :param target: the category the referenced object must have (``cpu``, ``memory``,
        ``clock``), or None for any.
    """

    kind: str
    target: str | None = None


@dataclass(frozen=True)
class FilePath:
    """Marks a property whose value names a file (or socket) on the host.

    Every such value resolves one way: a relative path set in a file starts at the
    directory of that file; one set by ``--set`` or over QMP starts at the working
    directory. Validation makes it absolute (:meth:`locate`), so a resolved document
    names the same files wherever it is read from.

    :param prefixes: for a value that is a path only after a prefix (a console's
        ``file:PATH`` and ``unix:PATH``); other values (``stdio``, ``tcp:...``, an object's
        path) are left as they are. Empty: the whole value is a path.
    """

    prefixes: tuple[str, ...] = ()

    def split(self, value: str) -> tuple[str, str] | None:
        """``(prefix, path)`` of ``value``, None when it names no file."""
        if not self.prefixes:
            return ("", value) if value else None
        for prefix in self.prefixes:
            if value.startswith(prefix) and len(value) > len(prefix):
                return prefix, value[len(prefix) :]
        return None

    def locate(self, value: Any, origin: Origin | None) -> Any:
        """``value`` with its path made absolute: from the directory of the file
        ``origin`` is in, or the working directory (``--set``, QMP, no origin)."""
        if not isinstance(value, str):
            return value
        parts = self.split(value)
        if parts is None or os.path.isabs(parts[1]):
            return value
        source = origin.source.path if origin is not None else None
        base = os.path.dirname(source) if source is not None else os.getcwd()
        return parts[0] + _joined(base, parts[1])

    def relative(self, value: Any, start: str) -> Any:
        """``value`` with its absolute path made relative to the directory ``start`` (a
        document written there reads back to the same file)."""
        if not isinstance(value, str):
            return value
        parts = self.split(value)
        if parts is None or not os.path.isabs(parts[1]):
            return value
        return parts[0] + os.path.relpath(parts[1], start)


def _joined(base: str, path: str) -> str:
    """``base/path`` without ``..`` and ``.`` where dropping them names the same file (a
    ``..`` after a symbolic link does not)."""
    joined = os.path.join(base, path)
    tidy = os.path.normpath(joined)
    if tidy == joined:
        return joined
    try:
        if os.path.exists(joined) and not os.path.samefile(joined, tidy):
            return joined
    except (OSError, ValueError):
        return joined
    return tidy


HZ = Unit("Hz", units.format_frequency, "1GHz")
BYTES = Unit("bytes", units.format_size, "64KiB")
ADDRESS = Unit("address", lambda v: f"0x{v:x}", "0x8000_0000")
NS = Unit("ns", units.format_duration, "10ms")

UNITS = {unit.name: unit for unit in (HZ, BYTES, ADDRESS, NS)}
"""Every unit by its name."""

_T = typing.TypeVar("_T")


def _marker(metadata: list[Any], annotation: Any, cls: type[_T]) -> _T | None:
    for item in metadata:
        if isinstance(item, cls):
            return item
    if annotation is not None:
        for arg in typing.get_args(annotation):
            found = _marker(list(getattr(arg, "__metadata__", ())), arg, cls)
            if found is not None:
                return found
    return None


def unit_of(metadata: list[Any], annotation: Any = None) -> Unit | None:
    """The :class:`Unit` among a field's metadata, or inside its annotation (for
    ``Frequency | None``), if any."""
    return _marker(metadata, annotation, Unit)


def path_of(metadata: list[Any], annotation: Any = None) -> FilePath | None:
    """The :class:`FilePath` of a field (``HostPath | None``...), if any."""
    return _marker(metadata, annotation, FilePath)


def wiring_of(metadata: list[Any], annotation: Any = None) -> Wiring | None:
    """The :class:`Wiring` of a field (``IrqRef | None``, ``list[IrqRef]``...), if any."""
    return _marker(metadata, annotation, Wiring)
