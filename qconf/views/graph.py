"""``qconf graph``: a picture of a built machine, drawn by Graphviz.

The composition tree becomes nested boxes (a cluster per object with children), IRQ wires
are red edges from the device to the controller (labelled with the input line), clock
links blue dashed edges from the clock, other links grey dotted edges, orange edges from
each interrupt controller to the CPUs it serves (a CLINT or PLIC to its harts), and each
address space a table of its regions. The DOT text is built with the ``graphviz`` package; SVG,
PNG and PDF are rendered by Graphviz's ``dot`` program.
"""

from __future__ import annotations

import html
import shutil
import subprocess
from pathlib import Path

import graphviz  # type: ignore[import-untyped]

from qconf.assembly.links import find
from qconf.assembly.machine import AddressSpace, Machine
from qconf.config.units import format_frequency, format_size
from qconf.errors import ToolError
from qconf.model.objects import Object

__all__ = ("RENDERED", "machine_graph", "write_graph")

RENDERED = ("svg", "png", "pdf")
SOURCE = ("dot", "gv")


def _id(obj: Object) -> str:
    return "n" + obj.path.replace("/", "_").replace("-", "_").replace(".", "_").replace("$", "_")


def _label(obj: Object, machine: Machine) -> str:
    rows = [f"<b>{html.escape(obj.name)}</b>", html.escape(obj.info.name)]
    for region in obj.info.regions(obj.values):
        rows.append(f"{region.base:#x} +{format_size(region.size)}")
    if obj.info.arch is not None and "freq" in obj.info.prop_names:
        rows.append(format_frequency(obj.get("freq")))
    if obj.info.category == "clock":
        rows.append(format_frequency(machine.clock_freq(obj)))
    if obj.info.category == "backend" and "backend" in obj.info.prop_names:  # a chardev
        rows.append(html.escape(str(obj.get("backend"))))
    return "<" + "<br/>".join(rows) + ">"


def _backend(obj: Object, machine: Machine) -> bool:
    """Whether ``obj`` is a backend, or the container of the backends."""
    backends = machine.root.children.get("backends")
    return obj is backends or (backends is not None and obj.path.startswith(backends.path + "/"))


def _served(machine: Machine) -> list[tuple[Object, Object]]:
    """(interrupt controller, CPU) for each CPU an interrupt controller serves: the CPUs of
    every address space that maps it, or maps a space that does (a CLINT or PLIC and its
    harts, an NVIC and its core)."""
    out: list[tuple[Object, Object]] = []
    for space in machine.spaces.values():
        seen: list[Object] = []
        here: AddressSpace | None = space
        while here is not None:
            seen += [m.obj for m in here.mappings if m.obj.info.category == "intc"]
            here = here.parent
        for intc in dict.fromkeys(seen):
            out += [(intc, cpu) for cpu in space.cpus if (intc, cpu) not in out]
    return out


def machine_graph(machine: Machine, *, backends: bool = True) -> graphviz.Digraph:
    """The machine as a Graphviz graph (without the backends when ``backends`` is false)."""
    dot = graphviz.Digraph("machine", graph_attr={
        "rankdir": "LR", "compound": "true", "fontname": "Helvetica", "fontsize": "11",
        "label": f"{machine.root.get('model') or 'machine'}", "labelloc": "t",
    }, node_attr={"shape": "box", "style": "rounded,filled", "fillcolor": "white",
                  "fontname": "Helvetica", "fontsize": "10"},
       edge_attr={"fontname": "Helvetica", "fontsize": "9"})  # fmt: skip
    _cluster(dot, machine.root, machine, backends)
    for intc, cpu in _served(machine):
        dot.edge(_id(intc), _id(cpu), label="interrupts", color="darkorange",
                 fontcolor="darkorange")  # fmt: skip
    for wire in machine.wires:
        label = f"{wire.output} → {wire.line}[{wire.index}]"
        dot.edge(_id(wire.source), _id(wire.sink), label=label, color="firebrick",
                 fontcolor="firebrick")  # fmt: skip
    for (obj, prop), clock in machine.clock_links.items():
        dot.edge(_id(clock), _id(obj), label=prop, color="royalblue", fontcolor="royalblue",
                 style="dashed")  # fmt: skip
    for (obj, _kind), backend in machine.backends.items() if backends else ():
        dot.edge(_id(obj), _id(backend), color="darkgreen", style="dotted", arrowhead="none")
    for obj in machine.objects():
        if not backends and _backend(obj, machine):
            continue
        for prop, wiring in obj.info.wires.items():
            if wiring.kind == "link" and (obj, prop) not in machine.clock_links:
                value = obj.get(prop)
                targets = value if isinstance(value, list) else [value] if value else []
                for ref in targets:
                    target = find(machine.root, obj, ref)
                    if target is not None and (backends or not _backend(target, machine)):
                        dot.edge(_id(obj), _id(target), label=prop, color="gray40",
                                 fontcolor="gray40", style="dotted")  # fmt: skip
    for space in machine.spaces.values():
        dot.node(f"map_{_id(space.owner)}", _map_table(space), shape="plaintext",
                 style="", margin="0")  # fmt: skip
    return dot


