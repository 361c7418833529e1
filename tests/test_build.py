"""The builder and the object model: paths, life cycle, wiring, rollback."""

from __future__ import annotations

import dataclasses
import gc
import weakref
from pathlib import Path

import pytest

import qconf
from qconf.assembly.builder import STEPS
from qconf.config.origin import Origin, Source
from qconf.model.lifecycle import State, transition
from qconf.model.objects import Object
from qconf.model.registry import TypeRegistry, builtin_registry
from tests.helpers import write

BOARD = """\
extends: riscv-virt
clocks:
  type: container
  ref: {type: clock, freq: 48MHz}
  apb: {type: clock, source: ref, div: 4}
  uart: {type: clock, source: apb, mul: 3, div: 2}
soc:
  uart0:
    clock: clocks.uart
  uart1:
    type: ns16550a
    base: 0x1000_0100
    irq: ['plic.in[10]', 'plic.in[11]']
    clock: /clocks/apb
boot_alias:
  type: alias
  target: ram
  base: 0x2000_0000
  size: 1MiB
  offset: 1MiB
shadow:
  type: ram
  base: 0x8000_0000
  size: 4KiB
  priority: 1
cpu_rst:
  type: reset-domain
  members: [cpu0, soc.uart1]
"""


def machine(tmp_path: Path, text: str = BOARD, registry: TypeRegistry | None = None):
    write(tmp_path, "board.yaml", text)
    return qconf.build(qconf.resolve([tmp_path / "board.yaml"], registry=registry))


def test_paths_come_from_names(tmp_path):
    m = machine(tmp_path)
    paths = [o.path for o in m.objects()]
    assert paths[:3] == ["/machine", "/machine/cpu0", "/machine/mrom"]
    assert "/machine/soc/uart1" in paths and "/machine/clocks/apb" in paths
    assert len(paths) == len(set(paths))
    assert m.object("/machine/soc/uart1") is m.object("soc.uart1")
    assert m.object("soc.uart1").key == "soc.uart1"
    assert all(o.state is State.REALIZED for o in m.objects())
    # every object but the root has exactly one parent that lists it
    for obj in m.objects():
        if obj is not m.root:
            assert obj.parent is not None and obj.parent.children[obj.name] is obj


def test_irq_fan_out_and_or(tmp_path):
    m = machine(tmp_path)
    uart0, uart1 = m.object("soc.uart0"), m.object("soc.uart1")
    plic = m.object("soc.plic")
    assert [(w.source, w.output) for w in m.sources(plic, "in", 10)] == [
        (uart0, "irq"),
        (uart1, "irq"),
    ]
    assert [w.input_name for w in m.wires if w.source is uart1] == [
        "soc.plic.in[10]",
        "soc.plic.in[11]",
    ]


def test_clock_tree_derives_frequencies(tmp_path):
    m = machine(tmp_path)
    assert m.clock_rate(m.object("soc.uart0"), "clock") == 48_000_000 // 4 * 3 // 2
    assert m.clock_rate(m.object("soc.uart1"), "clock") == 12_000_000
    assert m.clock_rate(m.object("soc.test"), "size") == 4096  # a plain value reads as is


def test_address_spaces_priorities_and_aliases(tmp_path):
    m = machine(tmp_path)
    system = m.space_of(m.object("cpu0"))
    assert system.cpus == [m.object("cpu0")]
    assert system.lookup(0x8000_0000).obj.key == "shadow"  # priority 1 wins
    assert system.lookup(0x8000_1000).obj.key == "ram"
    alias = system.lookup(0x2000_0010)
    assert alias.obj.key == "boot_alias" and alias.target.key == "ram"
    assert alias.offset == 0x10_0000
    assert system.lookup(0x4000_0000) is None


