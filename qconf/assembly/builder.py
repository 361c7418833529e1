"""Build a machine from a validated document, in named steps, all or nothing.

=========  ===========================================================================
step       what it does
=========  ===========================================================================
create     one object per object in the document, each made by its parent
configure  set every object's properties from the document (with their origins)
connect    resolve links, IRQ wires, clock inputs, reset domains; place regions in
           address spaces
check      overlapping regions at equal priority, regions past the end of the address
           space or beyond what a CPU that sees them can address, alias windows,
           clock definitions, each type's own checks (a PLIC's reserved source 0),
           cycles among links (reported with the cycle's path)
realize    each object takes its resources, link targets before the objects that
           name them, otherwise in document order
=========  ===========================================================================

If any step fails, everything realized is unrealized and everything created is destroyed,
newest first, and the error names the object that failed and why.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from qconf.assembly.links import resolve_irq, resolve_object
from qconf.assembly.machine import AddressSpace, Machine, Mapping, Wire, teardown
from qconf.config.node import Node, gc_paused, to_plain
from qconf.config.origin import Origin
from qconf.config.units import format_size
from qconf.errors import BuildError, Problems, QconfError
from qconf.model.document import Document, is_object
from qconf.model.objects import Object
from qconf.model.registry import Region

__all__ = ("STEPS", "build")

STEPS = ("create", "configure", "connect", "check", "realize")


def build(doc: Document) -> Machine:
    """The realized machine described by ``doc``.

    :raises BuildError: a step failed (a dangling link, overlapping regions, a cycle, an
        object that failed to realize...); nothing built is left behind.
    :raises Problems: several such errors found by one step.
    """
    builder = _Builder(doc)
    try:
        with gc_paused():  # allocation-heavy and acyclic until wired: see gc_paused
            for step in STEPS:
                getattr(builder, step)()
    except BaseException as exc:
        if builder.root is not None:
            teardown(builder.root, builder.machine.order)
        builder.machine.order.clear()
        if isinstance(exc, QconfError) or not isinstance(exc, Exception):
            raise
        raise builder.failure(exc) from exc
    return builder.machine


class _Builder:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.root: Object | None = None
        self.machine = Machine(root=None)  # type: ignore[arg-type]  # set by create()
        self.nodes: dict[Object, Node] = {}
        self.current: Object | None = None  # the object a failure is blamed on
        self.step = ""
        self.deps: dict[Object, list[tuple[Object, str]]] = {}
        self.errors: list[QconfError] = []  # found by connect and check, raised by check
        # objects the builder makes that the document does not spell out (backends)
        self.values: dict[Object, tuple[dict[str, Any], dict[str, Origin]]] = {}
        self.backend_of = self.machine.backends

    def failure(self, exc: Exception) -> BuildError:
        obj = self.current
        what = f"{obj.path} ({obj.info.name})" if obj is not None else "the machine"
        return BuildError(
            f"{self.step} failed for {what}: {type(exc).__name__}: {exc}",
            code="E610",
            origin=obj.origin if obj is not None else None,
            path=obj.key or None if obj is not None else None,
            hint="everything built so far was torn down",
        )

    def objects(self) -> Iterator[Object]:
        assert self.root is not None
        return self.root.walk()

    # --- steps ----------------------------------------------------------------------

    def create(self) -> None:
        self.step = "create"
        tree = self.doc.tree
        info = self.doc.type_of(tree)
        assert info is not None, "a validated document has a typed root"
        self.root = Object._root(info, tree.origin)
        self.machine.root = self.root
        self.nodes[self.root] = tree
        stack: list[tuple[Object, Node]] = [(self.root, tree)]
        while stack:
            parent, node = stack.pop()
            made = []
            for name, child in node.value.items():
                if name != "type" and is_object(child):
                    child_info = self.doc.type_of(child)
                    assert child_info is not None
                    self.current = parent
                    obj = parent.add_child(name, child_info, child.value["type"].origin)
                    self.nodes[obj] = child
                    made.append((obj, child))
            stack.extend(reversed(made))
        self.create_backends()

    def create_backends(self) -> None:
        """The host side of devices, as objects: ``/machine/backends/chardev/NAME`` for each
        UART with a short chardev spec (or none), ``/machine/backends/memory/NAME`` for each
        RAM and ROM, ``/machine/backends/image/NAME`` for each ROM with a file. NAME is the
        device's dotted path with ``-`` for ``.``."""
        from qconf.devices.backends import parse_chardev_spec

        root = self.root
        assert root is not None
        registry = self.doc.registry
        users: list[tuple[Object, str, dict[str, Any], Origin]] = []
        first_uart = True
        for obj in root.walk():
            if "chardev" in obj.info.prop_names:
                node = self.nodes[obj].value.get("chardev")
                spec = node.value if node is not None else None
                if spec is None:
                    spec = "stdio" if first_uart else "null"
                first_uart = False
                parsed = parse_chardev_spec(spec) if isinstance(spec, str) else None
                if parsed is not None:
                    at = node.origin if node is not None else obj.origin
                    users.append((obj, "chardev", parsed, at))
            elif "program" in obj.info.backends and self.nodes[obj].value.get("firmware"):
                file = self.nodes[obj].value["firmware"]
                if file.value is not None:
                    vector = self.nodes[obj].value.get("reset_vector")
                    image = {
                        "file": file.value,  # absolute: validation placed it
                        "address": to_plain(vector) if vector is not None else None,
                        "target": obj.path,
                    }
                    users.append((obj, "image", image, file.origin))
            elif "memory" in obj.info.backends or "rom" in obj.info.backends:
                node = self.nodes[obj]
                values = {"size": to_plain(node.value["size"]),
                          "readonly": "rom" in obj.info.backends}  # fmt: skip
                users.append((obj, "memory", values, node.origin))
                file = node.value.get("file")
                if file is not None and file.value is not None:
                    image = {
                        "file": file.value,
                        "format": "raw",
                        "address": to_plain(node.value["base"]),
                        "target": obj.path,
                    }
                    users.append((obj, "image", image, file.origin))
        if not users:
            return
        self.current = root
        container = registry.get("container")
        backends = root.children.get("backends")
        if backends is None:
            backends = root.add_child("backends", container, root.origin)
            self.values[backends] = ({"description": "host-side backends of devices"}, {})
        elif backends.info is not container:
            raise BuildError(
                "'backends' is reserved for the container of backend objects",
                code="E611", origin=backends.origin, path="backends",
                hint="rename this object",
            )  # fmt: skip
        for obj, kind, values, at in users:
            group = backends.children.get(kind)
            if group is None:
                group = backends.add_child(kind, container, root.origin)
                self.values[group] = ({}, {})
            info = registry.get({"memory": "memory-backend"}.get(kind, kind))
            backend = group.add_child(obj.key.replace(".", "-"), info, at)
            self.values[backend] = (values, dict.fromkeys(values, at))
            self.backend_of[(obj, kind)] = backend

    def configure(self) -> None:
        self.step = "configure"
        for obj in self.objects():
            self.current = obj
            if obj in self.values:
                obj.configure(*self.values[obj])
                continue
            node = self.nodes[obj]
            values: dict[str, Any] = {}
            origins: dict[str, Origin] = {}
            for prop in obj.info.prop_names:
                sub = node.value.get(prop)
                if sub is not None:
                    values[prop] = to_plain(sub)
                    origins[prop] = sub.origin
                    if isinstance(sub.value, list):  # each item where it was written
                        origins.update(
                            (f"{prop}[{i}]", item.origin) for i, item in enumerate(sub.value)
                        )
            obj.configure(values, origins)

    def connect(self) -> None:
        self.step = "connect"
        root = self.root
        assert root is not None
        m = self.machine
        errors = self.errors
        # address spaces first: a region's space is its nearest enclosing space
        m.spaces[root.path] = AddressSpace("system", root)
        for obj in self.objects():
            if (
                obj is not root
                and "address_space" in obj.info.prop_names
                and obj.get("address_space")
            ):
                parent = m.space_of(obj.parent) if obj.parent else None
                m.spaces[obj.path] = AddressSpace(obj.key, obj, parent)
        for obj in self.objects():
            self.current = obj
            self.deps[obj] = []
            try:
                self._connect_object(obj, errors)
            except QconfError as exc:
                errors.append(exc)

    def _connect_object(self, obj: Object, errors: list[QconfError]) -> None:
        m, root = self.machine, self.root
        assert root is not None
        space = m.space_of(obj)
        if obj.info.arch is not None:
            space.cpus.append(obj)
        for region in obj.info.regions(obj.values):
            # where its base was set (a GIC's dist_base), else where the object was
            placed = obj.origins.get(_base_prop(obj, region)) or obj.origin
            if region.kind == "alias":
                target = resolve_object(root, obj, obj.get("target"), "target",
                                        obj.origins.get("target"), "memory")  # fmt: skip
                self.deps[obj].append((target, "target"))
                space.mappings.append(Mapping(obj, region, placed, target, obj.get("offset")))
            else:
                space.mappings.append(Mapping(obj, region, placed))
        for prop, wiring in obj.info.wires.items():
            value = obj.get(prop)
            if value is None:
                continue
            refs = value if isinstance(value, list) else [value]
            for i, ref in enumerate(refs):
                origin = obj.origins.get(f"{prop}[{i}]" if isinstance(value, list) else prop)
                try:
                    if wiring.kind == "irq":
                        sink, line, index = resolve_irq(root, obj, ref, prop, origin)
                        m.wires.append(Wire(obj, prop, sink, line, index, origin))
                    elif wiring.kind == "clock":
                        if isinstance(ref, str):
                            clock = resolve_object(root, obj, ref, prop, origin, "clock")
                            m.clock_links[(obj, prop)] = clock
                            self.deps[obj].append((clock, prop))
                    else:
                        target = resolve_object(root, obj, ref, prop, origin, wiring.target)
                        self.deps[obj].append((target, prop))
                        if wiring.target == "clock":  # a clock derived from another
                            m.clock_links[(obj, prop)] = target
                except QconfError as exc:
                    errors.append(exc)
        spec = obj.get("chardev") if "chardev" in obj.info.prop_names else None
        if isinstance(spec, str) and (obj, "chardev") not in m.backends:
            backend = resolve_object(root, obj, spec, "chardev", obj.origins.get("chardev"),
                                     "backend")  # fmt: skip
            if backend.info is not self.doc.registry.get("chardev"):
                raise BuildError(
                    f"{spec!r} is a {backend.info.name}, not a chardev", code="E603",
                    origin=obj.origins.get("chardev"), path=f"{obj.key}.chardev",
                    hint="name a chardev object, or write stdio, null, file:PATH, ...",
                )  # fmt: skip
            m.backends[(obj, "chardev")] = backend
            self.deps[obj].append((backend, "chardev"))
        if obj.info.category == "reset":
            for i, member in enumerate(obj.get("members") or ()):
                at = obj.origins.get(f"members[{i}]")
                target = resolve_object(root, obj, member, "members", at)
                owner = m.reset_parent.get(target)
                if owner is not None and owner.info.category == "reset":
                    raise BuildError(
                        f"{target.key} is a member of two reset domains: {owner.key} and "
                        f"{obj.key}",
                        code="E609", origin=at, path=f"{obj.key}.members",
                        hint="an object is reset by one domain; remove it from one list",
                    )  # fmt: skip
                m.reset_parent[target] = obj
        if obj.parent is not None and obj not in m.reset_parent:
            m.reset_parent[obj] = obj.parent
        if obj.info.category == "reset" and obj.get("parent"):
            m.reset_parent[obj] = resolve_object(
                root, obj, obj.get("parent"), "parent", obj.origins.get("parent"))  # fmt: skip

    def check(self) -> None:
        self.step = "check"
        errors = self.errors
        for space in self.machine.spaces.values():
            errors.extend(_past_the_end(space))
            errors.extend(_beyond_reach(space, self.machine))
            errors.extend(_overlaps(space))
        for obj in self.objects():
            if obj.info.check is not None:
                self.current = obj
                errors.extend(obj.info.check(obj, self.machine))
        if errors:  # a cycle search over half-resolved links would only add noise
            raise errors[0] if len(errors) == 1 else Problems(errors)
        cycle = _find_cycle(self.deps)
        if cycle is not None:
            names = " -> ".join(f"{o.key} ({prop})" for o, prop in cycle)
            errors.append(BuildError(
                f"link cycle: {names} -> {cycle[0][0].key}",
                code="E605", origin=cycle[0][0].origins.get(cycle[0][1]), path=cycle[0][0].key,
                hint="links, clock sources and alias targets must not loop; break the cycle",
            ))  # fmt: skip
        cycle_r = _reset_cycle(self.machine.reset_parent)
        if cycle_r is not None:
            errors.append(BuildError(
                "reset cycle: " + " -> ".join(o.key or "machine" for o in cycle_r),
                code="E605", origin=cycle_r[0].origin, path=cycle_r[0].key,
                hint="a reset domain cannot (indirectly) reset itself",
            ))  # fmt: skip
        if errors:
            raise errors[0] if len(errors) == 1 else Problems(errors)

    def realize(self) -> None:
        self.step = "realize"
        m = self.machine
        for obj in _realize_order(list(self.objects()), self.deps):
            self.current = obj
            m.realize(obj)


