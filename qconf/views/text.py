"""Text views of a built machine: one function per command, each returning lines."""

from __future__ import annotations

from collections import defaultdict

from qconf.assembly.machine import AddressSpace, Machine, Mapping, Wire
from qconf.config.units import format_frequency as hz
from qconf.config.units import format_size
from qconf.model.objects import Object

__all__ = ("clock_lines", "irq_lines", "mtree_lines", "reset_lines", "tree_lines")

# properties worth a glance in `qconf tree`, in this order
KEY_PROPS = ("model", "base", "size", "freq", "clock", "hartid", "isa", "irq", "irq_a",
             "irq_b", "target", "offset", "source", "mul", "div", "num_sources", "num_irq",
             "address_space", "chardev", "backend", "path", "port", "file", "readonly")  # fmt: skip


def _show(obj: Object, prop: str) -> str:
    value = obj.get(prop)
    if isinstance(value, list):
        return "[" + ", ".join(str(obj.info.format(prop, v)) for v in value) + "]"
    return str(obj.info.format(prop, value))


def _empty(value: object) -> bool:
    return value is None or value is False or value in ("", [])


def tree_lines(machine: Machine, *, all_props: bool = False) -> list[str]:
    """The composition tree: each object's name, type and key properties."""
    out = []
    for obj in machine.objects():
        depth = obj.path.count("/") - 1
        props = [p for p in obj.info.model().model_fields if all_props or p in KEY_PROPS]
        shown = [f"{p}={_show(obj, p)}" for p in props if all_props or not _empty(obj.get(p))]
        name = obj.path if depth == 0 else obj.name
        out.append(
            "  " * depth + f"{name} ({obj.info.name})" + ("  " + " ".join(shown) if shown else "")
        )
    return out


def _span(m: Mapping) -> str:
    return f"{m.base:016x}-{m.end - 1:016x}"


def mtree_lines(machine: Machine) -> list[str]:
    """Each address space: its regions by address, with owners, kinds, priorities, aliases,
    and what shadows what."""
    out: list[str] = []
    for space in machine.spaces.values():
        out.extend(_space_lines(space))
        out.append("")
    return out[:-1]


def _space_lines(space: AddressSpace) -> list[str]:
    below = f" (over {space.parent.name})" if space.parent else ""
    cpus = ", ".join(c.key for c in space.cpus)
    out = [f"address-space: {space.name}{below}" + (f"  cpus: {cpus}" if cpus else "")]
    maps = sorted(space.mappings, key=lambda m: (m.base, -m.priority, m.end))
    for m in maps:
        line = f"  {_span(m)} (prio {m.priority}, {m.region.kind}): {m.obj.key}"
        if m.region.name not in ("regs", m.region.kind):
            line += f":{m.region.name}"
        line += f" [{m.obj.info.name}, {format_size(m.region.size)}]"
        if m.target is not None:
            line += f" -> {m.target.key} @{m.offset:#x}"
        shadowed = [o for o in maps if o is not m and o.base < m.end and m.base < o.end
                    and o.priority > m.priority]  # fmt: skip
        if shadowed:
            line += "  (hidden where " + ", ".join(o.obj.key for o in shadowed) + " overlaps)"
        out.append(line)
    if not maps:
        out.append("  (no regions of its own)")
    return out


def irq_lines(machine: Machine) -> list[str]:
    """The IRQ graph, by controller: each input line and what drives it."""
    by_sink: dict[Object, dict[tuple[str, int], list[Wire]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for w in machine.wires:
        by_sink[w.sink][(w.line, w.index)].append(w)
    out: list[str] = []
    for sink in (o for o in machine.objects() if o in by_sink):
        inputs = sink.info.irq_inputs(sink.values) if sink.info.irq_inputs else {}
        counts = ", ".join(f"{n}[0..{c - 1}]" for n, c in inputs.items())
        out.append(f"{sink.key} ({sink.info.name}, inputs {counts})")
        for (line, index), wires in sorted(by_sink[sink].items(), key=lambda kv: kv[0]):
            sources = " | ".join(f"{w.source.key}.{w.output}" for w in wires)
            ored = "  (ORed)" if len(wires) > 1 else ""
            out.append(f"  {line}[{index}] <- {sources}{ored}")
    unwired = [
        f"{o.key}.{p}"
        for o in machine.objects()
        for p, w in o.info.wires.items()
        if w.kind == "irq" and o.get(p) is None
    ]
    if unwired:
        out.append("not wired: " + ", ".join(unwired))
    return out or ["no interrupt wires"]


def clock_lines(machine: Machine) -> list[str]:
    """The clock tree: clock objects with their derived frequencies, and every clock input."""
    users: dict[Object, list[tuple[Object, str]]] = defaultdict(list)
    for (obj, prop), clock in machine.clock_links.items():
        users[clock].append((obj, prop))
    out: list[str] = []

    def show(clock: Object, depth: int) -> None:
        freq = hz(machine.clock_freq(clock))
        how = ""
        if clock.get("source") is not None:
            src = machine.clock_links[(clock, "source")]
            how = f" (= {src.key} * {clock.get('mul')} / {clock.get('div')})"
        out.append("  " * depth + f"{clock.key} {freq}{how}")
        for obj, prop in users.get(clock, ()):
            if obj.info.category == "clock":
                show(obj, depth + 1)
            else:
                out.append("  " * (depth + 1) + f"{obj.key}.{prop} {freq}")

    for clock in machine.objects():
        if clock.info.category == "clock" and clock.get("source") is None:
            show(clock, 0)
    fixed = [
        f"  {o.key}.{p} {hz(o.get(p))}"
        for o in machine.objects()
        for p, w in o.info.wires.items()
        if w.kind == "clock" and isinstance(o.get(p), int)
    ]
    if fixed:
        out.append("fixed-frequency clock inputs:")
        out.extend(fixed)
    return out or ["no clocks"]


def reset_lines(machine: Machine) -> list[str]:
    """The reset tree: what resetting each object resets."""
    out: list[str] = []

    def show(obj: Object, depth: int) -> None:
        domain = " (reset domain)" if obj.info.category == "reset" else ""
        out.append("  " * depth + (obj.key or obj.path) + domain)
        for child in machine.reset_children(obj):
            show(child, depth + 1)

    show(machine.root, 0)
    return out
