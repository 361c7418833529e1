"""Layers and the loop that stacks them.

Lowest to highest: type defaults (filled in at validation) < profiles (``extends``, in
order, each after its own bases, each once) < user files (``-c``, in order; a file's
``include`` fragments sit below the file's own keys) < ``--set`` arguments (in order).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from qconf.config.limits import Budget, file_nodes, include_reads
from qconf.config.merge import merge
from qconf.config.node import Node
from qconf.config.origin import LayerKind, Origin, Source, display_path
from qconf.config.overrides import Declared, is_open, parse_override
from qconf.config.paths import PathSyntaxError, parse_path
from qconf.config.search import SearchPath
from qconf.config.sources import SUFFIXES, file_problem, read_file, read_text
from qconf.errors import LayerError, SourceError

__all__ = ("DIRECTIVES", "MAX_INCLUDE_DEPTH", "FileLayer", "Layer", "load_layers",
           "merge_layers")  # fmt: skip

MAX_INCLUDE_DEPTH = 16
DIRECTIVES = ("extends", "include")


class Layer(Protocol):
    """Anything that can be stacked on the document: a file or a ``--set``."""

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> LayerKind: ...

    def apply(self, state: Node, declared: Declared | None) -> Node: ...


@dataclass(frozen=True)
class FileLayer:
    """A profile or user file, with its include fragments merged in."""

    name: str
    kind: LayerKind
    path: Path
    tree: Node

    def apply(self, state: Node, declared: Declared | None) -> Node:
        opened = (lambda node: is_open(declared, node)) if declared else None
        result = merge(state, self.tree, strict=True, is_open=opened)
        assert result is not None  # the root map carries no marker
        return result


def empty_document() -> Node:
    return Node({}, Origin(Source("(empty document)", kind=LayerKind.DEFAULT)))


def merge_layers(layers: Sequence[Layer], declared: Declared | None = None) -> Node:
    """Stack ``layers`` lowest first into one merged document: the one layering loop."""
    state = empty_document()
    for layer in layers:
        state = layer.apply(state, declared)
    files = [layer for layer in layers if isinstance(layer, FileLayer)]
    if files and state.origin.source.kind is LayerKind.DEFAULT:
        # the machine is where the highest file starts, not "(empty document)": what is
        # said of it as a whole (it has no CPU) is then located
        state = Node(state.value, files[-1].tree.origin, state.op)
    return state


def load_layers(
    files: Sequence[str | Path],
    sets: Sequence[str] = (),
    search: SearchPath | None = None,
    texts: Mapping[Path, str] | None = None,
) -> list[Layer]:
    """Read ``files`` (with everything they extend and include) and parse ``sets``.

    ``texts`` gives the contents to use instead of reading some files (keyed by resolved
    path): ``qconf set`` validates an edit before writing it.

    :raises SourceError: a file cannot be read or parsed.
    :raises LayerError: a profile is not found, a cycle, too deep, a bad directive.
    :raises OverrideError: a ``--set`` argument does not parse.
    """
    loader = _Loader(search or SearchPath.default(), dict(texts or {}), file_nodes(),
                     include_reads())  # fmt: skip
    users = [loader.user_file(Path(f)) for f in files]
    overrides = [parse_override(text, i) for i, text in enumerate(sets, 1)]
    return [*loader.profiles, *users, *overrides]


@dataclass
class _Loader:
    search: SearchPath
    texts: dict[Path, str]
    nodes: Budget
    includes: Budget
    profiles: list[Layer] = field(default_factory=list)
    loaded: set[Path] = field(default_factory=set)
    parsed: dict[tuple[Path, str, LayerKind], tuple[Node, int]] = field(default_factory=dict)
    """Each file's tree and node count by path and layer: a file included many times is
    read once."""

    def user_file(self, path: Path) -> FileLayer:
        if not _exists(path) and "/" not in str(path):
            found = self.search.find(str(path))  # `-c riscv-virt` names a profile
            if found is not None:
                path = found
        name = f"file {display_path(path)}"
        if not _exists(path):
            raise SourceError(
                "no such file",
                code="E101",
                origin=Origin(Source(display_path(path), layer=name)),
                hint="give a path to a YAML or TOML file, or a profile name\n"
                + self._not_found_hint(path.name),
            )
        tree = self.load(path, (), name, LayerKind.FILE, None)
        return FileLayer(name, LayerKind.FILE, path, tree)

    def load(
        self, path: Path, chain: tuple[Path, ...], layer: str, kind: LayerKind, at: Origin | None
    ) -> Node:
        try:
            real = path.resolve()
        except (OSError, ValueError):  # a name the system refuses: reading it says why
            real = Path(os.path.abspath(path))
        if real in chain:
            cycle = " -> ".join(display_path(p) for p in (*chain[chain.index(real) :], real))
            raise LayerError(
                f"include cycle: {cycle}",
                code="E202",
                origin=at,
                hint="remove one of the extends/include entries in the cycle",
            )
        if len(chain) >= MAX_INCLUDE_DEPTH:
            raise LayerError(
                f"extends/include nested deeper than {MAX_INCLUDE_DEPTH} files",
                code="E203",
                origin=at,
                hint="chain: " + " -> ".join(display_path(p) for p in chain),
            )
        if at is not None:
            self.includes.spend(1, at)
        source = Source(display_path(path), layer=layer, kind=kind, path=real)
        cached = self.parsed.get((real, layer, kind))
        if cached is None:
            left = self.nodes.left
            text = self.texts.get(real)
            tree = (
                read_file(path, source, self.nodes)
                if text is None
                else read_text(path, text, source, self.nodes)
            )
            self.parsed[(real, layer, kind)] = (tree, left - self.nodes.left)
        else:  # read already; merged in once more, its nodes count once more
            tree, size = cached
            self.nodes.spend(size, at)
        if not isinstance(tree.value, dict):
            raise LayerError(
                "a machine document must be a map of keys",
                code="E204",
                origin=tree.origin,
                hint="start with `type: machine` or `extends: PROFILE`",
            )
        own = dict(tree.value)
        extends = own.pop("extends", None)
        include = own.pop("include", None)
        chain = (*chain, real)
        for ref, ref_origin in _strings(extends, "extends"):
            base = self.find(ref, real.parent, ref_origin)
            if base.resolve() in self.loaded:
                continue
            pname = f"profile {base.stem}"
            btree = self.load(base, chain, pname, LayerKind.PROFILE, ref_origin)
            self.loaded.add(base.resolve())
            self.profiles.append(FileLayer(pname, LayerKind.PROFILE, base, btree))
        result: Node | None = None
        for ref, ref_origin, mount in _includes(include):
            frag_path = self.find(ref, real.parent, ref_origin, by_name=False)
            frag = self.load(frag_path, chain, layer, kind, ref_origin)
            mounted = _mount(frag, mount)
            result = mounted if result is None else merge(result, mounted, strict=False)
        own_node = Node(own, tree.origin)
        if result is None:
            return own_node
        merged = merge(result, own_node, strict=False)
        assert merged is not None
        return merged

    def find(self, ref: str, base_dir: Path, origin: Origin, by_name: bool = True) -> Path:
        is_path = "/" in ref or ref.endswith(SUFFIXES) or not by_name
        if is_path:
            path = (base_dir / ref) if not Path(ref).is_absolute() else Path(ref)
            problem = file_problem(path)
            if problem is None:
                return path
            if problem == "no such file":
                raise LayerError(
                    f"file {ref!r} not found (looked at {display_path(path)})",
                    code="E201",
                    origin=origin,
                    hint="paths are relative to the file that names them",
                )
            raise LayerError(
                f"cannot read {_short(ref)!r}: {problem}",
                code="E201",
                origin=origin,
                hint="name a regular YAML or TOML file; paths are relative to the file "
                "that names them",
            )
        found = self.search.find(ref)
        if found is None:
            raise LayerError(
                f"profile {ref!r} not found",
                code="E201",
                origin=origin,
                hint=self._not_found_hint(ref),
            )
        return found

    def _not_found_hint(self, ref: str) -> str:
        close = self.search.suggest(Path(ref).stem)
        lines = []
        if close:
            lines.append("did you mean " + " or ".join(f"'{c}'" for c in close) + "?")
        lines.append(
            "search path: "
            + ", ".join(display_path(d) for d in self.search.dirs)
            + " (add directories with -I DIR or $QCONF_PATH)"
        )
        return "\n".join(lines)


def _exists(path: Path) -> bool:
    """Whether something is at ``path``; a name the system refuses (too long) counts as
    there, so that reading it reports why."""
    try:
        path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return False
    except (OSError, ValueError):
        return True
    return True


def _short(text: str, keep: int = 60) -> str:
    return text if len(text) <= keep else text[: keep - 3] + "..."


def _strings(node: Node | None, what: str) -> list[tuple[str, Origin]]:
    if node is None:
        return []
    items = node.value if isinstance(node.value, list) else [node]
    out = []
    for item in items:
        if not isinstance(item.value, str) or not item.value:
            raise LayerError(
                f"{what} takes a profile name or a path, or a list of them",
                code="E204",
                origin=item.origin,
                path=what,
            )
        out.append((item.value, item.origin))
    return out


def _includes(node: Node | None) -> list[tuple[str, Origin, tuple[str, ...]]]:
    if node is None:
        return []
    items = node.value if isinstance(node.value, list) else [node]
    out: list[tuple[str, Origin, tuple[str, ...]]] = []
    for item in items:
        if isinstance(item.value, str) and item.value:
            out.append((item.value, item.origin, ()))
            continue
        if isinstance(item.value, dict) and set(item.value) <= {"path", "at"}:
            p, at = item.value.get("path"), item.value.get("at")
            if p is not None and isinstance(p.value, str):
                mount: tuple[str, ...] = ()
                if at is not None:
                    try:
                        keys = parse_path(str(at.value))
                    except PathSyntaxError as exc:
                        raise LayerError(
                            f"bad include mount point: {exc}",
                            code="E204",
                            origin=at.origin,
                            path="include.at",
                        ) from None
                    if any(isinstance(k, int) for k in keys):
                        raise LayerError(
                            "include mount points name maps, not list items",
                            code="E204",
                            origin=at.origin,
                            path="include.at",
                        )
                    mount = tuple(str(k) for k in keys)
                out.append((p.value, item.origin, mount))
                continue
        raise LayerError(
            "include takes a path, {path: FILE, at: KEY.PATH}, or a list of them",
            code="E204",
            origin=item.origin,
            path="include",
        )
    return out


def _mount(frag: Node, at: tuple[str, ...]) -> Node:
    for key in reversed(at):
        frag = Node({key: frag}, frag.origin)
    return frag