def test_hetero_spaces_see_the_system_space():
    m = qconf.build(qconf.resolve(["hetero-soc"]))
    app, mcu = m.space_of(m.object("app.cpu0")), m.space_of(m.object("mcu.cpu0"))
    assert (app.name, mcu.name) == ("app", "mcu")
    assert app.lookup(0x2040_0000).obj.key == mcu.lookup(0x2040_0000).obj.key == "shared_sram"
    assert app.lookup(0x0) is None  # mcu.flash is in the mcu's space only
    assert mcu.lookup(0x0).obj.key == "mcu.flash"


def test_reset_tree_follows_domains(tmp_path):
    m = machine(tmp_path)
    rst = m.object("cpu_rst")
    assert [o.key for o in m.reset_children(rst)] == ["cpu0", "soc.uart1"]
    assert m.object("cpu0") not in m.reset_children(m.root)
    order = [o.key for o in m.reset(rst)]
    assert order == ["cpu_rst", "cpu0", "soc.uart1"]
    assert len(m.reset()) == len(list(m.objects()))


def test_properties_are_read_only_once_realized(tmp_path):
    m = machine(tmp_path)
    uart = m.object("soc.uart0")
    origin = Origin(Source("test"))
    with pytest.raises(qconf.StateError) as err:
        uart.set("reg_shift", 2, origin)
    assert str(err.value).startswith(
        "/machine/soc/uart0: cannot set 'reg_shift' of /machine/soc/uart0: it is realized "
        "and 'reg_shift' is not runtime-writable [E701]"
    )
    assert (err.value.state, err.value.required) == ("realized", "created or configured")
    assert uart.get("reg_shift") == 0


def test_runtime_writable_properties_validate(tmp_path):
    registry = builtin_registry()
    info = registry.find("ns16550a")
    registry._types["ns16550a"] = dataclasses.replace(info, runtime=frozenset({"reg_shift"}))
    m = machine(tmp_path, registry=registry)
    uart = m.object("soc.uart0")
    origin = Origin(Source("--set #1", layer="--set #1"))
    uart.set("reg_shift", "2", origin)
    assert uart.get("reg_shift") == 2 and uart.origins["reg_shift"] is origin
    with pytest.raises(qconf.ValidationError) as err:
        uart.set("reg_shift", 9, origin)
    assert err.value.lines()[0] == (
        "--set #1: soc.uart0.reg_shift: must be at most 2, got 9 [E405]"
    )


def test_illegal_transitions_name_both_states(tmp_path):
    m = machine(tmp_path)
    cpu = m.object("cpu0")
    with pytest.raises(qconf.StateError) as err:
        transition(cpu, State.CONFIGURED)
    assert err.value.message == (
        "cannot make /machine/cpu0 configured: it is realized, it must be created"
    )
    with pytest.raises(qconf.StateError, match="cannot add a child to /machine/soc: it is "
                       "realized, it must be created or configured"):  # fmt: skip
        m.object("soc").add_child("x", cpu.info, cpu.origin)


def test_destroy_tears_everything_down(tmp_path):
    m = machine(tmp_path)
    objs = list(m.objects())
    m.destroy()
    assert {o.state for o in objs} == {State.DESTROYED}
    assert m.root.children == {}
    with pytest.raises(qconf.StateError, match="it is destroyed"):
        m.reset()


class Recorder:
    """Fake life-cycle hooks: record every realize/unrealize, fail on one object."""

    def __init__(self, log: list[tuple[str, str]], fail_at: str | None) -> None:
        self.log = log
        self.fail_at = fail_at

    def factory(self, obj: Object, machine: object) -> Recorder.Live:
        return Recorder.Live(self, obj)

    @dataclasses.dataclass
    class Live:
        rec: Recorder
        obj: Object

        def realize(self) -> None:
            self.rec.log.append(("realize", self.obj.path))
            if self.obj.path == self.rec.fail_at:
                raise OSError("no such device")

        def unrealize(self) -> None:
            self.rec.log.append(("unrealize", self.obj.path))

        def reset(self) -> None:
            self.rec.log.append(("reset", self.obj.path))


