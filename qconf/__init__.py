"""qconf: declarative, layered machine definitions for emulated machines.

The pipeline: :func:`resolve` reads profiles, user files and ``--set`` arguments into one
validated :class:`Document` whose every value knows where it was set.
"""

from qconf.errors import (
    EditError,
    LayerError,
    OverrideError,
    Problems,
    QconfError,
    SourceError,
    ValidationError,
)
from qconf.model.document import Document
from qconf.model.registry import TypeInfo, TypeRegistry, builtin_registry
from qconf.resolve import resolve

__version__ = "0.1.0"

# classes, most to least important; exceptions, most generic to most explicit
__all__ = (
    "Document",
    "TypeInfo",
    "TypeRegistry",
    "builtin_registry",
    "resolve",
    "QconfError",
    "Problems",
    "SourceError",
    "LayerError",
    "OverrideError",
    "ValidationError",
    "EditError",
)
