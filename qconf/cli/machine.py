"""Commands about the built machine: its views (tree, memory map, interrupts, clocks,
resets, picture, device tree), running it, and the start-up cache runs keep."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from qconf.cli.base import DURATION, build_files, layer_options, main, reports_errors

__all__ = ("cache", "clocks", "dtb", "graph", "irqs", "mtree", "resets", "run", "tree")


def _view(name: str, doc: str, data: str) -> Callable[[Callable[..., list[str]]], Any]:
    """A command that builds the machine and prints one of its views: text lines, or with
    ``--format json`` the function ``data`` of ``qconf.views.data``."""

    def make(render: Callable[..., list[str]]) -> Any:
        @main.command(name=name, help=doc)
        @layer_options
        @click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                      show_default=True, help="text for people, json for scripts.")  # fmt: skip
        @reports_errors()
        def command(
            files: tuple[str, ...], sets: tuple[str, ...], include_dirs: tuple[str, ...],
            fmt: str, **options: Any,
        ) -> None:  # fmt: skip
            machine = build_files(files, sets, include_dirs)
            try:
                if fmt == "json":
                    import json

                    from qconf.views import data as views

                    shown = getattr(views, data)(machine, **options)
                    click.echo(json.dumps(shown, indent=2))
                else:
                    click.echo("\n".join(render(machine, **options)))
            finally:
                machine.destroy()

        return command

    return make


def _tree(machine: Any, all_props: bool) -> list[str]:
    from qconf.views.text import tree_lines

    return tree_lines(machine, all_props=all_props)


tree = click.option("--all", "all_props", is_flag=True, help="Show every property.")(
    _view("tree", "The composition tree: objects, their types and key properties.", "tree_data")(
        _tree
    )
)


@_view(
    "mtree",
    "Each address space: regions by address with owners, kinds, priorities and aliases.",
    "mtree_data",
)
def mtree(machine: Any) -> list[str]:
    from qconf.views.text import mtree_lines

    return mtree_lines(machine)


@_view(
    "irqs", "The interrupt graph: each controller input and the outputs that drive it.", "irq_data"
)
def irqs(machine: Any) -> list[str]:
    from qconf.views.text import irq_lines

    return irq_lines(machine)


@_view("clocks", "The clock tree with derived frequencies, and every clock input.", "clock_data")
def clocks(machine: Any) -> list[str]:
    from qconf.views.text import clock_lines

    return clock_lines(machine)


@_view("resets", "The reset tree: what resetting each object resets.", "reset_data")
def resets(machine: Any) -> list[str]:
    from qconf.views.text import reset_lines

    return reset_lines(machine)


@main.command()
@layer_options
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="machine.svg, .png, .pdf (drawn by Graphviz's dot) or .dot (its source); "
    "without it, the DOT source on stdout.",
)
@click.option("--no-backends", is_flag=True,
              help="Leave out the backends (chardevs, memory) and their edges.")  # fmt: skip
@reports_errors()
def graph(
    files: tuple[str, ...], sets: tuple[str, ...], include_dirs: tuple[str, ...],
    output: str | None, no_backends: bool,
) -> None:  # fmt: skip
    """Draw the machine: nested boxes for the composition, IRQ wires, clock links, other
    links and what each interrupt controller serves as edges, and each address space's
    memory map as a table."""
    from qconf.views.graph import machine_graph, write_graph

    machine = build_files(files, sets, include_dirs)
    try:
        if output is None:
            click.echo(machine_graph(machine, backends=not no_backends).source, nl=False)
            return
        write_graph(machine, Path(output), backends=not no_backends)
    finally:
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

    machine = build_files(files, sets, include_dirs)
    kind = fmt or ("dtb" if output else "dts")
    data = device_tree_blob(machine) if kind == "dtb" else device_tree_source(machine).encode()
    machine.destroy()
    if output:
        Path(output).write_bytes(data)
    elif kind == "dts":
        click.echo(data.decode(), nl=False)
    else:
        sys.stdout.buffer.write(data)


SCRIPT_OPTIONS = {"expects": "--expect", "sends": "--send", "withins": "--within"}
"""The options whose order on the command line makes the console's script."""