def recording_registry(rec: Recorder) -> TypeRegistry:
    base = builtin_registry()
    registry = TypeRegistry()
    for info in base:
        registry.add(dataclasses.replace(info, hooks=rec.factory))
    return registry


def big_board(n: int = 42) -> str:
    lines = ["extends: riscv-virt", "extra:", "  type: container"]
    for i in range(n // 2):
        lines += [
            f"  grp{i}:",
            "    type: container",
            "    u:",
            "      type: ns16550a",
            f"      base: {0x2000_0000 + i * 0x1000:#x}",
            f"      irq: soc.plic.in[{1 + i % 90}]",
        ]
    return "\n".join(lines) + "\n"


def test_a_failure_at_every_realize_step_leaves_nothing(tmp_path, monkeypatch):
    created: list[weakref.ref[Object]] = []
    init = Object.__init__

    def tracking_init(self: Object, *args: object) -> None:
        init(self, *args)  # type: ignore[arg-type]
        created.append(weakref.ref(self))

    monkeypatch.setattr(Object, "__init__", tracking_init)
    write(tmp_path, "board.yaml", big_board())
    doc_paths = None
    probe = Recorder([], None)
    m = qconf.build(qconf.resolve([tmp_path / "board.yaml"], registry=recording_registry(probe)))
    doc_paths = [path for kind, path in probe.log if kind == "realize"]
    all_paths = [o.path for o in m.objects()]  # components have no behaviour of their own
    types = {o.path: o.info.name for o in m.objects()}
    assert len(doc_paths) >= 50
    m.destroy()
    for fail_at in doc_paths:
        created.clear()
        rec = Recorder([], fail_at)
        registry = recording_registry(rec)
        doc = qconf.resolve([tmp_path / "board.yaml"], registry=registry)
        with pytest.raises(qconf.BuildError) as err:
            qconf.build(doc)
        assert err.value.message == (
            f"realize failed for {fail_at} ({types[fail_at]}): OSError: no such device"
        )
        realized = [p for k, p in rec.log if k == "realize"]
        unrealized = [p for k, p in rec.log if k == "unrealize"]
        assert realized[-1] == fail_at
        assert unrealized == list(reversed(realized))  # newest first, failing one too
        # nothing is left: every object created is destroyed, and nothing holds on to it
        # once the error is gone
        assert len(created) == len(all_paths)
        assert {r().state for r in created if r() is not None} <= {State.DESTROYED}
        del err
        gc.collect()
        assert [r() for r in created if r() is not None] == []


def test_build_steps_take_every_object_through_its_life_cycle_in_order(tmp_path):
    """Step by step: objects are all created before any is configured, all configured
    before anything is wired, wired and checked before any is realized."""
    from qconf.assembly.builder import _Builder

    write(tmp_path, "board.yaml", BOARD)
    builder = _Builder(qconf.resolve([tmp_path / "board.yaml"]))
    seen = []
    for step in STEPS:
        getattr(builder, step)()
        assert builder.root is not None
        states = {o.state for o in builder.root.walk()}
        m = builder.machine
        seen.append((builder.step, states, bool(m.wires), bool(m.spaces), len(m.order)))
    objects = len(list(builder.root.walk()))
    assert seen == [
        ("create", {State.CREATED}, False, False, 0),
        ("configure", {State.CONFIGURED}, False, False, 0),
        ("connect", {State.CONFIGURED}, True, True, 0),
        ("check", {State.CONFIGURED}, True, True, 0),
        ("realize", {State.REALIZED}, True, True, objects),
    ]
    builder.machine.destroy()


def test_backends_are_objects_in_their_own_container(tmp_path):
    text = BOARD.replace("  uart1:\n", "  uart1:\n    chardev: file:out.txt\n") + (
        "uart2:\n  type: pl011\n  base: 0x900_0000\n  chardev: host_serial\n"
        "host_serial: {type: chardev, backend: tcp, port: 4444}\n"
    )
    m = machine(tmp_path, text)
    chardevs = m.object("backends.chardev")
    assert {k: (c.get("backend"), c.get("path")) for k, c in chardevs.children.items()} == {
        "soc-uart0": ("stdio", None),  # the first UART
        "soc-uart1": ("file", str(tmp_path / "out.txt")),  # beside the board that says so
    }
    assert m.backends[(m.object("uart2"), "chardev")] is m.object("host_serial")
    memory = m.object("backends.memory")
    assert {k: (b.get("size"), b.get("readonly")) for k, b in memory.children.items()} == {
        "mrom": (0xF000, True),
        "ram": (128 << 20, False),
        "shadow": (4096, False),
    }
    assert m.backends[(m.object("ram"), "memory")].path == "/machine/backends/memory/ram"
    assert "image" not in m.object("backends").children  # no ROM names a file


def test_rom_images_are_objects(tmp_path):
    m = machine(tmp_path, BOARD + "boot:\n  type: rom\n  base: 0x2100_0000\n  size: 4KiB\n"
                "  file: fw/boot.bin\n")  # fmt: skip
    image = m.object("backends.image.boot")
    assert (image.get("file"), image.get("format"), image.get("address"), image.get("target")) == (
        str(tmp_path / "fw" / "boot.bin"),
        "raw",
        0x2100_0000,
        "/machine/boot",
    )
    assert image.origin.where().endswith("board.yaml:33:9")  # the line naming the file
    assert m.backends[(m.object("boot"), "image")] is image
    assert m.object("soc.uart1").origins["chardev"] == m.object("backends.chardev.soc-uart1").origin


def test_a_chardev_reference_must_name_a_chardev(tmp_path):
    with pytest.raises(qconf.BuildError) as err:
        machine(tmp_path, BOARD + "uart9:\n  type: ns16550a\n  base: 0x1000_0200\n"
                "  chardev: soc.plic\n")  # fmt: skip
    assert err.value.lines()[0].endswith(
        "uart9.chardev: 'soc.plic' is a plic (intc), not a backend [E603]"
    )


def test_hotplug_joins_and_leaves_the_built_machine(tmp_path):
    from qconf.assembly.builder import build
    from qconf.assembly.hotplug import HotplugError, plug, unplug
    from qconf.resolve import resolve

    board = write(tmp_path, "board.yaml", "extends: riscv-virt\n")
    machine = build(resolve([str(board)]))
    grown = write(tmp_path, "grown.yaml",
                  "extends: riscv-virt\nram2: {type: ram, base: 0x9000_0000, size: 1MiB}\n"
                  "rom2: {type: rom, base: 0x9100_0000, size: 4KiB}\n")  # fmt: skip
    checked = build(resolve([str(grown)]))
    before = {o.path for o in machine.objects()}
    ram2 = plug(machine, checked, "ram2")
    assert ram2.state is State.REALIZED and ram2.get("size") == 1 << 20
    assert str(ram2.origins["base"].source.path) == str(grown)  # where it was written
    backend = machine.backends[(ram2, "memory")]
    assert backend.path == "/machine/backends/memory/ram2" and backend.state is State.REALIZED
    assert machine.space_of(ram2).lookup(0x9000_0010).obj is ram2
    with pytest.raises(HotplugError, match="a rom is not hotpluggable"):
        plug(machine, checked, "rom2")
    assert {o.path for o in machine.objects()} == before | {ram2.path, backend.path}
    unplug(machine, ram2)
    assert ram2.state is State.DESTROYED and backend.state is State.DESTROYED
    assert machine.space_of(machine.root).lookup(0x9000_0010) is None
    assert {o.path for o in machine.objects()} == before
    checked.destroy()
    machine.destroy()  # nothing left behind