def _overlaps(space: AddressSpace) -> list[QconfError]:
    out: list[QconfError] = []
    rank = {id(mp): i for i, mp in enumerate(space.mappings)}  # document order
    maps = sorted(space.mappings, key=lambda mp: (mp.base, mp.end))
    for i, a in enumerate(maps):
        for j in range(i + 1, len(maps)):
            b = maps[j]
            if b.base >= a.end:
                break
            if a.priority == b.priority:
                # blame the region that comes later in the document: usually the addition
                first, later = (a, b) if rank[id(a)] < rank[id(b)] else (b, a)
                out.append(_overlap_error(space, first, later))
    return out


def _base_prop(obj: Object, region: Region) -> str:
    """The property that places ``region`` of ``obj``: ``base``, or ``NAME_base``."""
    named = f"{region.name}_base"
    return named if named in obj.info.prop_names else "base"


def _past_the_end(space: AddressSpace) -> list[QconfError]:
    out: list[QconfError] = []
    for mp in space.mappings:
        if mp.end > 1 << 64:
            out.append(BuildError(
                f"{mp.obj.key} at {mp.base:#x} with {mp.end - mp.base:#x} bytes runs past the "
                "end of the 64-bit address space", code="E612", origin=mp.origin,
                path=f"{mp.obj.key}.{_base_prop(mp.obj, mp.region)}",
                hint="move it lower, or make it smaller",
            ))  # fmt: skip
    return out


