"""What every command shares: the ``qconf`` group, the options that read a machine, and
how a command ends on an error."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from qconf.errors import exit_status

__all__ = ("build_files", "layer_options", "main", "reports_errors", "resolve_files")

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(error_code: int = 1) -> Callable[[F], F]:
    """Turn QconfError into a located message and ``error_code``, Ctrl-C into 130; no
    traceback unless ``QCONF_DEBUG=1`` (see :func:`~qconf.errors.exit_status`)."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> None:
            status = exit_status(functools.partial(fn, *args, **kwargs), error_code)
            if status:
                sys.exit(status)

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


def resolve_files(files: Sequence[str], sets: Sequence[str], include_dirs: Sequence[str]) -> Any:
    from qconf.resolve import resolve

    return resolve(files, sets, include_dirs=include_dirs)


def build_files(files: Sequence[str], sets: Sequence[str], include_dirs: Sequence[str]) -> Any:
    from qconf.assembly.builder import build

    return build(resolve_files(files, sets, include_dirs))


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
