"""The ``qconf`` command line (the only module that imports click).

Errors print ``qconf: error: ...`` and exit 1; usage errors exit 2; ``qconf diff`` exits
0 (equal), 1 (different) or 2 (error), like diff(1). ``QCONF_DEBUG=1`` shows tracebacks.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from qconf.config.dump import FORMATS, dump
from qconf.config.paths import PathSyntaxError, parse_path
from qconf.config.search import SearchPath
from qconf.errors import OverrideError, QconfError, report

F = TypeVar("F", bound=Callable[..., Any])


def _print_error(exc: QconfError) -> None:
    for line in report(exc):
        click.echo(line, err=True)


def reports_errors(error_code: int = 1) -> Callable[[F], F]:
    """Turn QconfError into a located message and ``error_code``; no traceback unless
    ``QCONF_DEBUG=1``."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except QconfError as exc:
                if os.environ.get("QCONF_DEBUG") == "1":
                    raise
                _print_error(exc)
                sys.exit(error_code)
            except KeyboardInterrupt:  # before a run started, or outside one
                if os.environ.get("QCONF_DEBUG") == "1":
                    raise
                click.echo("qconf: interrupted", err=True)
                sys.exit(130)

        return inner  # type: ignore[return-value]

    return wrap


def layer_options(fn: F) -> F:
    fn = click.option(
        "-I",
        "include_dirs",
        multiple=True,
        metavar="DIR",
        help="Search DIR for profiles (before $QCONF_PATH and the built-in profiles).",
    )(fn)
    fn = click.option(
        "--set",
        "sets",
        multiple=True,
        metavar="PATH=VALUE",
        help="Override one value (repeatable): path=v, +path=v (add), "
        "++path=v, ~path (delete), path+=v (append).",
    )(fn)
    fn = click.option(
        "-c",
        "--config",
        "files",
        multiple=True,
        metavar="FILE",
        help="A machine file (YAML or TOML); repeatable, later ones win.",
    )(fn)
    return fn


def _resolve(files: Sequence[str], sets: Sequence[str], include_dirs: Sequence[str]) -> Any:
    from qconf.resolve import resolve

    return resolve(files, sets, include_dirs=include_dirs)


def _machine(files: Sequence[str], sets: Sequence[str], include_dirs: Sequence[str]) -> Any:
    from qconf.assembly.builder import build

    return build(_resolve(files, sets, include_dirs))


def _version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from importlib.metadata import version

    from qconf.engine import installed

    click.echo(f"qconf, version {version('qconf')}\nengine: {installed()}")
    ctx.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_version,
              help="Show the version and the engine (the Unicorn that runs machines).")  # fmt: skip
def main() -> None:
    """qconf: define emulated machines declaratively, in layers.

    Start from a canned profile, override in your own YAML or TOML files, tweak single
    values with --set, and see exactly what you got and where every value came from.
    """


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
    doc = _resolve(files, sets, include_dirs)
    text = dump(doc.display_tree(pretty=fmt != "json"), fmt, show_origin)
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@main.command()
@layer_options
@reports_errors()
def validate(files: tuple[str, ...], sets: tuple[str, ...], include_dirs: tuple[str, ...]) -> None:
    """Check the document and that it builds (links, wires, memory map); exit 0 when it
    is valid, else print every error and exit 1."""
    from qconf.assembly.builder import build

    doc = _resolve(files, sets, include_dirs)
    machine = build(doc)
    n = sum(1 for _ in machine.objects())
    regions = sum(len(space.mappings) for space in machine.spaces.values())
    click.echo(
        f"ok: {n} objects, {len(doc.layers)} layers, {regions} regions in "
        f"{len(machine.spaces)} address space{'s' if len(machine.spaces) != 1 else ''}, "
        f"{len(machine.wires)} interrupt wires"
    )
    machine.destroy()


def _view(name: str, doc: str) -> Callable[[Callable[..., list[str]]], Any]:
    """A command that builds the machine and prints one of its views."""

    def make(render: Callable[..., list[str]]) -> Any:
        @main.command(name=name, help=doc)
        @layer_options
        @reports_errors()
        def command(
            files: tuple[str, ...], sets: tuple[str, ...], include_dirs: tuple[str, ...],
            **options: Any,
        ) -> None:  # fmt: skip
            machine = _machine(files, sets, include_dirs)
            click.echo("\n".join(render(machine, **options)))
            machine.destroy()

        return command

    return make