class _RunCommand(click.Command):
    """``qconf run``: also remembers the order in which the script options came, which
    click's values alone do not keep (a --send or --within belongs after its --expect)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        _, _, order = self.make_parser(ctx).parse_args(args=list(args))
        ctx.meta["qconf.script"] = [p.name for p in order if p.name in SCRIPT_OPTIONS]
        return super().parse_args(ctx, args)


def _script(expects: tuple[str, ...], sends: tuple[str, ...],
            withins: tuple[str, ...]) -> tuple[tuple[str, str], ...]:  # fmt: skip
    """The script options as (kind, text) steps, in the order they were typed."""
    order = click.get_current_context().meta.get("qconf.script")
    values = {"expects": list(expects), "sends": list(sends), "withins": list(withins)}
    if order is None:  # not parsed by _RunCommand (called directly): expects, then sends
        order = [name for name in SCRIPT_OPTIONS for _ in values[name]]
    script = tuple((SCRIPT_OPTIONS[name], values[name].pop(0)) for name in order)
    from qconf.emu.script import from_options

    try:
        from_options(script)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    return script


@main.command(cls=_RunCommand)
@layer_options
@click.option(
    "--max-insns",
    type=click.IntRange(min=1),
    metavar="N",
    help="Stop after about N guest instructions (all CPUs); exit status 124.",
)
@click.option("--max-time", type=DURATION, metavar="DURATION",
              help="Stop at this much virtual time (10ms, 2s): the same on every host; exit "
              "status 124.")  # fmt: skip
@click.option("--timeout", type=DURATION, metavar="DURATION",
              help="Stop after this much host time (30s, 500ms; a bare number is seconds); "
              "exit status 124.")  # fmt: skip
@click.option(
    "--stats",
    is_flag=True,
    help="Print instructions, virtual time, wall time and MIPS per CPU at the end.",
)
@click.option(
    "--expect",
    "expects",
    multiple=True,
    metavar="PATTERN",
    help="Wait until the console (the first UART) shows PATTERN: text (\\n, \\r, \\t "
    "allowed), or re:REGEX; then the steps after it run. Repeatable, in order.",
)
@click.option(
    "--within",
    "withins",
    multiple=True,
    metavar="[wall:]DURATION",
    help="Limit the --expect just before: 2s of virtual time, wall:5s of host time; if it "
    "does not match in time, the run stops (status 124) naming it.",
)
@click.option(
    "--send",
    "sends",
    multiple=True,
    metavar="TEXT",
    help="Type TEXT into the console once the --expect before it matched (at once if none "
    "did); \\n, \\r, \\t allowed.",
)
@click.option("--status", "status", type=click.Choice(["auto", "line", "title", "off"]),
              default="auto", show_default=True,
              help="The live status (virtual time, instructions, MIPS): auto shows a line on "
              "standard error when the console is not on that terminal; title puts it in "
              "the terminal's title; line on standard error in any case; off nowhere.")  # fmt: skip
@click.option("--no-status", is_flag=True, help="Show no live status (as --status off).")
@click.option("--no-shutdown", is_flag=True,
              help="When the guest powers off or faults, stop and stay (QMP, the monitor) "
              "until quit, as QEMU's -no-shutdown; then status 0.")  # fmt: skip
@click.option("-d", "trace", metavar="ITEM,...",
              help="Trace what the guest does, QEMU's -d categories (int, in_asm, exec, cpu, "
              "guest_errors, unimp, mmu) and qconf's (mmio); -d help lists them.")  # fmt: skip
@click.option("-D", "trace_file", metavar="FILE", type=click.Path(dir_okay=False, writable=True),
              help="Write the -d trace to FILE instead of standard error.")  # fmt: skip
@click.option("--qmp", "qmps", multiple=True, metavar="ADDRESS",
              help="Serve QMP on unix:PATH or tcp:127.0.0.1:PORT (repeatable).")  # fmt: skip
@click.option("--qmp-allow-remote", is_flag=True,
              help="Let --qmp listen on an address other machines can reach.")  # fmt: skip
@click.option("--preconfig", is_flag=True,
              help="With --qmp: wait for clients to complete the configuration; build on "
              "x-exit-preconfig (or cont).")  # fmt: skip
@click.option("-S", "start_paused", is_flag=True,
              help="Start paused: no instruction runs until a debugger continues (with -s "
              "or --gdb) or a QMP client sends cont (with --qmp).")  # fmt: skip
@click.option("--save-at", "save_at", nargs=2, multiple=True, metavar="TEXT FILE",
              help="Save a checkpoint to FILE when a UART's output shows TEXT (between "
              "two time slices), and go on; repeatable, in order.")  # fmt: skip
@click.option("--restore", metavar="FILE",
              help="Start from a checkpoint (qconf run --save-at, savevm); with no -c, the "
              "machine it holds.")  # fmt: skip
@click.option("-s", "gdb_default", is_flag=True,
              help="Serve gdb on tcp:127.0.0.1:1234 (each further architecture of a "
              "heterogeneous machine on the next port): --gdb tcp:127.0.0.1:1234.")  # fmt: skip
@click.option("--gdb", "gdbs", multiple=True, metavar="[CPU=]ADDRESS",
              help="Serve gdb on tcp:HOST:PORT or unix:PATH; CPU= (mcu.cpu0=tcp::1235) says "
              "which CPU's architecture (repeatable). See docs/debugging.md.")  # fmt: skip
@click.option("--gdb-allow-remote", is_flag=True,
              help="Let --gdb listen on an address other machines can reach.")  # fmt: skip
@click.option("--cache/--no-cache", "use_cache", default=True, show_default=True,
              help="Start from the machine's snapshot when its files are unchanged "
              "(qconf cache shows where they are).")  # fmt: skip
@reports_errors()
def run(
    files: tuple[str, ...], sets: tuple[str, ...], include_dirs: tuple[str, ...],
    max_insns: int | None, max_time: int | None, timeout: int | None, stats: bool,
    expects: tuple[str, ...], withins: tuple[str, ...], sends: tuple[str, ...],
    status: str, no_status: bool, no_shutdown: bool, trace: str | None, trace_file: str | None,
    qmps: tuple[str, ...], qmp_allow_remote: bool, preconfig: bool, start_paused: bool,
    gdb_default: bool, gdbs: tuple[str, ...], gdb_allow_remote: bool,
    save_at: tuple[tuple[str, str], ...], restore: str | None, use_cache: bool,
) -> None:  # fmt: skip
    """Run the machine: every CPU runs its firmware until the guest powers off (its status
    is qconf's exit status), faults (3), or a limit is reached (124); Ctrl-C stops (130)."""
    from qconf.runner import RunOptions, command, remember

    if trace is not None:
        from qconf.emu.trace import help_lines, parse_categories

        if trace == "help":
            click.echo("\n".join(help_lines()))
            return
        try:
            parse_categories(trace)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="'-d'") from None
    if trace_file is not None and not trace:
        raise click.UsageError("-D names the file of a -d trace: give -d too (-d help)")
    if no_status:
        status = "off"
    if preconfig and not qmps:
        raise click.UsageError("--preconfig needs --qmp (a client to configure the machine)")
    if (save_at or restore) and qmps:
        raise click.UsageError(
            "--save-at and --restore are for runs without --qmp (over QMP: "
            "savevm and loadvm, or snapshot-save and snapshot-load)"
        )
    if gdb_default:
        from qconf.debug.layout import DEFAULT

        gdbs = (DEFAULT, *gdbs)
    if start_paused and not qmps and not gdbs:
        raise click.UsageError("-S needs --qmp, -s or --gdb (a client to continue)")
    options = RunOptions(
        files=files, sets=sets, include_dirs=include_dirs, max_insns=max_insns,
        timeout=None if timeout is None else timeout / 1e9, max_time=max_time, stats=stats,
        script=_script(expects, sends, withins), trace=trace, trace_file=trace_file,
        status=None if status == "auto" else status, no_shutdown=no_shutdown, qmps=qmps,
        qmp_allow_remote=qmp_allow_remote, preconfig=preconfig, start_paused=start_paused,
        use_cache=use_cache, save_at=save_at, restore=restore, gdbs=gdbs,
        gdb_allow_remote=gdb_allow_remote,
    )  # fmt: skip
    argv = (click.get_current_context().obj or {}).get("argv")
    if use_cache and argv is not None:  # started as the qconf command: next time, no click
        remember(argv, options)
    command(options)  # where a remembered parse of the same words goes too


