"""``qconf set FILE PATH=VALUE...``: edit a user file in place, keeping its comments,
order and formatting (ruamel.yaml round trip for YAML, tomlkit for TOML).

An edit means what the same ``--set`` means: the edited file resolves to the document
the original file gives with those ``--set`` arguments. Values are written as they were
typed (``0x10`` stays ``0x10``, also where the key holds text), a map merges into the map
the file has (its other keys stay), and markers are written where only a lower layer
sets what is deleted, appended to or replaced. :func:`edit_file` checks the property
before it writes.

Writing is safe against other writers and failures: the file is locked (``flock``) from
the read to the rename, so concurrent ``qconf set`` runs queue instead of losing
updates; a change by another program in between is reported; the new text goes to a
fresh temporary file beside the target (``O_EXCL``), takes the file's mode and owner, and
is renamed over it; a symlinked file's target is edited; any failure leaves the file as
it was and no temporary file behind (:mod:`qconf.config.rewrite`). How YAML and TOML
are read and written is :mod:`qconf.config.edit_formats`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from qconf.config.edit_formats import Format, Toml, Typed, Yaml
from qconf.config.node import Node, Op, PathKey, format_path, to_plain
from qconf.config.origin import LayerKind, Origin, Source
from qconf.config.overrides import Action, Override, parse_override
from qconf.config.rewrite import locked, replace
from qconf.errors import EditError, QconfError, SourceError

__all__ = ("edit_file", "edit_text")
# --- the edit of the text ----------------------------------------------------------------


def edit_text(
    path: Path,
    text: str,
    assignments: Sequence[str],
    lower: Node | None,
    typed: Typed | None = None,
) -> str:
    """``text`` (the contents of ``path``) with ``assignments`` applied.

    :param lower: the resolved document of the layers below this file (what it
        extends): where a key only a lower layer sets is deleted, appended to or
        replaced, the file gets a marker.
    :param typed: for TOML, which values are numbers or booleans: a value is written as
        a TOML number where the same ``--set`` resolves to that number, else as text.
    :raises OverrideError: an assignment does not parse.
    :raises EditError: the file's structure does not allow the edit.
    """
    overrides = [parse_override(a, i, LayerKind.FILE) for i, a in enumerate(assignments, 1)]
    fmt: Format = Toml(typed) if path.suffix.lower() == ".toml" else Yaml()
    doc = fmt.load(text)
    for ov in overrides:
        _Editor(fmt, ov, lower).apply(doc)
    return fmt.dump(doc)


class _Editor:
    """One assignment applied to a loaded document, with the meaning of ``--set``."""

    def __init__(self, fmt: Format, ov: Override, lower: Node | None) -> None:
        self.fmt, self.ov, self.lower = fmt, ov, lower

    def fail(self, message: str, code: str = "E501", hint: str | None = None) -> EditError:
        return EditError(message, code=code, path=format_path(self.ov.path), hint=hint)

    def below(self, path: tuple[PathKey, ...]) -> Node | None:
        """What a lower layer sets at ``path``; a type's default is set by no layer."""
        node = self.lower.lookup(path) if self.lower is not None else None
        if node is None or node.origin.source.kind is LayerKind.DEFAULT:
            return None
        return node

    def apply(self, doc: Any) -> None:
        path = self.ov.path
        parent = doc
        for depth, key in enumerate(path[:-1]):
            here = path[: depth + 1]
            child = _get(self.fmt, parent, key)
            op = self.fmt.op(child) if child is not None else None
            if child is None or op is Op.DELETE:
                child = self.make(parent, here, path[depth + 1], deleted=op is Op.DELETE)
                _set(self.fmt, parent, key, child)
            elif op in (Op.APPEND, Op.PREPEND):
                raise self.fail(
                    f"{format_path(here)} is a list marker (${op.value}) in the file",
                    hint="write the whole list instead",
                )
            elif not (self.fmt.is_map(child) or self.fmt.is_list(child)):
                raise self.fail(f"{format_path(here)} is not a map or list in the file")
            parent = child
        key = path[-1]
        action = self.ov.action
        if action is Action.DELETE:
            self.delete(parent, key, path)
            return
        assert self.ov.value is not None
        if action is Action.ADD and _get(self.fmt, parent, key) is not None:
            raise self.fail(
                "already set in the file",
                code="E503",
                hint=f"use {format_path(path)}=... to change it",
            )
        if action is Action.APPEND:
            value = self.ov.value
            items = value.value if isinstance(value.value, list) else [value]
            self.extend(parent, key, items, Op.APPEND, path)
            return
        self.put(parent, key, self.ov.value, path)

    def make(self, parent: Any, here: tuple[PathKey, ...], next_key: PathKey,
             deleted: bool) -> Any:  # fmt: skip
        """The map (or list) to create at ``here`` to reach ``next_key`` below it."""
        below = None if deleted else self.below(here)
        if isinstance(next_key, int):
            # an index into a list only a lower layer sets: the file takes a copy
            if below is None or not isinstance(below.value, list):
                raise self.fail(f"{format_path(here)} is not a list in the file or below it")
            return self.fresh(below, here)
        if deleted:  # the file deletes it: what is set below it now replaces it
            out = self.fmt.block_map(parent)
            out["$replace"] = self.fmt.true
            return out
        return self.fmt.block_map(parent)

    def delete(self, parent: Any, key: PathKey, path: tuple[PathKey, ...]) -> None:
        exists = _get(self.fmt, parent, key) is not None
        if isinstance(key, int):
            if not exists:
                raise self.fail("list index out of range in the file", code="E502")
            del parent[key]
            return
        below = self.below(path)
        if exists:
            del parent[key]
        if below is not None:  # a lower layer sets it: deleting takes a marker
            parent[key] = self.fmt.flow_map({"$delete": self.fmt.true})
        elif not exists:
            raise self.fail(
                "nothing to delete: neither the file nor what it extends sets this key",
                code="E502",
            )

    def extend(
        self, parent: Any, key: PathKey, items: list[Node], op: Op, path: tuple[PathKey, ...]
    ) -> None:
        """Append (or prepend) ``items`` to the list at ``key``, or write a marker that
        does it to the list a lower layer sets."""
        values = [self.fresh(item, path) for item in items]
        current = _get(self.fmt, parent, key)
        current_op = self.fmt.op(current) if current is not None else None
        if current is None or current_op is Op.DELETE:
            marker = "$append" if op is Op.APPEND else "$prepend"
            if current_op is Op.DELETE or self.below(path) is None:
                _set(self.fmt, parent, key, self.fmt.flow_list(values))
            else:
                _set(self.fmt, parent, key, self.fmt.flow_map({marker: self.fmt.flow_list(values)}))
            return
        if current_op in (Op.APPEND, Op.PREPEND):
            if current_op is not op:
                raise self.fail(
                    f"the file ${current_op.value}s to this list; a ${op.value} cannot join it",
                    hint="write the whole list instead",
                )
            target = self.fmt.marker_items(current, op)
        elif self.fmt.is_list(current):
            target = current
        else:
            raise self.fail(
                f"is not a list in the file; {'+=' if op is Op.APPEND else '$prepend'} "
                "extends lists",
                hint=f"to replace it use {format_path(path)}=...",
            )
        if op is Op.APPEND:
            target.extend(values)
        else:
            for i, value in enumerate(values):
                target.insert(i, value)

    def put(self, parent: Any, key: PathKey, value: Node, path: tuple[PathKey, ...]) -> None:
        """Merge ``value`` into the file at ``key`` as a ``--set`` merges it."""
        op = value.op
        if op is Op.DELETE:
            self.delete(parent, key, path)
            return
        if op in (Op.APPEND, Op.PREPEND):
            self.extend(parent, key, list(value.value), op, path)
            return
        if isinstance(key, int):
            size = len(parent)
            if not -size <= key <= size or (key == size and self.ov.action is Action.ASSIGN):
                raise self.fail(f"list index out of range (the list has {size} items)")
            if key == size:
                parent.append(self.fresh(value, path))
                return
        current = _get(self.fmt, parent, key)
        current_op = self.fmt.op(current) if current is not None else None
        if op is None and isinstance(value.value, dict):
            mergeable = current is not None and self.fmt.is_map(current)
            if mergeable and current_op in (None, Op.REPLACE):
                for k, child in value.value.items():
                    self.put(current, k, child, (*path, k))
                return
            out = self.fresh(value, path)
            below = self.below(path)
            if current is not None and below is not None and isinstance(below.value, dict):
                # the file had something else here, which hid the lower layers' map:
                # the new map replaces, as the --set replaces what the file had
                out = self.fmt.flow_map({"$replace": self.fmt.true, **out})
            _set(self.fmt, parent, key, out)
            return
        _set(self.fmt, parent, key, self.fresh(value, path))

    def fresh(self, node: Node, path: tuple[PathKey, ...]) -> Any:
        """``node`` as new data of the file's format, with its markers."""
        op, value = node.op, node.value
        fmt = self.fmt
        if op is Op.DELETE:
            return fmt.flow_map({"$delete": fmt.true})
        if op in (Op.APPEND, Op.PREPEND):
            items = [self.fresh(item, path) for item in value]
            return fmt.flow_map({f"${op.value}": fmt.flow_list(items)})
        if isinstance(value, dict):
            entries = {k: self.fresh(c, (*path, k)) for k, c in value.items()}
            if op is Op.REPLACE:
                entries = {"$replace": fmt.true, **entries}
            return fmt.flow_map(entries)
        if isinstance(value, list):
            return fmt.flow_list([self.fresh(c, (*path, i)) for i, c in enumerate(value)])
        return fmt.scalar(node, path)


