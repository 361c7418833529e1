"""The type registry: type names -> everything qconf knows about each type.

A :class:`TypeInfo` holds a type's property model and its facets: where its objects sit
(regions), their interrupt inputs, the host resources they need (backends), what they do
when the machine runs (behaviour), their device-tree node (fdt) and, for CPUs, their
architecture (see :mod:`qconf.model.facets`).

Modules feed it: each provides ``register(registry)`` that calls :meth:`TypeRegistry.add`.
The built-in modules are listed in :data:`qconf.devices.BUILTIN_MODULES` and load at once
(they only declare). Plugins are distributions with an entry point in the
``qconf.modules`` group whose value is their ``register`` function; they load lazily,
when a type is asked for that no loaded module provides, or when types are listed. A
module that cannot be imported, or fails while registering, is recorded with the reason
(:class:`ModuleFailure`): listings show it, lookups of its types explain it, and nothing
else is affected. There is no module-level registry, so several registries (and machines)
can coexist.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any

from qconf.config.origin import Origin
from qconf.errors import BuildError, QconfError, ValidationError
from qconf.model.annotations import FilePath, Unit, Wiring, path_of, unit_of, wiring_of
from qconf.model.facets import ArchInfo, Ref, load

if TYPE_CHECKING:  # the property models need pydantic; a snapshot's machine runs without
    from qconf.model.props import Props

__all__ = (
    "BACKEND_KINDS",
    "ModuleFailure",
    "PropFacts",
    "Region",
    "TypeInfo",
    "TypeRegistry",
    "builtin_registry",
    "region_from_base_size",
)

ENTRY_POINT_GROUP = "qconf.modules"

BACKEND_KINDS = ("chardev", "memory", "rom", "program")
"""The host resources a type may need (:attr:`TypeInfo.backends`), which the builder makes
as objects under ``/machine/backends``: ``chardev`` a character backend named by its
``chardev`` property; ``memory`` a host buffer of its ``size``; ``rom`` a read-only one,
with the file of its ``file`` property (if set) copied in at its ``base``; ``program`` a
CPU's ``firmware``, loaded as an ELF or at its ``reset_vector``."""


@dataclass(frozen=True)
class Region:
    """One window an object occupies in an address space.

    :param name: the window's name within its object (``regs``, ``dist``...).
    :param kind: ``ram``, ``rom``, ``mmio`` or ``alias``.
    """

    name: str
    base: int
    size: int
    kind: str = "mmio"
    priority: int = 0


def region_from_base_size(kind: str) -> Callable[[Mapping[str, Any]], Sequence[Region]]:
    def regions(values: Mapping[str, Any]) -> Sequence[Region]:
        base, size = values.get("base"), values.get("size")
        if base is None or size is None:
            return ()
        return (Region("regs" if kind == "mmio" else kind, base, size, kind,
                       values.get("priority", 0)),)  # fmt: skip

    return regions


MMIO_REGION = region_from_base_size("mmio")
"""The default layout: one ``mmio`` window from the ``base`` and ``size`` properties."""


def no_regions(values: Mapping[str, Any]) -> Sequence[Region]:
    """The layout of a type that is on no bus (backends, clocks, reset domains)."""
    return ()


@dataclass(frozen=True)
class PropFacts:
    """What a type knows of its properties without its model: a type restored from the
    machine cache carries these instead of importing pydantic."""

    names: frozenset[str]
    units: dict[str, Unit]
    wires: dict[str, Wiring]