def _beyond_reach(space: AddressSpace, machine: Machine) -> list[QconfError]:
    """Regions a CPU that sees ``space`` cannot address: a 32-bit CPU reaches 4 GiB."""
    seeing = [cpu for sp in machine.spaces.values() if space in sp.chain() for cpu in sp.cpus]
    narrow = [(cpu, bits) for cpu in seeing
              if (arch := cpu.info.arch_info) is not None and (bits := arch.bits) < 64]  # fmt: skip
    out: list[QconfError] = []
    for mp in space.mappings:
        for cpu, bits in narrow:
            if mp.end > 1 << bits and mp.end <= 1 << 64:
                out.append(BuildError(
                    f"{mp.obj.key} at [{mp.base:#x}..{mp.end - 1:#x}] is beyond what "
                    f"{cpu.key} ({cpu.info.name}, {bits}-bit) can address: "
                    f"{format_size(1 << bits)} from 0x0",
                    code="E613", origin=mp.origin,
                    path=f"{mp.obj.key}.{_base_prop(mp.obj, mp.region)}",
                    hint=f"move it below {1 << bits:#x}, or into an address space "
                    f"{cpu.key} does not see",
                ))  # fmt: skip
                break
    return out


def _overlap_error(space: AddressSpace, a: Mapping, b: Mapping) -> BuildError:
    def show(mp: Mapping) -> str:
        where = f", set at {mp.origin.where()}" if mp.origin else ""
        name = "" if mp.region.name in ("regs", mp.region.kind) else f":{mp.region.name}"
        return f"{mp.obj.key}{name} [{mp.base:#x}..{mp.end - 1:#x}]{where}"

    return BuildError(
        f"regions overlap in address space {space.name!r}: {show(b)} overlaps {show(a)}",
        code="E606", origin=b.origin, path=f"{b.obj.key}.{_base_prop(b.obj, b.region)}",
        hint="move one of them, or give the one that should win a higher 'priority'",
    )  # fmt: skip


