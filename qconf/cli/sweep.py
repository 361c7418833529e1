"""``qconf sweep``: one machine, many variants (Hydra's multirun grammar in ``--set``), each
run to an end condition on a local process pool or a Ray cluster, with a table of results."""

from __future__ import annotations

import shlex
import sys
import time
from typing import Any

import click

from qconf.cli.base import DURATION, layer_options, main, reports_errors

__all__ = ("sweep",)

DEFAULT_MAX_TIME = "60s"


def _format_of(fmt: str | None, output: str | None) -> str:
    if fmt is not None:
        return fmt
    if output is not None and output.endswith(".csv"):
        return "csv"
    if output is not None and output.endswith((".jsonl", ".json", ".ndjson")):
        return "jsonl"
    return "table"


@main.command()
@layer_options
@click.option("--expect", "expects", multiple=True, metavar="TEXT",
              help="Text the console (every UART) must show, in order (repeatable); a "
              "variant ends when the last one shows.")  # fmt: skip
@click.option("--send", "sends", multiple=True, metavar="TEXT",
              help="What to type when the --expect at the same position shows (\\n, \\r, "
              "\\t allowed); the last --expect may have none.")  # fmt: skip
@click.option("--max-time", "max_time", type=DURATION, metavar="DURATION",
              default=DEFAULT_MAX_TIME, show_default=True,
              help="Stop a variant after this much virtual time (its own clock: the same "
              "on any host); status 124.")  # fmt: skip
@click.option(
    "--max-insns",
    type=click.IntRange(min=1),
    metavar="N",
    help="Stop a variant after about N instructions (all CPUs); status 124.",
)
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Stop a variant after this much host time (depends on the host: off by "
              "default); status 124.")  # fmt: skip
@click.option("-j", "--jobs", "workers", type=click.IntRange(min=1), metavar="N",
              help="Variants run at once (default: 1 for local, the cluster's CPUs for "
              "ray).")  # fmt: skip
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local",
              show_default=True,
              help="local: a pool of processes on this host; ray: a Ray cluster (pip "
              "install 'qconf[ray]').")  # fmt: skip
@click.option("--address", metavar="ADDRESS",
              help="With --executor ray: the cluster (auto, ray://HOST:10001); default: "
              "start a local one.")  # fmt: skip
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write every row to a file: .jsonl (JSON Lines) or .csv.")  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl", "csv"]),
              help="The rows' format in --output (default: from its extension) or on "
              "stdout (default: a table).")  # fmt: skip
@click.option("--tail", "tail_lines", type=click.IntRange(min=0), default=3,
              show_default=True, help="Console lines a row keeps.")  # fmt: skip
@click.option(
    "--list",
    "list_only",
    is_flag=True,
    help="List the variants (number and tweaks) without running them.",
)
@click.option(
    "--diff",
    "diff_pair",
    type=int,
    nargs=2,
    metavar="I J",
    help="Show how variants I and J differ (as qconf diff) without running.",
)
@reports_errors()
def sweep(
    files: tuple[str, ...], sets: tuple[str, ...], include_dirs: tuple[str, ...],
    expects: tuple[str, ...], sends: tuple[str, ...], max_time: int | None,
    max_insns: int | None, timeout: float | None, workers: int | None, executor: str,
    address: str | None, output: str | None, fmt: str | None, tail_lines: int,
    list_only: bool, diff_pair: tuple[int, int] | None,
) -> None:  # fmt: skip
    """Run the machine once per combination of the --set sweeps: a,b,c, choice(a,b,c) or
    range(start,stop,step) (Hydra's multirun grammar; see docs/sweeps.md), each to its end
    (the last --expect, the guest's exit, --max-time, --max-insns or --timeout), and print
    a row per variant. Exit status: 0 when every variant exited 0 having matched every
    --expect, else 1."""
    from qconf.sweep.grammar import expand
    from qconf.sweep.jobs import EndConditions

    if len(sends) > len(expects):
        raise click.UsageError(f"more --send ({len(sends)}) than --expect ({len(expects)})")
    if address is not None and executor != "ray":
        raise click.UsageError("--address is for --executor ray")
    variants = expand(sets)
    if list_only:
        for v in variants:
            click.echo(f"{v.number}  {' '.join(v.tweaks) or '(no sweep)'}")
        return
    if diff_pair is not None:
        _diff(files, include_dirs, variants, diff_pair)
        return
    from qconf.sweep.executors import Progress, run_jobs
    from qconf.sweep.plan import plan
    from qconf.sweep.report import progress_line, render, summary

    end = EndConditions(expects, sends, max_time, max_insns, timeout, tail_lines)
    started = time.monotonic()
    made = plan(files, sets, include_dirs, end)
    live = sys.stderr.isatty()

    def show(progress: Progress) -> None:
        sys.stderr.write("\r\x1b[K" + progress_line(progress))
        sys.stderr.flush()

    progress = Progress(len(made.jobs), show) if live else Progress(len(made.jobs))
    rows = run_jobs(made.jobs, made.images, executor, workers, address, progress)
    if live:
        sys.stderr.write("\r\x1b[K")
    kind = _format_of(fmt, output)
    if output is not None:
        with open(output, "w", encoding="utf-8", newline="") as out:
            out.write(render(rows, kind if kind != "table" else "jsonl"))
        click.echo(render(rows, "table"), nl=False)
    else:
        click.echo(render(rows, kind), nl=False)
    click.echo(summary(rows, time.monotonic() - started), err=True)
    if any(not row.ok for row in rows):
        sys.exit(1)


def _diff(
    files: tuple[str, ...], include_dirs: tuple[str, ...], variants: list[Any],
    pair: tuple[int, int],
) -> None:  # fmt: skip
    from qconf.model.diff import diff
    from qconf.sweep.plan import resolve_variant

    for n in pair:
        if not 0 <= n < len(variants):
            raise click.BadParameter(f"variant {n} is not in 0..{len(variants) - 1}",
                                     param_hint="--diff")  # fmt: skip
    left, right = (variants[n] for n in pair)
    a = resolve_variant(files, left, include_dirs)
    b = resolve_variant(files, right, include_dirs)
    changes = diff(a, b)
    click.echo(f"--- variant {left.number}: {' '.join(left.tweaks) or '(no sweep)'}")
    click.echo(f"+++ variant {right.number}: {' '.join(right.tweaks) or '(no sweep)'}")
    for change in changes:
        click.echo("\n".join(change.lines(a, b)))
    n = len(changes)
    click.echo(f"{n} difference{'s' if n != 1 else ''}" if n else "no differences")
    if len(files) == 1:
        words = ["qconf", "diff", files[0], files[0]]
        words += [w for s in left.sets for w in ("--set-left", s)]
        words += [w for s in right.sets for w in ("--set", s)]
        words += [w for d in include_dirs for w in ("-I", d)]
        click.echo(f"(the same as: {shlex.join(words)})", err=True)
    sys.exit(1 if changes else 0)
