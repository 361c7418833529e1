"""The type registry: type names -> property declarations.

Modules feed it: each provides ``register(registry)`` that calls :meth:`TypeRegistry.add`.
The built-in modules are listed in :data:`qconf.devices.BUILTIN_MODULES`; there is no
module-level registry, so several independent registries (and machines) can coexist.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from qconf.config.origin import Origin
from qconf.errors import ValidationError
from qconf.model.props import Props, Unit, unit_of

__all__ = ("TypeInfo", "TypeRegistry", "builtin_registry")


@dataclass(frozen=True)
class TypeInfo:
    """One object type: its name, property model, and where it comes from.

    :param category: a family name for listings (``cpu``, ``memory``, ``uart``...).
    :param module: the module that registered it.
    """

    name: str
    props: type[Props]
    description: str
    category: str
    module: str = "builtin"

    @cached_property
    def prop_names(self) -> frozenset[str]:
        return frozenset(self.props.model_fields)

    @cached_property
    def units(self) -> dict[str, Unit]:
        out = {}
        for name, info in self.props.model_fields.items():
            unit = unit_of(info.metadata, info.annotation)
            if unit is not None:
                out[name] = unit
        return out

    def format(self, prop: str, value: Any) -> Any:
        """``value`` of ``prop`` as a person would write it (``1GHz``, ``0x80000000``)."""
        unit = self.units.get(prop)
        if unit is None or not isinstance(value, int) or isinstance(value, bool):
            return value
        return unit.format(value)


@dataclass
class TypeRegistry:
    """Type names to :class:`TypeInfo`; fed by modules."""

    _types: dict[str, TypeInfo] = field(default_factory=dict)

    def add(self, info: TypeInfo) -> None:
        """Register a type.

        :raises ValueError: the name is taken (naming both modules).
        """
        old = self._types.get(info.name)
        if old is not None:
            raise ValueError(
                f"type {info.name!r} from module {info.module!r} is already "
                f"registered by module {old.module!r}"
            )
        self._types[info.name] = info

    def load_module(self, module: str) -> None:
        """Import ``module`` and call its ``register(registry)``."""
        register: Callable[[TypeRegistry], None] = importlib.import_module(module).register
        register(self)

    def get(self, name: str, *, origin: Origin | None = None, path: str | None = None) -> TypeInfo:
        """The type called ``name``.

        :raises ValidationError: no such type; the hint has the closest names.
        """
        info = self._types.get(name)
        if info is None:
            raise ValidationError(
                f"unknown type {name!r}",
                code="E401",
                origin=origin,
                path=path,
                hint=self.suggest(name),
            )
        return info

    def find(self, name: str) -> TypeInfo | None:
        return self._types.get(name)

    def declared(self, name: str) -> frozenset[str] | None:
        """The property names of type ``name`` (for ``--set`` checks), None if unknown."""
        info = self._types.get(name)
        return None if info is None else info.prop_names

    def suggest(self, name: str) -> str:
        close = difflib.get_close_matches(name, list(self._types), n=3, cutoff=0.5)
        if close:
            return (
                "did you mean " + " or ".join(f"'{c}'" for c in close) + "? (qconf types lists all)"
            )
        return "known types: " + ", ".join(sorted(self._types))

    def __iter__(self) -> Iterator[TypeInfo]:
        return iter(sorted(self._types.values(), key=lambda t: (t.category, t.name)))

    def __len__(self) -> int:
        return len(self._types)


def builtin_registry(modules: Sequence[str] | None = None) -> TypeRegistry:
    """A new registry with the built-in device modules loaded."""
    from qconf.devices import BUILTIN_MODULES

    registry = TypeRegistry()
    for module in modules if modules is not None else BUILTIN_MODULES:
        registry.load_module(module)
    return registry