def _cluster(dot: graphviz.Digraph, obj: Object, machine: Machine, backends: bool) -> None:
    for child in obj.children.values():
        if not backends and _backend(child, machine):
            continue
        if child.children:
            with dot.subgraph(name=f"cluster_{_id(child)}") as sub:
                sub.attr(label=f"{child.name} ({child.info.name})", style="rounded",
                         color="gray60", fontcolor="gray20")  # fmt: skip
                if child.info.category != "machine":  # not a plain group: a box of its own
                    sub.node(_id(child), _label(child, machine), shape="note",
                             fillcolor="gray95")  # fmt: skip
                _cluster(sub, child, machine, backends)
        else:
            dot.node(_id(child), _label(child, machine))


def _map_table(space: AddressSpace) -> str:
    head = f"memory map: {html.escape(space.name)}"
    if space.parent is not None:
        head += f" (over {html.escape(space.parent.name)})"
    rows = [f'<tr><td colspan="4" bgcolor="gray90"><b>{head}</b></td></tr>',
            "<tr><td>start</td><td>end</td><td>owner</td><td>kind</td></tr>"]  # fmt: skip
    for m in sorted(space.mappings, key=lambda m: (m.base, -m.priority)):
        owner = html.escape(m.obj.key) + (f" → {html.escape(m.target.key)}" if m.target else "")
        kind = m.region.kind + (f" p{m.priority}" if m.priority else "")
        rows.append(f"<tr><td>{m.base:#x}</td><td>{m.end - 1:#x}</td><td>{owner}</td>"
                    f"<td>{kind}</td></tr>")  # fmt: skip
    return '<<table border="0" cellborder="1" cellspacing="0">' + "".join(rows) + "</table>>"


def write_graph(machine: Machine, output: Path, *, backends: bool = True) -> None:
    """Write the picture to ``output``: DOT text for ``.dot``/``.gv``, else rendered.

    :raises ToolError: the format is unknown, or ``dot`` is missing or fails.
    """
    fmt = output.suffix.lstrip(".").lower()
    source = machine_graph(machine, backends=backends).source
    if fmt in SOURCE:
        output.write_text(source, encoding="utf-8")
        return
    if fmt not in RENDERED:
        raise ToolError(
            f"cannot draw {output.name}: unknown picture format {fmt!r}", code="E801",
            hint="name the output .svg, .png, .pdf, or .dot for the Graphviz source",
        )  # fmt: skip
    exe = shutil.which("dot")
    if exe is None:
        raise ToolError(
            "Graphviz's `dot` program is not installed, so the picture cannot be drawn",
            code="E802",
            hint="install it (Debian/Ubuntu: apt-get install graphviz), or write .dot and "
            "render it elsewhere",
        )  # fmt: skip
    done = subprocess.run([exe, f"-T{fmt}", "-o", str(output)], input=source.encode(),
                          capture_output=True, check=False)  # fmt: skip
    if done.returncode != 0:
        raise ToolError(
            f"dot failed ({done.returncode}): {done.stderr.decode(errors='replace').strip()}",
            code="E803",
        )