def _tree(machine: Any, all_props: bool) -> list[str]:
    from qconf.views.text import tree_lines

    return tree_lines(machine, all_props=all_props)


tree = click.option("--all", "all_props", is_flag=True, help="Show every property.")(
    _view("tree", "The composition tree: objects, their types and key properties.")(_tree)
)


@_view(
    "mtree",
    "Each address space: regions by address with owners, kinds, priorities and aliases.",
)
def mtree(machine: Any) -> list[str]:
    from qconf.views.text import mtree_lines

    return mtree_lines(machine)


@_view("irqs", "The interrupt graph: each controller input and the outputs that drive it.")
def irqs(machine: Any) -> list[str]:
    from qconf.views.text import irq_lines

    return irq_lines(machine)


@_view("clocks", "The clock tree with derived frequencies, and every clock input.")
def clocks(machine: Any) -> list[str]:
    from qconf.views.text import clock_lines

    return clock_lines(machine)


@main.command()
@layer_options
@click.option(
    "--max-insns",
    type=click.IntRange(min=1),
    metavar="N",
    help="Stop after about N guest instructions (all CPUs); exit status 124.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Stop after this much wall-clock time; exit status 124.",
)
@click.option(
    "--stats",
    is_flag=True,
    help="Print instructions, virtual time, wall time and MIPS per CPU at the end.",
)
@click.option(
    "--expect",
    "expects",
    multiple=True,
    metavar="TEXT",
    help="Wait for TEXT on the console (the first UART), then type the matching --send; "
    "repeatable, in order.",
)
@click.option(
    "--send",
    "sends",
    multiple=True,
    metavar="TEXT",
    help="What to type when the matching --expect appears (\\n, \\r, \\t allowed).",
)
@click.option("--qmp", "qmps", multiple=True, metavar="ADDRESS",
              help="Serve QMP on unix:PATH or tcp:127.0.0.1:PORT (repeatable).")  # fmt: skip
@click.option("--qmp-allow-remote", is_flag=True,
              help="Let --qmp listen on an address other machines can reach.")  # fmt: skip
@click.option("--preconfig", is_flag=True,
              help="With --qmp: wait for clients to complete the configuration; build on "
              "x-exit-preconfig (or cont).")  # fmt: skip
@click.option("-S", "start_paused", is_flag=True,
              help="With --qmp: build, but start paused until a client sends cont.")  # fmt: skip
@click.option("--cache/--no-cache", "use_cache", default=True, show_default=True,
              help="Start from the machine's snapshot when its files are unchanged "
              "(qconf cache shows where they are).")  # fmt: skip
@reports_errors()
def run(
    files: tuple[str, ...], sets: tuple[str, ...], include_dirs: tuple[str, ...],
    max_insns: int | None, timeout: float | None, stats: bool,
    expects: tuple[str, ...], sends: tuple[str, ...], qmps: tuple[str, ...],
    qmp_allow_remote: bool, preconfig: bool, start_paused: bool, use_cache: bool,
) -> None:  # fmt: skip
    """Run the machine: every CPU runs its firmware until the guest powers off (its status
    is qconf's exit status), faults (3), or a limit is reached (124); Ctrl-C stops (130)."""
    from qconf.runner import RunOptions, execute, remember

    if len(expects) != len(sends):
        raise click.UsageError(
            f"give one --send for each --expect ({len(expects)} --expect, {len(sends)} --send)"
        )
    if (preconfig or start_paused) and not qmps:
        raise click.UsageError("--preconfig and -S need --qmp (a client to continue)")
    options = RunOptions(
        files=files, sets=sets, include_dirs=include_dirs, max_insns=max_insns,
        timeout=timeout, stats=stats, script=tuple(zip(expects, sends, strict=True)),
        qmps=qmps, qmp_allow_remote=qmp_allow_remote, preconfig=preconfig,
        start_paused=start_paused, use_cache=use_cache,
    )  # fmt: skip
    argv = (click.get_current_context().obj or {}).get("argv")
    if use_cache and argv is not None:  # started as the qconf command: next time, no click
        remember(argv, options)
    sys.exit(execute(options))