@dataclass(frozen=True)
class TypeInfo:
    """One object type: everything qconf knows about it, in one place.

    The property model validates configuration; the other facets say what objects of the
    type are and do, so that the builder, the emulator, the device tree, the views and
    QMP read facets instead of comparing type names.

    :param props: the property model (pydantic); None for a type restored from the
        machine cache, which carries :attr:`facts` instead (:meth:`model` finds it).
    :param category: a family name for listings (``cpu``, ``memory``, ``uart``...).
    :param module: the module that registered it.
    """

    name: str
    props: type[Props] | None
    description: str
    category: str
    module: str = "builtin"
    regions: Callable[[Mapping[str, Any]], Sequence[Region]] = MMIO_REGION
    """Where objects of this type sit in their address space, from their property values
    (default: one window at ``base`` of ``size``)."""
    irq_inputs: Callable[[Mapping[str, Any]], Mapping[str, int]] | None = None
    """Interrupt input lines and how many of each (``{"in": 96}``); None: no inputs."""
    runtime: frozenset[str] = frozenset()
    """Properties that stay writable once the object is realized."""
    hotpluggable: bool = False
    """Whether objects of this type may join or leave a built machine (RAM)."""
    behaviour: Ref | Callable[..., Any] | None = None
    """What an object of this type does when the machine runs: its device model (called
    as ``model(obj, context)``, see :mod:`qconf.emu.context`) or, for a CPU, its core.
    None: the type only holds properties (a device without one reads as 0)."""
    hooks: Callable[..., Any] | None = None
    """Life-cycle hooks at build time: called as ``hooks(obj, machine)`` when an object
    is realized; what it returns (:class:`~qconf.model.objects.Hooks`) is realized, reset
    and unrealized with the object. None: nothing to do."""
    fdt: Ref | Callable[..., Any] | None = None
    """Writes the object's device-tree node (see :mod:`qconf.dtb`); None: no node."""
    backends: tuple[str, ...] = ()
    """The host resources its objects need (:data:`BACKEND_KINDS`), made by the builder."""
    arch: Ref | ArchInfo | None = None
    """For a CPU, its architecture (:class:`~qconf.model.facets.ArchInfo`)."""
    check: Callable[..., Sequence[QconfError]] | None = None
    """Checks of one object at the build's check step, once links are resolved: called as
    ``check(obj, machine)``, the problems it finds (a clock with neither or both of its
    sources...)."""
    composite: Any = None
    """For a component type, its :class:`~qconf.model.composite.CompositeDef`."""
    facts: PropFacts | None = None
    """For a type restored from the machine cache: its properties without the model."""

    def model(self) -> type[Props]:
        """The property model, found in the built-in registry for a restored type.

        :raises LookupError: a restored type that no built-in module declares.
        """
        if self.props is not None:
            return self.props
        info = _builtin().find(self.name)
        if info is None or info.props is None:
            raise LookupError(f"type {self.name!r} is not a built-in type")
        return info.props

    @cached_property
    def arch_info(self) -> ArchInfo | None:
        """The architecture of a CPU type (imported on first use), else None."""
        if self.arch is None or isinstance(self.arch, ArchInfo):
            return self.arch
        found: ArchInfo = load(self.arch)
        return found

    @cached_property
    def defaults(self) -> dict[str, Any]:
        """The declared defaults (shared: property values are never changed in place)."""
        if self.props is None:
            return {}
        return dict(self.props.model_construct())

    @cached_property
    def wires(self) -> dict[str, Wiring]:
        """The properties that reference other objects (IRQ wires, clocks, links)."""
        if self.props is None:
            return dict(self.facts.wires) if self.facts else {}
        out = {}
        for name, info in self.props.model_fields.items():
            w = wiring_of(info.metadata, info.annotation)
            if w is not None:
                out[name] = w
        return out

    @cached_property
    def prop_names(self) -> frozenset[str]:
        if self.props is None:
            return self.facts.names if self.facts else frozenset()
        return frozenset(self.props.model_fields)

    @cached_property
    def units(self) -> dict[str, Unit]:
        if self.props is None:
            return dict(self.facts.units) if self.facts else {}
        out = {}
        for name, info in self.props.model_fields.items():
            unit = unit_of(info.metadata, info.annotation)
            if unit is not None:
                out[name] = unit
        return out

    @cached_property
    def paths(self) -> dict[str, FilePath]:
        """The properties that name files on the host (see
        :class:`~qconf.model.annotations.FilePath`); a restored type reads them from its
        built-in model."""
        try:
            fields = self.model().model_fields
        except LookupError:
            return {}
        out = {}
        for name, info in fields.items():
            marker = path_of(info.metadata, info.annotation)
            if marker is not None:
                out[name] = marker
        return out

    def problems(self) -> list[str]:
        """What is wrong with the type's facets (each reference is imported): a reference
        naming nothing, a CPU without a core, a backend its properties cannot feed."""
        out: list[str] = []
        loaded: dict[str, Any] = {}
        for facet in ("behaviour", "fdt", "arch"):
            ref = getattr(self, facet)
            if ref is None:
                continue
            try:
                loaded[facet] = load(ref) if isinstance(ref, str) else ref
            except Exception as exc:  # any import failure is the answer
                out.append(f"{facet} {ref!r} names nothing: {type(exc).__name__}: {exc}")
        for facet in ("behaviour", "fdt", "check", "hooks"):
            value = loaded.get(facet, getattr(self, facet))
            if value is not None and not callable(value):
                out.append(f"{facet} is not callable: {value!r}")
        arch = loaded.get("arch")
        if self.arch is not None and not isinstance(arch, ArchInfo):
            out.append(f"arch {self.arch!r} is not an ArchInfo")
        if self.arch is not None and self.behaviour is None:
            out.append("a CPU type (it has an arch) without a core (behaviour)")
        if isinstance(arch, ArchInfo):
            for what, ref in ((w, getattr(arch, w)) for w in ("device_tree", "gdb", "boot",
                                                                "smp_ids")):  # fmt: skip
                try:
                    if ref is not None:
                        load(ref)
                except Exception as exc:  # any import failure is the answer
                    out.append(f"arch {what} {ref!r} names nothing: {exc}")
            for reg in arch.registers + arch.system_registers:
                if arch.register_number(reg) is None:
                    out.append(f"arch register {reg!r} has no number in {arch.unicorn_registers}")
        needs = {"chardev": ("chardev",), "memory": ("size",), "rom": ("size", "base"),
                 "program": ("firmware", "reset_vector")}  # fmt: skip
        for kind in self.backends:
            if kind not in BACKEND_KINDS:
                out.append(f"backend {kind!r} is not one of {', '.join(BACKEND_KINDS)}")
            for prop in needs.get(kind, ()):
                if prop not in self.prop_names:
                    out.append(f"backend {kind!r} needs property {prop!r}")
        if "program" in self.backends and self.arch is None:
            out.append("backend 'program' is for CPU types (with an arch)")
        return out

    def format(self, prop: str, value: Any) -> Any:
        """``value`` of ``prop`` as a person would write it (``1GHz``, ``0x80000000``)."""
        unit = self.units.get(prop)
        if unit is None or not isinstance(value, int) or isinstance(value, bool):
            return value
        return unit.format(value)


