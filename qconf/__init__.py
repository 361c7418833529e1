"""qconf: declarative, layered machine definitions for emulated machines.

The pipeline: :func:`resolve` reads profiles, user files and ``--set`` arguments into one
validated :class:`Document` whose every value knows where it was set; :func:`build` turns
it into a :class:`Machine`, a tree of typed objects with its address spaces, interrupt
wires, clocks and resets.

Importing qconf is light: the resolve pipeline imports its stages (the YAML reader,
pydantic) when it first runs, so a run from a machine snapshot
(:mod:`qconf.assembly.snapshot`) never loads them.
"""

from qconf.assembly.builder import build
from qconf.assembly.machine import Machine
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
from qconf.model.document import Document
from qconf.model.objects import Object
from qconf.model.registry import TypeInfo, TypeRegistry, builtin_registry
from qconf.resolve import resolve

__version__ = "0.1.0"

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
