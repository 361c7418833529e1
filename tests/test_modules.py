"""Loadable modules: real plugin packages, pip-installed for the test session.

``tests/plugins/`` holds three distributions with a ``qconf.modules`` entry point: one
that works (type ``blinker``), one that fails at import, one that fails half-way
through registering (type ``halfway-dev``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import qconf
from qconf.cli import main
from tests.helpers import MACHINES, REPO, write

PLUGINS = REPO / "tests" / "plugins"
PLUGIN_MODULES = ("qconf_demo", "qconf_broken", "qconf_halfway")


@pytest.fixture(scope="session")
def plugin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    packages = [str(PLUGINS / name) for name in
                ("qconf-demo-plugin", "qconf-broken-plugin", "qconf-halfway-plugin")]  # fmt: skip
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--disable-pip-version-check", "--target", str(target), *packages],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return target


@pytest.fixture
def plugins(plugin_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(plugin_dir))
    for name in PLUGIN_MODULES:
        monkeypatch.delitem(sys.modules, name, raising=False)
    return plugin_dir


BOARD = """\
extends: riscv-virt
soc:
  led:
    type: blinker
    base: 0x3000_0000
    period: 250ms
    irq: plic.in[5]
"""


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_plugin_types_are_listed_with_failed_modules(plugins):
    r = run("types")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert "gpio:" in lines
    assert "  blinker              An LED that blinks.  [module qconf_demo]" in lines
    tail = lines[lines.index("unavailable (a module failed to load):") :]
    assert tail == [
        "unavailable (a module failed to load):",
        "  module broken (types unknown): ModuleNotFoundError: No module named "
        f"'qconf_missing_dependency' ({plugins / 'qconf_broken' / '__init__.py'}:3)",
        "  module halfway (halfway-dev): RuntimeError: device table is missing "
        f"({plugins / 'qconf_halfway' / '__init__.py'}:17)",
    ]


def test_plugin_types_in_json_listing_and_schema(plugins):
    listed = json.loads(run("types", "--format", "json").stdout)
    assert {"name": "blinker", "category": "gpio", "description": "An LED that blinks.",
            "module": "qconf_demo"} in listed  # fmt: skip
    assert [e["module"] for e in listed if "unavailable" in e] == ["broken", "halfway"]
    schema = json.loads(run("schema", "--type", "blinker").stdout)
    assert set(schema["properties"]) >= {"base", "size", "period", "irq"}


def test_a_plugin_type_builds_and_wires(plugins, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "board.yaml", BOARD)
    r = run("validate", "-c", "board.yaml")
    assert r.exit_code == 0, r.output
    assert r.stdout == "ok: 16 objects, 2 layers, 7 regions in 1 address space, 2 interrupt wires\n"
    m = qconf.build(qconf.resolve(["board.yaml"]))
    led = m.object("soc.led")
    assert (led.info.module, led.get("period")) == ("qconf_demo", 250_000_000)
    assert [w.input_name for w in m.wires if w.source is led] == ["soc.plic.in[5]"]


def test_a_plugin_device_with_behaviour_and_a_tree_node_runs_a_guest(
    plugins, tmp_path, monkeypatch
):
    """Adding a device is one module: the plugin's blinker declares its properties, its
    model and its device-tree node in one file, and a guest uses it (its interrupt wakes
    the hart at each blink, in virtual time)."""
    monkeypatch.chdir(tmp_path)
    board = BOARD.replace("250ms", "1ms") + (
        f"cpu0:\n  firmware: {MACHINES / 'guests' / 'riscv' / 'blink.elf'}\n"
    )
    write(tmp_path, "board.yaml", board)
    r = run("run", "-c", "board.yaml", "--stats", "--no-cache")
    assert r.exit_code == 0, r.output
    assert r.stdout == "blink 1\nblink 2\nblink 3\n"
    assert "virtual time 3.0" in r.stderr  # three periods of 1 ms
    tree = run("dtb", "-c", "board.yaml", "--format", "dts")
    assert tree.exit_code == 0, tree.output
    node = tree.stdout[tree.stdout.index("blinker@30000000 {") :]
    assert node[: node.index("};")].split("\n")[1:] == [
        "\t\t\tinterrupts = <0x5>;",
        f"\t\t\tinterrupt-parent = <0x{_phandle(tree.stdout, 'plic@c000000'):x}>;",
        "\t\t\treg = <0x0 0x30000000 0x0 0x100>;",
        '\t\t\tcompatible = "qconf,blinker";',
        "\t\t",
    ]


def _phandle(dts: str, node: str) -> int:
    after = dts[dts.index(node + " {") :]
    line = next(x for x in after.splitlines() if "phandle = " in x)
    return int(line.split("<")[1].split(">")[0], 16)


def test_a_machine_with_plugin_types_is_not_snapshotted(plugins, tmp_path, monkeypatch):
    """A plugin's code is not qconf's to fingerprint: its machines resolve on every run."""
    from qconf.cache import MachineCache, cached_machine

    monkeypatch.chdir(tmp_path)
    write(tmp_path, "board.yaml", BOARD)
    for _ in range(2):
        machine, how = cached_machine(["board.yaml"], (), (), MachineCache(tmp_path / "cache"))
        machine.destroy()
        assert how == "not stored: type 'blinker' comes from plugin 'qconf_demo'"
    assert MachineCache(tmp_path / "cache").entries() == []


def test_plugins_load_only_when_needed(plugins):
    qconf.resolve(["riscv-virt"])
    assert not any(name in sys.modules for name in PLUGIN_MODULES)
    qconf.build(qconf.resolve(["riscv-virt"]))
    assert not any(name in sys.modules for name in PLUGIN_MODULES)


def test_a_machine_needing_a_failed_module_names_module_type_path_reason(
    plugins, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "board.yaml", "extends: riscv-virt\nsoc:\n  x:\n    type: halfway-dev\n"
          "    base: 0x3000_0000\n")  # fmt: skip
    r = run("validate", "-c", "board.yaml")
    assert r.exit_code == 1
    assert r.stderr.splitlines() == [
        "qconf: error: board.yaml:4:11: soc.x: type 'halfway-dev' is unavailable: module "
        "'halfway' failed to load: RuntimeError: device table is missing "
        f"({plugins / 'qconf_halfway' / '__init__.py'}:17) [E601]",
        "  layer: file board.yaml",
        "  hint: fix or reinstall the module (qconf types lists what failed), or use another type",
    ]


def test_unknown_type_mentions_failed_modules(plugins, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "board.yaml", BOARD.replace("blinker", "blinkr"))
    r = run("validate", "-c", "board.yaml")
    assert r.exit_code == 1
    lines = r.stderr.splitlines()
    assert lines[0] == "qconf: error: board.yaml:4:11: soc.led.type: unknown type 'blinkr' [E401]"
    assert lines[2] == "  hint: did you mean 'blinker' or 'clint'? (qconf types lists all)"
    assert lines[3].startswith("        modules that failed to load: broken (ModuleNotFoundError")


def test_failed_modules_do_not_affect_other_commands(plugins):
    for args in (["resolve", "-c", "riscv-virt"], ["tree", "-c", "hetero-soc"],
                 ["types", "ns16550a"], ["profiles"]):  # fmt: skip
        r = run(*args)
        assert r.exit_code == 0, (args, r.output)
        assert r.stderr == ""


def test_describing_an_unavailable_type_is_an_error(plugins):
    r = run("types", "halfway-dev")
    assert r.exit_code == 1
    assert r.stderr.startswith(
        "qconf: error: type 'halfway-dev' is unavailable: module 'halfway' failed to load"
    )


UNBUILDABLE = """\
from pydantic import Field

from qconf.model.props import Props
from qconf.model.registry import TypeInfo, TypeRegistry


class Widget:
    pass


class UnbuildableProps(Props):
    part: Widget = Field(description="Pydantic cannot validate this class.")


def register(registry: TypeRegistry) -> None:
    registry.add(TypeInfo("unbuildable", UnbuildableProps, "Never usable.", "misc", __name__))
"""


def test_a_model_that_cannot_build_fails_its_module_at_registration(tmp_path, monkeypatch):
    # models build lazily, but a loaded module's models are built while it registers
    write(tmp_path, "qconf_unbuildable.py", UNBUILDABLE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "qconf_unbuildable", raising=False)
    registry = qconf.builtin_registry(plugins=False)
    registry.load_module("qconf_unbuildable")
    failure = registry.unavailable("unbuildable")
    assert failure is not None and failure.module == "qconf_unbuildable"
    assert failure.reason.startswith("PydanticSchemaGenerationError: Unable to generate")
    assert registry.find("unbuildable") is None