def _get(fmt: Format, parent: Any, key: PathKey) -> Any:
    if isinstance(key, int):
        if fmt.is_list(parent) and -len(parent) <= key < len(parent):
            return parent[key]
        if not fmt.is_list(parent):
            raise EditError(
                f"[{key}] indexes a list, but the file has a map or value there",
                code="E501",
            )
        return None
    if not fmt.is_map(parent):
        raise EditError(f"{key!r} names a key, but the file has a list or value there",
                        code="E501")  # fmt: skip
    return parent.get(key)


def _set(fmt: Format, parent: Any, key: PathKey, value: Any) -> None:
    new = isinstance(key, str) and fmt.is_map(parent) and key not in parent
    parent[key] = value
    if new:
        assert isinstance(key, str)
        fmt.added(parent, key)


# --- the edit of the file -----------------------------------------------------------------


Resolver = Callable[[Path, Sequence[str], str, bool], Node | None]
"""``resolve(path, sets, text, lower)``: the tree of the document ``path`` gives when it
holds ``text``, with ``--set`` arguments ``sets``; with ``lower``, the tree of what it
extends (None if nothing). Raises QconfError as a resolve does. See
:func:`qconf.resolve.edit_resolver`."""


def edit_file(
    file: str | Path, assignments: Sequence[str], *, resolve: Resolver, dry_run: bool = False
) -> str:
    """Edit ``file`` with ``assignments`` (the ``--set`` grammar) and write it back,
    unless ``dry_run``; the edited text.

    :param resolve: how documents are resolved (the layers, search path and types).
    :raises OverrideError: an assignment does not parse.
    :raises SourceError: the file cannot be read (missing, not a regular file, too large).
    :raises EditError: the edit does not fit the file (E501-E504), the file cannot be
        written (E505), it was changed by another program while being edited (E506),
        or the edit cannot be written so that it resolves as the same ``--set``
        (E507); the file is then as it was.
    :raises QconfError: the edited file does not resolve (any stage's error, located
        in the edited text).
    """
    from qconf.config.sources import Unreadable as _Unreadable
    from qconf.config.sources import (
        decode_text,
        max_file_bytes,
        open_regular,
        read_open,
        unreadable_error,
    )

    shown = Path(file)
    origin = Origin(Source(str(file), layer=f"file {file}"))
    for i, a in enumerate(assignments, 1):  # grammar errors first, before any lock
        parse_override(a, i, LayerKind.FILE)
    try:
        target = Path(os.path.realpath(shown))  # a link's target is the file to edit
    except (OSError, ValueError) as exc:
        raise unreadable_error(exc, origin) from None
    try:
        fd, _ = open_regular(target)
    except FileNotFoundError:
        raise SourceError(
            "no such file",
            code="E101",
            origin=origin,
            hint="qconf set edits a file that exists: write its first line "
            "(for example extends: PROFILE) yourself",
        ) from None
    except (_Unreadable, OSError, ValueError) as exc:
        raise unreadable_error(exc, origin) from None
    try:
        with locked(fd, target, origin, exclusive=not dry_run) as held:
            try:
                text = decode_text(read_open(fd, held, max_file_bytes()), origin)
            except (_Unreadable, OSError) as exc:
                raise unreadable_error(exc, origin) from None
            st = os.fstat(fd)  # as read: a change from here on is another writer's
            lower = resolve(shown, (), text, True)
            try:
                expected = resolve(shown, assignments, text, False)
            except QconfError:
                expected = None  # the --set fails: the edit stands on its own
            types = expected
            if types is None:  # `+key` a lower layer sets: what the value would be
                with contextlib.suppress(QconfError):
                    types = resolve(shown, [_upsert(a) for a in assignments], text, False)

            def typed(path: tuple[PathKey, ...]) -> Any:
                node = types.lookup(path) if types is not None else None
                return node.value if node is not None else None

            try:
                new_text = edit_text(target, text, assignments, lower, typed)
            except EditError as exc:  # about the file as it is: located there
                exc.origin = exc.origin or origin
                raise
            try:
                edited = resolve(shown, (), new_text, False)
            except QconfError as exc:  # located in the file as it is, not the unwritten text
                raise _as_in(exc, target, text, assignments) from None
            if (
                expected is not None
                and edited is not None
                and to_plain(edited) != to_plain(expected)
            ):
                raise EditError(
                    "the edited file would not resolve as the same --set does"
                    + _first_difference(to_plain(edited), to_plain(expected)),
                    code="E507",
                    origin=origin,
                    hint="nothing was written; make this change by hand (and please report it)",
                )
            if not dry_run:
                replace(target, new_text, st, origin)
            return new_text
    finally:
        os.close(fd)


