"""The type registry as a whole: every built-in type's facets are sound, and a plugin with
a broken facet fails its module cleanly instead of running a device as unimplemented."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from qconf.devices.base import Device
from qconf.emu.core import Core
from qconf.model.facets import ArchInfo, load
from qconf.model.registry import BACKEND_KINDS, TypeInfo, TypeRegistry, builtin_registry

REGISTRY = builtin_registry(plugins=False)
TYPES = {info.name: info for info in REGISTRY}

NO_MODEL = {"unimplemented"}
"""Types whose objects take a register window without a model, on purpose."""


def _default_regions(info: TypeInfo) -> list[str]:
    given = {"base": 0x1000_0000, "size": 0x1000, "dist_base": 0, "cpu_base": 0x10000,
             "redist_base": 0x20000, "version": 2}  # fmt: skip
    values = {k: v for k, v in given.items() if k in info.prop_names} | info.defaults
    return [r.kind for r in info.regions(values)]


@pytest.mark.parametrize("name", sorted(TYPES))
def test_every_builtin_type_is_sound(name: str) -> None:
    info = TYPES[name]
    assert info.problems() == []
    assert info.module.startswith("qconf.")
    assert set(info.backends) <= set(BACKEND_KINDS)
    if info.arch is not None:
        core = load(info.behaviour)
        assert inspect.isclass(core) and issubclass(core, Core)
        assert isinstance(info.arch_info, ArchInfo)
        assert info.category == "cpu" and "program" in info.backends
    elif "mmio" in _default_regions(info) and name not in NO_MODEL:
        model = load(info.behaviour) if info.behaviour is not None else None
        assert inspect.isclass(model) and issubclass(model, Device), f"{name} has no model"
        assert callable(model.read) and callable(model.write)
    if info.fdt is not None:
        assert list(inspect.signature(load(info.fdt)).parameters) == ["w", "obj", "depth"]
    if "chardev" in info.prop_names:
        assert "chardev" in info.backends


def test_every_cpu_architecture_is_described() -> None:
    archs = {info.arch_info.name: info.arch_info for info in TYPES.values() if info.arch_info}
    assert sorted(archs) == ["aarch64", "cortex-m", "riscv32", "riscv64"]
    for arch in archs.values():
        assert arch.disassemble(b"", 0) == "(no code at pc)"
        assert arch.register_number("pc") is not None


def test_the_registry_covers_every_builtin_module() -> None:
    from qconf.devices import BUILTIN_MODULES

    assert {info.module for info in TYPES.values()} == set(BUILTIN_MODULES)


@pytest.mark.parametrize(
    ("base", "facet", "value", "message"),
    [
        ("ns16550a", "behaviour", "qconf.devices.uart.ns16550a:Ns16550b",
         "behaviour 'qconf.devices.uart.ns16550a:Ns16550b' names nothing: AttributeError"),
        ("ns16550a", "fdt", "qconf.devices.uart.nowhere:fdt_node",
         "fdt 'qconf.devices.uart.nowhere:fdt_node' names nothing: ModuleNotFoundError"),
        ("ns16550a", "backends", ("chardev", "disk"), "backend 'disk' is not one of"),
        ("ns16550a", "backends", ("program",), "backend 'program' needs property 'firmware'"),
        ("riscv64", "behaviour", None, "a CPU type (it has an arch) without a core"),
        ("riscv64", "arch", "qconf.arch.riscv:RV65", "arch 'qconf.arch.riscv:RV65' names"),
    ],
)  # fmt: skip
def test_a_typo_in_a_facet_fails_the_module_that_made_it(
    base: str, facet: str, value: object, message: str
) -> None:
    """A misspelt model no longer runs its device as unimplemented: the module that
    registered the type fails to load, and says why."""
    broken = dataclasses.replace(TYPES[base], name="ns16550x", module="plugin_x",
                                 **{facet: value})  # fmt: skip
    assert any(message in p for p in broken.problems())
    registry = TypeRegistry()
    registry.load_module_from("plugin_x", lambda: lambda r: r.add(broken))
    failure = registry.failures["plugin_x"]
    assert failure.module == "plugin_x" and message in failure.reason
    assert registry.find("ns16550x") is None