def _find_cycle(deps: dict[Object, list[tuple[Object, str]]]) -> list[tuple[Object, str]] | None:
    color: dict[Object, int] = {}
    stack: list[tuple[Object, str]] = []

    def visit(obj: Object) -> list[tuple[Object, str]] | None:
        color[obj] = 1
        for target, prop in deps.get(obj, ()):
            stack.append((obj, prop))
            if color.get(target) == 1:
                start = next(i for i, (o, _) in enumerate(stack) if o is target)
                return stack[start:]
            if color.get(target) is None:
                found = visit(target)
                if found is not None:
                    return found
            stack.pop()
        color[obj] = 2
        return None

    for obj in deps:
        if color.get(obj) is None:
            found = visit(obj)
            if found is not None:
                return found
    return None


def _reset_cycle(parents: dict[Object, Object]) -> list[Object] | None:
    for start in parents:
        seen: list[Object] = []
        obj: Object | None = start
        while obj is not None and obj not in seen:
            seen.append(obj)
            obj = parents.get(obj)
        if obj is not None:
            return seen[seen.index(obj) :]
    return None


def _realize_order(
    objects: list[Object], deps: dict[Object, list[tuple[Object, str]]]
) -> list[Object]:
    """Document order, except that an object comes after what it links to."""
    order: list[Object] = []
    placed: set[Object] = set()

    def place(obj: Object) -> None:
        if obj in placed:
            return
        placed.add(obj)  # cycles were rejected by check
        for target, _ in deps.get(obj, ()):
            place(target)
        order.append(obj)

    for obj in objects:
        place(obj)
    return order
