"""From files and ``--set`` arguments to one validated machine document.

load layers -> collect component types -> merge (the one layering loop) -> bind ``smp``
in expressions -> expand component instances -> copy the ``smp`` CPUs -> validate.

The stages import when a resolve starts (they bring the YAML reader and pydantic): a run
that starts from a machine snapshot imports this package without them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from qconf.config.node import Node, gc_paused
from qconf.config.search import SearchPath
from qconf.errors import Problems
from qconf.model.document import Document
from qconf.model.registry import TypeRegistry, builtin_registry

if TYPE_CHECKING:
    from qconf.config.layers import Layer

__all__ = ("COMPONENTS_KEY", "edit_resolver", "registry_for", "resolve", "resolve_layers")

COMPONENTS_KEY = "components"


def resolve(
    files: Sequence[str | Path],
    sets: Sequence[str] = (),
    *,
    include_dirs: Sequence[str | Path] = (),
    registry: TypeRegistry | None = None,
) -> Document:
    """Load ``files`` (lowest first) and ``sets``, merge, expand components, validate.

    :raises QconfError: any source, layering, override or validation error (validation
        errors come together as :class:`~qconf.errors.Problems`).
    """
    from qconf.config.layers import load_layers

    with gc_paused():
        search = SearchPath.default(include_dirs)
        layers = load_layers(files, sets, search)
        return resolve_layers(layers, registry, search)


def registry_for(
    search: SearchPath | None = None,
    layers: Sequence[Layer] = (),
    registry: TypeRegistry | None = None,
) -> TypeRegistry:
    """``registry`` (default: the built-in types and plugins) plus the component types in
    the search path's ``components/`` directories and in the layers' ``components:``."""
    from qconf.config.layers import FileLayer
    from qconf.config.merge import merge
    from qconf.model.composite import component_files, components_of, load_component_file

    registry = registry or builtin_registry()
    defs = {}
    for path in component_files(search or SearchPath.default()):
        defs[path.stem] = load_component_file(path)
    section: Node | None = None
    for layer in layers:
        if isinstance(layer, FileLayer):
            part = layer.tree.value.get(COMPONENTS_KEY)
            if part is not None:
                section = part if section is None else merge(section, part, strict=True)
    for comp in components_of(section):
        defs[comp.name] = comp
    if not defs:
        return registry
    return registry.extended([d.type_info() for d in defs.values()])


def resolve_layers(
    layers: Sequence[Layer],
    registry: TypeRegistry | None = None,
    search: SearchPath | None = None,
) -> Document:
    """Merge already loaded ``layers``, expand components, and validate the result."""
    from qconf.config.layers import merge_layers
    from qconf.model.elaborate import elaborate
    from qconf.model.smp import bind_smp, replicate
    from qconf.model.validate import validate

    with gc_paused():
        registry = registry_for(search, layers, registry)
        merged = merge_layers(layers, registry.declared)
        if COMPONENTS_KEY in merged.value:
            merged = Node({k: v for k, v in merged.value.items() if k != COMPONENTS_KEY},
                          merged.origin)  # fmt: skip
        merged, errors = bind_smp(merged)
        if errors:  # an expression left unevaluated would only fail again below
            raise errors[0] if len(errors) == 1 else Problems(errors)
        tree, errors = elaborate(merged, registry)
        tree, copied = replicate(tree, registry)
        errors += copied
        try:
            doc = validate(tree, registry, layers)
        except Problems as problems:
            raise Problems([*errors, *problems.errors]) from None
        if errors:
            raise errors[0] if len(errors) == 1 else Problems(errors)
        return doc


def edit_resolver(
    include_dirs: Sequence[str | Path] = (),
) -> Callable[[Path, Sequence[str], str, bool], Node | None]:
    """How ``qconf set`` (:func:`qconf.config.edit.edit_file`) resolves: ``run(path,
    sets, text, lower)`` is the tree of ``path`` holding ``text`` with ``sets``, or with
    ``lower`` the tree of what it extends (merged only, if that does not resolve on its
    own; None if it extends nothing)."""
    from qconf.config.layers import load_layers, merge_layers
    from qconf.errors import QconfError

    search = SearchPath.default(include_dirs)

    def run(path: Path, sets: Sequence[str], text: str, lower: bool) -> Node | None:
        texts = {Path(os.path.realpath(path)): text}
        layers = load_layers([path], sets, search, texts)
        if not lower:
            return resolve_layers(layers, search=search).tree
        below = layers[:-1]
        if not below:
            return None
        # with components expanded: a key deleted there may come from a template
        try:
            return resolve_layers(below, search=search).tree
        except QconfError:
            return merge_layers(below)

    return run