@dataclass(frozen=True)
class ModuleFailure:
    """A module that could not be imported or failed while registering its types.

    :param types: the types it had registered before failing (removed again), if any.
    """

    module: str
    reason: str
    types: tuple[str, ...] = ()


@dataclass
class TypeRegistry:
    """Type names to :class:`TypeInfo`; fed by modules."""

    _types: dict[str, TypeInfo] = field(default_factory=dict)
    _pending: dict[str, Callable[[], Callable[[TypeRegistry], None]]] = field(default_factory=dict)
    failures: dict[str, ModuleFailure] = field(default_factory=dict)
    _unavailable: dict[str, ModuleFailure] = field(default_factory=dict)
    _discover: bool = False

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
        """Import ``module`` and call its ``register(registry)`` now; a failure is
        recorded in :attr:`failures`, never raised."""
        self._load(module, _importer(module))

    def load_module_from(
        self, name: str, loader: Callable[[], Callable[[TypeRegistry], None]]
    ) -> None:
        """Load module ``name`` whose ``register`` function ``loader`` returns, now, as
        :meth:`load_module` does (a failure is recorded, never raised)."""
        self._load(name, loader)

    def defer_module(self, name: str, loader: Callable[[], Callable[[TypeRegistry], None]]) -> None:
        """Remember a module to load when its types are first needed."""
        self._pending[name] = loader

    def discover_plugins(self) -> None:
        """Look for ``qconf.modules`` entry points when a type is first missing or types are
        listed (reading the installed packages' metadata takes a while: a machine of
        built-in types never pays for it)."""
        self._discover = True

    def _discover_now(self) -> None:
        if not self._discover:
            return
        self._discover = False
        import importlib.metadata

        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if ep.name not in self._pending and ep.name not in self.failures:
                self.defer_module(ep.name, ep.load)

    def load_pending(self) -> None:
        """Load every deferred module now (for listings)."""
        self._discover_now()
        while self._pending:
            name, loader = self._pending.popitem()
            self._load(name, loader)

    def _load(
        self,
        module: str,
        loader: Callable[[], Callable[[TypeRegistry], None]],
        *,
        complete: bool = True,
    ) -> None:
        before = set(self._types)
        try:
            register = loader()
            register(self)
            if complete:  # property models build lazily; a broken one fails its module now
                for name in sorted(set(self._types) - before):
                    info = self._types[name]
                    info.model().model_rebuild()
                    problems = info.problems()
                    if problems:
                        raise TypeError(f"type {name!r}: " + "; ".join(problems))
        except Exception as exc:  # a plugin may fail in any way; record it, go on
            added = tuple(sorted(set(self._types) - before))
            for name in added:
                del self._types[name]
            import traceback

            where = traceback.extract_tb(exc.__traceback__)[-1:]
            at = f" ({where[0].filename}:{where[0].lineno})" if where else ""
            failure = ModuleFailure(module, f"{type(exc).__name__}: {exc}{at}", added)
            self.failures[module] = failure
            for name in added:
                self._unavailable[name] = failure

    def get(self, name: str, *, origin: Origin | None = None, path: str | None = None) -> TypeInfo:
        """The type called ``name``.

        :raises BuildError: the type's module failed to load (naming module and reason).
        :raises ValidationError: no such type; the hint has the closest names.
        """
        info = self.find(name)
        if info is None:
            failure = self._unavailable.get(name)
            if failure is not None:
                raise self.unavailable_error(name, failure, origin=origin, path=path)
            raise ValidationError(
                f"unknown type {name!r}",
                code="E401",
                origin=origin,
                path=path,
                hint=self.suggest(name),
            )
        return info

    def unavailable(self, name: str) -> ModuleFailure | None:
        """Why type ``name`` cannot be used, if a module that provides it failed."""
        self.find(name)
        return self._unavailable.get(name)

    @staticmethod
    def unavailable_error(
        name: str, failure: ModuleFailure, *, origin: Origin | None, path: str | None
    ) -> BuildError:
        return BuildError(
            f"type {name!r} is unavailable: module {failure.module!r} failed to load: "
            f"{failure.reason}",
            code="E601",
            origin=origin,
            path=path,
            hint="fix or reinstall the module (qconf types lists what failed), or use another type",
        )

    def find(self, name: str) -> TypeInfo | None:
        """The type called ``name``, loading deferred modules if no loaded one has it."""
        info = self._types.get(name)
        if info is None and (self._pending or self._discover):
            self.load_pending()
            info = self._types.get(name)
        return info

    def declared(self, name: str) -> frozenset[str] | None:
        """The property names of type ``name`` (for ``--set`` checks), None if unknown;
        for a component, an :class:`~qconf.config.overrides.Open` set: its instances
        also hold the children it expands to."""
        from qconf.config.overrides import Open

        info = self.find(name)
        if info is None:
            return None
        return Open(info.prop_names) if info.composite is not None else info.prop_names

    def extended(self, infos: Sequence[TypeInfo]) -> TypeRegistry:
        """A new registry with this one's types and modules plus ``infos``."""
        out = TypeRegistry(
            dict(self._types), dict(self._pending), dict(self.failures),
            dict(self._unavailable), self._discover,
        )  # fmt: skip
        for info in infos:
            out._types[info.name] = info  # a document's component may shadow a file's
        return out

    def suggest(self, name: str) -> str:
        self.load_pending()
        import difflib

        close = difflib.get_close_matches(name, list(self._types), n=3, cutoff=0.5)
        failed = ""
        if self.failures:
            failed = "\nmodules that failed to load: " + ", ".join(
                f"{f.module} ({f.reason})" for f in self.failures.values()
            )
        if close:
            return (
                "did you mean " + " or ".join(f"'{c}'" for c in close) + "? (qconf types lists all)"
            ) + failed
        return "known types: " + ", ".join(sorted(self._types)) + failed

    def __iter__(self) -> Iterator[TypeInfo]:
        self.load_pending()
        return iter(sorted(self._types.values(), key=lambda t: (t.category, t.name)))

    def __len__(self) -> int:
        self.load_pending()
        return len(self._types)


def _importer(module: str) -> Callable[[], Callable[[TypeRegistry], None]]:
    return lambda: importlib.import_module(module).register


@cache
def _builtin() -> TypeRegistry:
    """The built-in types, loaded once per process (restored types find their models here)."""
    return builtin_registry(plugins=False)


def builtin_registry(modules: Sequence[str] | None = None, *, plugins: bool = True) -> TypeRegistry:
    """A new registry with the built-in device modules loaded and, unless ``plugins`` is
    false, the installed plugin modules found (they load when first needed).

    :raises RuntimeError: a built-in module failed to register (a bug in qconf).
    """
    from qconf.devices import BUILTIN_MODULES

    registry = TypeRegistry()
    for module in BUILTIN_MODULES if modules is None else modules:
        # built-in property models build when first used (a test builds every one)
        registry._load(module, _importer(module), complete=modules is not None)
    if registry.failures and modules is None:
        raise RuntimeError(f"built-in modules failed: {registry.failures}")
    if plugins:
        registry.discover_plugins()
    return registry