def _as_in(error: QconfError, target: Path, text: str, assignments: Sequence[str]) -> QconfError:
    """``error``, found in the edited text of ``target``, located in its text as it is
    (``text``): each error in the file at the key it concerns, or at the nearest key above
    it that the file has (``ram.sise=1GiB``: at ``ram:``), with the assignment that
    makes it."""
    from qconf.config.paths import PathSyntaxError, parse_path
    from qconf.config.sources import read_text
    from qconf.errors import Problems, flatten

    trees: dict[object, Node | None] = {}
    out: list[QconfError] = []
    for err in flatten(error):
        origin = err.origin
        if origin is None or origin.source.path != target or not err.path:
            out.append(err)
            continue
        if origin.source not in trees:
            try:
                trees[origin.source] = read_text(target, text, origin.source)
            except QconfError:
                trees[origin.source] = None
        node = trees[origin.source]
        try:
            keys = parse_path(err.path)
        except PathSyntaxError:
            keys = ()
        if node is None or not keys:
            out.append(err)
            continue
        found = 0
        for key in keys:
            child = node.get(key)
            if child is None:
                break
            node, found = child, found + 1
        err.origin = node.origin
        if found < len(keys):  # a key the edit adds: say which assignment
            making = [a for a in assignments if _touches(a, keys)]
            if making:
                note = "made by " + ", ".join(repr(a) for a in making)
                err.hint = f"{err.hint}\n{note}" if err.hint else note
        out.append(err)
    return out[0] if len(out) == 1 else Problems(out)


def _touches(assignment: str, keys: tuple[PathKey, ...]) -> bool:
    """Whether ``assignment`` sets ``keys`` or a key above or below it."""
    try:
        path = parse_override(assignment, 1, LayerKind.FILE).path
    except QconfError:
        return False
    n = min(len(path), len(keys))
    return tuple(path[:n]) == tuple(keys[:n])


def _upsert(assignment: str) -> str:
    """``+path=value`` as ``++path=value`` (add or override); others as they are."""
    return "+" + assignment if assignment.startswith("+") and assignment[1:2] != "+" else assignment


def _first_difference(a: Any, b: Any, path: tuple[PathKey, ...] = ()) -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in (*a, *(k for k in b if k not in a)):
            if a.get(k) != b.get(k):
                return _first_difference(a.get(k), b.get(k), (*path, k))
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _first_difference(x, y, (*path, i))
    return f" ({format_path(path) or 'the machine'}: {a!r} edited, {b!r} by --set)"