@main.command()
@layer_options
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, writable=True),
    help="machine.svg, .png, .pdf (drawn by Graphviz's dot) or .dot (its source).",
)
@reports_errors()
def graph(
    files: tuple[str, ...], sets: tuple[str, ...], include_dirs: tuple[str, ...], output: str
) -> None:
    """Draw the machine: nested boxes for the composition, IRQ wires, clock links and
    other links as edges, and each address space's memory map as a table."""
    from qconf.views.graph import write_graph

    machine = _machine(files, sets, include_dirs)
    write_graph(machine, Path(output))
    machine.destroy()
    click.echo(f"{output}: written", err=True)


@main.command()
@layer_options
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write to a file (default: DTS text on stdout).")  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(["dtb", "dts"]), default=None,
              help="dtb (default with -o) or dts (default on stdout).")  # fmt: skip
@reports_errors()
def dtb(
    files: tuple[str, ...], sets: tuple[str, ...], include_dirs: tuple[str, ...],
    output: str | None, fmt: str | None,
) -> None:  # fmt: skip
    """The machine's device tree, generated from the built machine (RISC-V machines)."""
    from qconf.dtb import device_tree_blob, device_tree_source

    machine = _machine(files, sets, include_dirs)
    kind = fmt or ("dtb" if output else "dts")
    data = device_tree_blob(machine) if kind == "dtb" else device_tree_source(machine).encode()
    machine.destroy()
    if output:
        Path(output).write_bytes(data)
    elif kind == "dts":
        click.echo(data.decode(), nl=False)
    else:
        sys.stdout.buffer.write(data)


@_view("resets", "The reset tree: what resetting each object resets.")
def resets(machine: Any) -> list[str]:
    from qconf.views.text import reset_lines

    return reset_lines(machine)


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
@click.argument("path")
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

    doc = _resolve(files, sets, include_dirs)
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
    return _resolve([str(path)], sets, include_dirs)


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
@reports_errors(error_code=2)
def diff(
    left: str,
    right: str,
    left_sets: tuple[str, ...],
    right_sets: tuple[str, ...],
    include_dirs: tuple[str, ...],
    fmt: str,
) -> None:
    """Compare two resolved configurations, value by value, units understood.

    LEFT and RIGHT are machine files, profile names, or resolved dumps saved earlier.
    Exit status: 0 equal, 1 different, 2 error.
    """
    from qconf.model.diff import diff as do_diff

    a = _side(left, left_sets, include_dirs)
    b = _side(right, right_sets, include_dirs)
    changes = do_diff(a, b)
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
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.argument("assignments", nargs=-1, required=True)
@click.option("-I", "include_dirs", multiple=True, metavar="DIR", help="Profile search dir.")
@click.option("--dry-run", is_flag=True, help="Print the edited file instead of writing it.")
@reports_errors()
def set_(
    file: str, assignments: tuple[str, ...], include_dirs: tuple[str, ...], dry_run: bool
) -> None:
    """Edit FILE in place: PATH=VALUE (also +PATH=, ~PATH, PATH+=), keeping comments,
    order and formatting. The result is validated before it is written."""
    from qconf.config.edit import edit_text
    from qconf.config.layers import load_layers, merge_layers
    from qconf.config.origin import Source
    from qconf.config.sources import load_text
    from qconf.resolve import resolve_layers

    path = Path(file)
    text = load_text(path, Source(file))
    search = SearchPath.default(include_dirs)
    layers = load_layers([path], search=search)
    lower = None
    if len(layers) > 1:
        # what the file extends, with components expanded: a key deleted there may come
        # from a component's template
        try:
            lower = resolve_layers(layers[:-1], search=search).tree
        except QconfError:
            lower = merge_layers(layers[:-1])
    new_text = edit_text(path, text, list(assignments), lower)
    resolve_layers(
        load_layers([path], search=search, texts={path.resolve(): new_text}), search=search
    )
    if dry_run:
        click.echo(new_text, nl=False)
        return
    tmp = path.with_name(f".{path.name}.qconf-tmp")
    tmp.write_text(new_text, encoding="utf-8")
    os.replace(tmp, path)
    click.echo(
        f"{file}: {len(assignments)} change{'s' if len(assignments) != 1 else ''} written", err=True
    )