@main.command()
@click.option("--clear", is_flag=True,
              help="Remove the snapshots and remembered command lines (nothing else).")  # fmt: skip
def cache(clear: bool) -> None:
    """Show the machine snapshots qconf run starts from (one per command line, used while
    the files it read are unchanged), or remove them with the remembered parses of qconf
    run's words. $QCONF_CACHE_DIR moves them; a directory others can write is not used
    (exit status 1)."""
    from qconf.cache import MAX_ENTRIES, MachineCache, Refused, forget

    store = MachineCache()
    try:
        if clear:
            removed, parses = store.clear(), forget()
            click.echo(f"{store.directory}: removed {removed} snapshot{'s'[: removed != 1]} "
                       f"and {parses} remembered command line{'s'[: parses != 1]}")  # fmt: skip
            return
        entries = store.entries()
        described = [store.describe(entry) for entry in reversed(entries)]
    except Refused as exc:
        click.echo(f"{store.folder.root}: off ({exc}){': nothing removed' if clear else ''}")
        sys.exit(1)
    size = sum(entry.size for entry in entries)
    click.echo(f"{store.directory}: {len(entries)} snapshot{'s'[: len(entries) != 1]}, "
               f"{size / 1024:.0f} KiB (the newest {MAX_ENTRIES} are kept)")  # fmt: skip
    # the cache is the user's, shared by every checkout: this directory's runs first
    here = os.getcwd()
    ours = [line for line, cwd in described if cwd is not None and _within(cwd, here)]
    others = [line for line, cwd in described if cwd is None or not _within(cwd, here)]
    if ours and others:
        click.echo(f"from {here} ({len(ours)}):")
    click.echo("".join(f"  {line}\n" for line in ours), nl=False)
    if ours and others:
        click.echo(f"from elsewhere ({len(others)}):")
    click.echo("".join(f"  {line}\n" for line in others), nl=False)


def _within(path: str, directory: str) -> bool:
    """Whether ``path`` is ``directory`` or below it."""
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)
