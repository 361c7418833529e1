"""Commands about the document: what it resolves to, where values come from, how two
differ, editing a file, and the types and profiles it is written with."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from qconf.cli.base import layer_options, main, reports_errors, resolve_files
from qconf.cli.complete import complete_path, complete_set, complete_type
from qconf.config.dump import FORMATS, dump
from qconf.config.paths import PathSyntaxError, parse_path
from qconf.config.search import SearchPath
from qconf.errors import OverrideError

__all__ = ("diff", "explain", "profiles", "resolve", "schema", "set_", "types", "validate")


@main.command()
@layer_options
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="yaml", show_default=True)
@click.option("--show-origin", is_flag=True, help="Annotate each value with where it was set.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="Write to a file instead of stdout.",
)
@reports_errors()
def resolve(
    files: tuple[str, ...],
    sets: tuple[str, ...],
    include_dirs: tuple[str, ...],
    fmt: str,
    show_origin: bool,
    output: str | None,
) -> None:
    """Print the complete resolved document (defaults filled in, values canonical)."""
    doc = resolve_files(files, sets, include_dirs)
    # the files it names: absolute on stdout, relative to the document written with -o
    # (either reads back to the same files, from any working directory)
    at = os.path.dirname(os.path.abspath(output)) if output else None
    text = dump(doc.display_tree(pretty=fmt != "json", paths_from=at), fmt, show_origin)
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@main.command()
@layer_options
@reports_errors()
def validate(files: tuple[str, ...], sets: tuple[str, ...], include_dirs: tuple[str, ...]) -> None:
    """Check the document, that it builds (links, wires, memory map) and everything qconf
    run checks before the first instruction (pages, images, consoles, host memory); exit
    0 when it is valid, else print every error and exit 1."""
    from qconf.assembly.builder import build
    from qconf.emu.preflight import check

    doc = resolve_files(files, sets, include_dirs)
    machine = build(doc)
    try:
        check(machine, memory=True)
    except BaseException:
        machine.destroy()
        raise
    n = sum(1 for _ in machine.objects())
    regions = sum(len(space.mappings) for space in machine.spaces.values())
    click.echo(
        f"ok: {n} objects, {len(doc.layers)} layers, {regions} regions in "
        f"{len(machine.spaces)} address space{'s' if len(machine.spaces) != 1 else ''}, "
        f"{len(machine.wires)} interrupt wires"
    )
    machine.destroy()


def _parse_user_path(text: str) -> tuple[str | int, ...]:
    if text in ("", "."):
        return ()
    try:
        return parse_path(text)
    except PathSyntaxError as exc:
        raise OverrideError(
            f"bad path {text!r}: {exc}",
            code="E301",
            hint="write a dotted path such as soc.uart0.base or cpu0.isa[0]",
        ) from None


@main.command()
@layer_options
@click.argument("path", shell_complete=complete_path)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@reports_errors()
def explain(
    files: tuple[str, ...],
    sets: tuple[str, ...],
    include_dirs: tuple[str, ...],
    path: str,
    fmt: str,
) -> None:
    """Show the value at PATH and which layer set it, over what each lower layer had.

    PATH is dotted (cpu0.freq, soc.uart0); an object path lists its properties and
    where each was set; "." is the machine.
    """
    from qconf.model.explain import explain as do_explain

    doc = resolve_files(files, sets, include_dirs)
    result = do_explain(doc, _parse_user_path(path))
    if fmt == "json":
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        click.echo("\n".join(result.lines()))


def _side(ref: str, sets: Sequence[str], include_dirs: Sequence[str]) -> Any:
    path = Path(ref)
    if not path.is_file():
        found = SearchPath.default(include_dirs).find(ref)
        if found is not None:
            path = found
    return resolve_files([str(path)], sets, include_dirs)


@main.command()
@click.argument("left")
@click.argument("right")
@click.option(
    "--set-left",
    "left_sets",
    multiple=True,
    metavar="PATH=VALUE",
    help="--set applied to LEFT only.",
)
@click.option(
    "--set",
    "--set-right",
    "right_sets",
    multiple=True,
    metavar="PATH=VALUE",
    help="--set applied to RIGHT only.",
)
@click.option("-I", "include_dirs", multiple=True, metavar="DIR", help="Profile search dir.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--contents", is_flag=True,
              help="Compare the files values name (firmware, images) by their bytes.")  # fmt: skip
@reports_errors(error_code=2)
def diff(
    left: str,
    right: str,
    left_sets: tuple[str, ...],
    right_sets: tuple[str, ...],
    include_dirs: tuple[str, ...],
    fmt: str,
    contents: bool,
) -> None:
    """Compare two resolved configurations, value by value, units understood; values
    that name files compare by the file they lead to (--contents: by its bytes).

    LEFT and RIGHT are machine files, profile names, or resolved dumps saved earlier.
    Exit status: 0 equal, 1 different, 2 error.
    """
    from qconf.model.diff import diff as do_diff

    a = _side(left, left_sets, include_dirs)
    b = _side(right, right_sets, include_dirs)
    changes = do_diff(a, b, contents=contents)
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "equal": not changes,
                    "left": left,
                    "right": right,
                    "changes": [c.to_json(a, b) for c in changes],
                },
                indent=2,
            )
        )
    else:
        if changes:
            click.echo(f"--- {left}" + (f" (+{len(left_sets)} --set)" if left_sets else ""))
            click.echo(f"+++ {right}" + (f" (+{len(right_sets)} --set)" if right_sets else ""))
        for change in changes:
            click.echo("\n".join(change.lines(a, b)))
        n = len(changes)
        click.echo(f"{n} difference{'s' if n != 1 else ''}" if n else "no differences")
    sys.exit(1 if changes else 0)


@main.command(name="set")
@click.argument("file", type=click.Path())  # a missing file: qconf's located E101
@click.argument("assignments", nargs=-1, required=True, shell_complete=complete_set)
@click.option("-I", "include_dirs", multiple=True, metavar="DIR", help="Profile search dir.")
@click.option("--dry-run", is_flag=True, help="Print the edited file instead of writing it.")
@reports_errors()
def set_(
    file: str, assignments: tuple[str, ...], include_dirs: tuple[str, ...], dry_run: bool
) -> None:
    """Edit FILE in place: PATH=VALUE (also +PATH=, ~PATH, PATH+=), keeping comments,
    order and formatting. The result is validated before it is written."""
    from qconf.config.edit import edit_file
    from qconf.resolve import edit_resolver

    new_text = edit_file(file, assignments, resolve=edit_resolver(include_dirs), dry_run=dry_run)
    if dry_run:
        click.echo(new_text, nl=False)
        return
    click.echo(
        f"{file}: {len(assignments)} change{'s' if len(assignments) != 1 else ''} written", err=True
    )


@main.command()
@layer_options
@click.option(
    "--type",
    "type_name",
    metavar="TYPE",
    help="Schema of one type's objects.",
    shell_complete=complete_type,
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True))
@reports_errors()
def schema(
    files: tuple[str, ...],
    sets: tuple[str, ...],
    include_dirs: tuple[str, ...],
    type_name: str | None,
    output: str | None,
) -> None:
    """Print the JSON Schema (draft 2020-12) of machine documents, for editors.

    With -c (a board or a profile), the schema knows that machine's objects and their
    types, so an override file that leaves out type: is checked too (typos, bad units).
    """
    from qconf.model.schema import document_schema, overrides_schema, type_schema
    from qconf.resolve import registry_for

    if files:
        if type_name:
            raise click.UsageError("--type describes one type; -c a machine: give one of them")
        data = overrides_schema(_schema_base(files, sets, include_dirs), ", ".join(files))
    else:
        registry = registry_for(SearchPath.default(include_dirs))
        data = type_schema(registry, type_name) if type_name else document_schema(registry)
    text = json.dumps(data, indent=2) + "\n"
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


def _schema_base(files: Sequence[str], sets: Sequence[str], include_dirs: Sequence[str]) -> Any:
    """The machine a schema is made over: the files resolved, or, when they do not
    resolve (the board being edited has a mistake), what they extend."""
    from qconf.config.layers import FileLayer, load_layers
    from qconf.config.origin import LayerKind
    from qconf.errors import QconfError, flatten
    from qconf.resolve import resolve_layers

    search = SearchPath.default(include_dirs)
    layers = load_layers(files, sets, search)
    try:
        return resolve_layers(layers, search=search)
    except QconfError as exc:
        below = [la for la in layers if isinstance(la, FileLayer) and la.kind is LayerKind.PROFILE]
        if not below:
            raise
        n = len(flatten(exc))
        click.echo(f"qconf: {', '.join(files)} does not resolve ({n} error{'s'[: n != 1]}: "
                   "qconf validate shows them); the schema is made over what it extends",
                   err=True)  # fmt: skip
        return resolve_layers(below, search=search)


@main.command()
@click.option("-I", "include_dirs", multiple=True, metavar="DIR",
              help="Also take component types from DIR/components.")  # fmt: skip
@click.argument("type_name", required=False, metavar="[TYPE]", shell_complete=complete_type)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@reports_errors()
def types(type_name: str | None, fmt: str, include_dirs: tuple[str, ...]) -> None:
    """List the object types (built-in, plugins, components), or describe TYPE:
    properties, units, defaults."""
    from qconf.model.describe import describe_type, list_types, property_rows
    from qconf.resolve import registry_for

    registry = registry_for(SearchPath.default(include_dirs))
    if type_name is None:
        if fmt == "json":
            click.echo(
                json.dumps(
                    [
                        {
                            "name": t.name,
                            "category": t.category,
                            "description": t.description,
                            "module": t.module,
                        }
                        for t in registry
                    ]
                    + [
                        {
                            "module": f.module,
                            "unavailable": f.reason,
                            "types": list(f.types),
                        }
                        for f in registry.failures.values()
                    ],
                    indent=2,
                )
            )
        else:
            click.echo("\n".join(list_types(registry)))
        return
    info = registry.get(type_name, path=None)
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "name": info.name,
                    "category": info.category,
                    "description": info.description,
                    "module": info.module,
                    "hotpluggable": info.hotpluggable,
                    "properties": property_rows(info),
                },
                indent=2,
            )
        )
    else:
        click.echo("\n".join(describe_type(info)))


@main.command()
@click.option("-I", "include_dirs", multiple=True, metavar="DIR", help="Profile search dir.")
def profiles(include_dirs: tuple[str, ...]) -> None:
    """List the profiles found on the search path."""
    search = SearchPath.default(include_dirs)
    for name in search.names():
        found = search.find(name)
        from qconf.config.origin import display_path

        click.echo(f"{name:<16} {display_path(found) if found else ''}")
