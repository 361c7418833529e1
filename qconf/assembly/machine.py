"""A built machine: the composition tree and the views derived from it.

* address spaces: the machine's system space, and one per container that declares
  ``address_space: true``; each maps regions of objects at addresses with priorities, and
  sees its enclosing space beneath its own regions;
* IRQ wires: output properties connected to input lines (several outputs on one input
  are ORed);
* the clock tree: ``clock`` objects and the clock inputs that take them;
* the reset tree: each object is reset by its parent, or by the reset domain that lists it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from qconf.config.origin import Origin
from qconf.model.lifecycle import State, require, transition
from qconf.model.objects import Object
from qconf.model.registry import Region

__all__ = ("AddressSpace", "Machine", "Mapping", "Wire")


@dataclass(frozen=True)
class Mapping:
    """A region of an object, placed in an address space."""

    obj: Object
    region: Region
    origin: Origin | None = None
    target: Object | None = None  # what an alias shows
    offset: int = 0  # where in the target

    @property
    def base(self) -> int:
        return self.region.base

    @property
    def end(self) -> int:
        """One past the last byte."""
        return self.region.base + self.region.size

    @property
    def priority(self) -> int:
        return self.region.priority


@dataclass
class AddressSpace:
    """Regions at addresses; an enclosing space shows through where none is mapped."""

    name: str
    owner: Object
    parent: AddressSpace | None = None
    mappings: list[Mapping] = field(default_factory=list)
    cpus: list[Object] = field(default_factory=list)

    def lookup(self, address: int) -> Mapping | None:
        """The mapping that serves ``address``: the highest priority here, else below."""
        best: Mapping | None = None
        for m in self.mappings:
            if m.base <= address < m.end and (best is None or m.priority > best.priority):
                best = m
        if best is None and self.parent is not None:
            return self.parent.lookup(address)
        return best

    def chain(self) -> Iterator[AddressSpace]:
        """This space, then each enclosing one."""
        space: AddressSpace | None = self
        while space is not None:
            yield space
            space = space.parent


@dataclass(frozen=True)
class Wire:
    """An interrupt output (``source.output``) driving an input line of ``sink``."""

    source: Object
    output: str
    sink: Object
    line: str
    index: int
    origin: Origin | None = None

    @property
    def input_name(self) -> str:
        return f"{self.sink.key}.{self.line}[{self.index}]"


@dataclass
class Machine:
    """A machine built from a document (see :func:`qconf.assembly.builder.build`)."""

    root: Object
    spaces: dict[str, AddressSpace] = field(default_factory=dict)
    wires: list[Wire] = field(default_factory=list)
    clock_links: dict[tuple[Object, str], Object] = field(default_factory=dict)
    reset_parent: dict[Object, Object] = field(default_factory=dict)
    backends: dict[tuple[Object, str], Object] = field(default_factory=dict)
    """(device, "chardev" or "memory") -> its backend object."""
    order: list[Object] = field(default_factory=list)  # realize order

    # --- the tree -------------------------------------------------------------------

    def objects(self) -> Iterator[Object]:
        """Every object, the machine first, in document order."""
        return self.root.walk()

    def find(self, path: str) -> Object | None:
        """The object at a canonical (``/machine/soc/uart0``) or dotted (``soc.uart0``)
        path."""
        names = path.strip("/").replace("/", ".").split(".") if path.strip("/.") else []
        if names and names[0] == self.root.name and path.startswith("/"):
            names = names[1:]
        obj: Object | None = self.root
        for name in names:
            obj = obj.children.get(name) if obj is not None else None
        return obj

    def object(self, path: str) -> Object:
        """Like :meth:`find`.

        :raises KeyError: nothing at ``path``.
        """
        obj = self.find(path)
        if obj is None:
            raise KeyError(path)
        return obj

    # --- views ----------------------------------------------------------------------

    def space_of(self, obj: Object) -> AddressSpace:
        """The address space ``obj`` lives in (and, for a CPU, the one it sees)."""
        o: Object | None = obj
        while o is not None:
            space = self.spaces.get(o.path)
            if space is not None:
                return space
            o = o.parent
        return self.spaces[self.root.path]

    def rams(self) -> list[Object]:
        """The RAMs (objects mapped as ``ram`` regions), in document order."""
        mapped = {id(m.obj) for space in self.spaces.values() for m in space.mappings
                  if m.region.kind == "ram"}  # fmt: skip
        return [o for o in self.objects() if id(o) in mapped]

    def cpus(self) -> list[Object]:
        """The CPUs (objects whose type has an architecture), in document order."""
        return [o for o in self.objects() if o.info.arch is not None]

    def sources(self, sink: Object, line: str, index: int) -> list[Wire]:
        """The wires into one input line (more than one: they are ORed)."""
        return [w for w in self.wires if w.sink is sink and w.line == line and w.index == index]

    def clock_rate(self, obj: Object, prop: str) -> int:
        """The frequency (Hz) at clock input ``prop`` of ``obj``: its own value, or the
        derived frequency of the clock object it names."""
        clock = self.clock_links.get((obj, prop))
        if clock is None:
            value = obj.get(prop)
            assert isinstance(value, int)
            return value
        return self.clock_freq(clock)

    def clock_freq(self, clock: Object) -> int:
        """A ``clock`` object's frequency: its ``freq``, or its source's * mul // div."""
        source = self.clock_links.get((clock, "source"))
        if source is None:
            freq = clock.get("freq")
            assert isinstance(freq, int)
            return freq
        return int(self.clock_freq(source) * clock.get("mul") // clock.get("div"))

    def reset_children(self, obj: Object) -> list[Object]:
        """The objects ``obj`` resets directly."""
        return [o for o, parent in self.reset_parent.items() if parent is obj]

    # --- operations -----------------------------------------------------------------

    def realize(self, obj: Object) -> None:
        """Realize one configured object: its type's hooks take its resources. It
        joins the realize order first, so that a realize failing half-way is undone too
        (see :func:`teardown`)."""
        if obj.info.hooks is not None:
            obj.hooks = obj.info.hooks(obj, self)
        self.order.append(obj)
        if obj.hooks is not None:
            obj.hooks.realize()
        transition(obj, State.REALIZED)

    @property
    def state(self) -> State:
        return self.root.state

    def reset(self, start: Object | None = None) -> list[Object]:
        """Reset ``start`` (default: the machine) and everything below it in the reset
        tree; returns the objects reset, in order.

        :raises StateError: the machine is not realized.
        """
        first = start or self.root
        require(first, State.REALIZED, action="reset")
        done: list[Object] = []
        stack = [first]
        while stack:
            obj = stack.pop()
            if obj.hooks is not None:
                obj.hooks.reset()
            done.append(obj)
            stack.extend(reversed(self.reset_children(obj)))
        return done

    def destroy(self) -> None:
        """Unrealize every object (reverse realize order), then destroy them, children
        before parents. Safe to call on a machine in any state."""
        teardown(self.root, self.order)
        self.order.clear()
        self.spaces.clear()
        self.wires.clear()
        self.clock_links.clear()
        self.reset_parent.clear()
        self.backends.clear()


def teardown(root: Object, realized: list[Object]) -> list[BaseException]:
    """Unrealize ``realized`` newest first, then destroy the whole tree under ``root``,
    newest first; returns the errors raised on the way (teardown never stops early)."""
    errors: list[BaseException] = []
    for obj in reversed(realized):
        # the newest may have failed half-way through realize: undo what it did, too
        if obj.state in (State.REALIZED, State.CONFIGURED) and obj.hooks is not None:
            try:
                obj.hooks.unrealize()
            except Exception as exc:  # keep tearing down; report it afterwards
                errors.append(exc)
        if obj.state is State.REALIZED:
            transition(obj, State.UNREALIZED)
    for obj in reversed(list(root.walk())):
        if obj.state is not State.DESTROYED:
            if obj.state is State.REALIZED:  # realized outside the recorded order
                transition(obj, State.UNREALIZED)
            obj.destroy()
    return errors
