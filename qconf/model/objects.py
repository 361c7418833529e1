"""Objects: the nodes of a machine's composition tree.

Every object has a name, exactly one parent (the root is the machine itself), typed
properties, and a life-cycle :class:`~qconf.model.lifecycle.State`. Objects are made only
by :meth:`Object.add_child` on their parent, so none is ever unattached; the root is made
by the builder together with its machine. Paths come from the names in the document:
``/machine/soc/uart0``, never from creation order.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from qconf.config.origin import Origin
from qconf.errors import StateError, ValidationError
from qconf.model.lifecycle import State, require, transition

if TYPE_CHECKING:
    from qconf.model.registry import TypeInfo

__all__ = ("ROOT_NAME", "Hooks", "Object")

ROOT_NAME = "machine"
_NAME_RE = re.compile(r"^[A-Za-z0-9_$.-]+$")


class Hooks(Protocol):
    """What a type does when its objects are realized, reset and unrealized at build time
    (a type's ``hooks`` facet makes one per object); most types have none."""

    def realize(self) -> None: ...

    def unrealize(self) -> None: ...

    def reset(self) -> None: ...


class Object:
    """One object of a machine: name, parent, type, properties, state, children."""

    __slots__ = ("__weakref__", "_children", "_path", "hooks", "info", "name",
                 "origin", "origins", "parent", "state", "values")  # fmt: skip

    def __init__(self, name: str, parent: Object | None, info: TypeInfo, origin: Origin) -> None:
        # private: use Object.add_child (or the builder, for the root)
        self.name = name
        self.parent = parent
        self.info = info
        self.origin = origin
        self.values: dict[str, Any] = info.defaults
        """The canonical, validated property values (plain data: the machine cache saves
        them as they are); never changed in place."""
        self.origins: dict[str, Origin] = {}
        self.state = State.CREATED
        self.hooks: Hooks | None = None
        self._children: dict[str, Object] = {}
        # names never change, so neither does the path
        self._path: str = f"{parent.path}/{name}" if parent is not None else f"/{name}"

    @classmethod
    def _root(cls, info: TypeInfo, origin: Origin) -> Object:
        return cls(ROOT_NAME, None, info, origin)

    def __repr__(self) -> str:
        return f"<{self.info.name} {self.path} {self.state.value}>"

    # --- the tree -------------------------------------------------------------------

    @property
    def path(self) -> str:
        """The canonical path: ``/machine/soc/uart0`` (kept after destruction)."""
        return self._path

    @property
    def key(self) -> str:
        """The dotted document path (``soc.uart0``; empty for the machine)."""
        return self._path[len(ROOT_NAME) + 2 :].replace("/", ".")

    @property
    def children(self) -> Mapping[str, Object]:
        return self._children

    def add_child(self, name: str, info: TypeInfo, origin: Origin) -> Object:
        """Create a child object called ``name`` (the only way objects come to be).

        A realized object takes only children of a hotpluggable type (RAM), which join
        the running machine (:mod:`qconf.assembly.hotplug`), and the containers that hold
        their backends.

        :raises StateError: this object is realized (and the child's type is not
            hotpluggable) or gone.
        :raises ValueError: the name is taken or not a valid name.
        """
        # what a hotplugged RAM comes with: the containers of its backend, and the backend
        if info.hotpluggable or info.category in ("machine", "backend"):
            require(self, State.CREATED, State.CONFIGURED, State.REALIZED,
                    action="add a child to")  # fmt: skip
        else:
            require(self, State.CREATED, State.CONFIGURED, action="add a child to")
        if name in self._children:
            raise ValueError(f"{self.path} already has a child {name!r}")
        if not _NAME_RE.match(name):
            raise ValueError(f"{name!r} is not a valid object name")
        child = Object(name, self, info, origin)
        self._children[name] = child
        return child

    def destroy(self) -> None:
        """Remove this object (it has no children left) from its parent: -> destroyed.

        :raises StateError: it is realized (unrealize it first), or already gone.
        :raises ValueError: it still has children.
        """
        if self._children:
            raise ValueError(f"{self.path} still has children: {', '.join(self._children)}")
        transition(self, State.DESTROYED)
        self.hooks = None
        if self.parent is not None:
            del self.parent._children[self.name]

    def walk(self) -> Iterator[Object]:
        """This object and every descendant, parents before children, in document order."""
        stack = [self]
        while stack:
            obj = stack.pop()
            yield obj
            stack.extend(reversed(obj._children.values()))

    # --- properties ---------------------------------------------------------------

    def get(self, prop: str) -> Any:
        """The canonical value of property ``prop``."""
        if prop not in self.info.prop_names:
            raise KeyError(f"{self.info.name} has no property {prop!r}")
        return self.values.get(prop)

    def configure(self, values: Mapping[str, Any], origins: Mapping[str, Origin]) -> None:
        """Take the document's (already validated, canonical) values: created -> configured."""
        require(self, State.CREATED, action="configure")
        self.values = {**self.info.defaults, **values}
        self.origins.update(origins)
        transition(self, State.CONFIGURED)

    def set(self, prop: str, value: Any, origin: Origin) -> None:
        """Change one property, validated against the type.

        :raises StateError: the object is realized and ``prop`` is not runtime-writable,
            or the object is gone.
        :raises ValidationError: the value does not fit the property's type.
        """
        if self.state is State.REALIZED and prop not in self.info.runtime:
            raise StateError(
                f"cannot set {prop!r} of {self.path}: it is realized and {prop!r} is not "
                "runtime-writable",
                state=self.state.value,
                required="created or configured",
                path=self.path,
            )
        require(self, State.CREATED, State.CONFIGURED, State.REALIZED, action="set a property of")
        import pydantic

        model = self.info.model()
        try:  # canonical values validate to themselves; the new one is checked with them
            checked = model.model_validate({**self.values, prop: value})
        except pydantic.ValidationError as exc:
            from qconf.model.messages import describe

            first = exc.errors()[0]
            message, hint = describe(first, model.model_fields.get(prop),
                                     self.info.units.get(prop))  # fmt: skip
            raise ValidationError(
                message,
                code="E405",
                origin=origin,
                path=f"{self.key}.{prop}" if self.key else prop,
                hint=hint,
            ) from None
        value = getattr(checked, prop)
        marker = self.info.paths.get(prop)
        if marker is not None:  # a file named over QMP: from the working directory
            value = marker.locate(value, origin)
        self.values = {**self.values, prop: value}
        self.origins[prop] = origin
