"""qconf: declarative, layered machine definitions for emulated machines.

The pipeline: :func:`resolve` reads profiles, user files and ``--set`` arguments into one
validated :class:`Document` whose every value knows where it was set; :func:`build` turns
it into a :class:`Machine`, a tree of typed objects with its address spaces, interrupt
wires, clocks and resets.

The names that need the configuration pipeline (pydantic, the YAML reader) import when
first used: running a machine from its snapshot (:mod:`qconf.build.snapshot`) never loads
them.
"""

from typing import TYPE_CHECKING, Any

from qconf.build.builder import build
from qconf.build.machine import Machine
from qconf.errors import (
    BuildError,
    EditError,
    LayerError,
    OverrideError,
    Problems,
    QconfError,
    SourceError,
    StateError,
    ValidationError,
)
from qconf.model.objects import Object

if TYPE_CHECKING:
    from qconf.model.document import Document
    from qconf.model.registry import TypeInfo, TypeRegistry, builtin_registry
    from qconf.resolve import resolve

__version__ = "0.1.0"

_LAZY = {
    "Document": "qconf.model.document",
    "TypeInfo": "qconf.model.registry",
    "TypeRegistry": "qconf.model.registry",
    "builtin_registry": "qconf.model.registry",
    "resolve": "qconf.resolve",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'qconf' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


# classes, most to least important; exceptions, most generic to most explicit
__all__ = (
    "Machine",
    "Object",
    "Document",
    "TypeInfo",
    "TypeRegistry",
    "build",
    "builtin_registry",
    "resolve",
    "QconfError",
    "Problems",
    "SourceError",
    "LayerError",
    "OverrideError",
    "ValidationError",
    "EditError",
    "BuildError",
    "StateError",
)
