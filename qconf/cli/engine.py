"""``qconf engine``: which Unicorn runs machines here, and building the store-fix one."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from qconf.cli.base import main, reports_errors


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