@main.command()
@click.option("--type", "type_name", metavar="TYPE", help="Schema of one type's objects.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True))
@click.option("-I", "include_dirs", multiple=True, metavar="DIR",
              help="Also take component types from DIR/components.")  # fmt: skip
@reports_errors()
def schema(type_name: str | None, output: str | None, include_dirs: tuple[str, ...]) -> None:
    """Print the JSON Schema (draft 2020-12) of machine documents, for editors."""
    from qconf.model.schema import document_schema, type_schema
    from qconf.resolve import registry_for

    registry = registry_for(SearchPath.default(include_dirs))
    data = type_schema(registry, type_name) if type_name else document_schema(registry)
    text = json.dumps(data, indent=2) + "\n"
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@main.command()
@click.option("-I", "include_dirs", multiple=True, metavar="DIR",
              help="Also take component types from DIR/components.")  # fmt: skip
@click.argument("type_name", required=False, metavar="[TYPE]")
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


@main.command()
@click.option("--clear", is_flag=True, help="Remove every machine snapshot.")
def cache(clear: bool) -> None:
    """Show the machine snapshots qconf run starts from (one per command line, used while
    the files it read are unchanged), or remove them with the remembered parses of qconf
    run's words. $QCONF_CACHE_DIR moves them."""
    from qconf.assembly.snapshot import MAX_ENTRIES, MachineCache, describe_entry

    store = MachineCache()
    if clear:
        from qconf.runner import forget

        removed, parses = store.clear(), forget()
        click.echo(f"{store.directory}: removed {removed} snapshot{'s'[: removed != 1]} "
                   f"and {parses} remembered command line{'s'[: parses != 1]}")  # fmt: skip
        return
    entries = store.entries()
    size = sum(entry.stat().st_size for entry in entries)
    click.echo(f"{store.directory}: {len(entries)} snapshot{'s'[: len(entries) != 1]}, "
               f"{size / 1024:.0f} KiB (the newest {MAX_ENTRIES} are kept)")  # fmt: skip
    for entry in reversed(entries):
        click.echo(f"  {describe_entry(entry)}")


@main.group(invoke_without_command=True)
@click.pass_context
def engine(ctx: click.Context) -> None:
    """The engine, the Unicorn that runs machines: alone, says which this environment has
    (stock, or store-fix from qconf engine build; see docs/engine.md)."""
    if ctx.invoked_subcommand is None:
        from qconf.engine import installed

        click.echo(installed())


@engine.command("build")
@click.option("--install", is_flag=True, help="Then install the wheel into this environment.")
@click.option("-o", "--output", type=click.Path(file_okay=False), metavar="DIR",
              help="Where the wheel goes (default: qconf's cache, engine/).")  # fmt: skip
@click.option("--sdist", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
              help="Unicorn's unicorn-2.1.4.tar.gz, instead of downloading it.")  # fmt: skip
@click.option("--rebuild", is_flag=True, help="Build again, even if DIR has the wheel.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), help="Compile jobs (default: CPUs).")
@reports_errors()
def engine_build(
    install: bool, output: str | None, sdist: str | None, rebuild: bool, jobs: int | None
) -> None:
    """Build the store-fix engine: Unicorn 2.1.4's source from the package index with its
    slow store path fixed, compiled for riscv, arm and aarch64 into a wheel versioned
    2.1.4+qconf.N; prints its path. Takes minutes; needs cmake, make, a C compiler and
    patch. Results are the same as with the stock engine; guests that store run faster."""
    from qconf.engine.build import Progress, build

    wheel = build(Path(output) if output else None, install=install,
                  sdist=Path(sdist) if sdist else None, rebuild=rebuild, jobs=jobs,
                  progress=Progress(sys.stderr, live=sys.stderr.isatty()))  # fmt: skip
    click.echo(str(wheel))


if __name__ == "__main__":  # pragma: no cover
    main()
