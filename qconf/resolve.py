"""From files and ``--set`` arguments to one validated machine document."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from qconf.config.layers import Layer, load_layers, merge_layers
from qconf.config.node import gc_paused
from qconf.config.search import SearchPath
from qconf.model.document import Document
from qconf.model.registry import TypeRegistry, builtin_registry
from qconf.model.validate import validate

__all__ = ("resolve", "resolve_layers")


def resolve(
    files: Sequence[str | Path],
    sets: Sequence[str] = (),
    *,
    include_dirs: Sequence[str | Path] = (),
    registry: TypeRegistry | None = None,
) -> Document:
    """Load ``files`` (lowest first) and ``sets``, merge, validate.

    :raises QconfError: any source, layering, override or validation error (validation
        errors come together as :class:`~qconf.errors.Problems`).
    """
    with gc_paused():
        layers = load_layers(files, sets, SearchPath.default(include_dirs))
        return resolve_layers(layers, registry)


def resolve_layers(layers: Sequence[Layer], registry: TypeRegistry | None = None) -> Document:
    """Merge already loaded ``layers`` and validate the result."""
    registry = registry or builtin_registry()
    with gc_paused():
        merged = merge_layers(layers, registry.declared)
        return validate(merged, registry, layers)
