"""What every command shares: the ``qconf`` group, the options that read a machine, and
how a command ends on an error."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from qconf.cli.complete import complete_config, complete_set
from qconf.errors import exit_status

__all__ = ("DURATION", "Duration", "build_files", "layer_options", "main", "reports_errors",
           "resolve_files")  # fmt: skip

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


class Duration(click.ParamType):  # type: ignore[type-arg]  # generic in click 8.5 only
    """A length of time with a unit (``500ms``, ``1.5s``, ``2us``; ``ns us ms s``) as
    machine files write durations, in nanoseconds (an int); a bare number is in
    ``default_unit``. Every command-line option that takes a time uses it (``--timeout``,
    ``--max-time``).

    :param default_unit: the unit of a bare number (``s``: ``--timeout 30`` is 30 s).
    """

    name = "duration"

    def __init__(self, default_unit: str = "s") -> None:
        self.default_unit = default_unit

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int):
            return value
        from qconf.config.units import UnitError, parse_duration

        text = str(value).strip()
        if text[-1:].isdigit() or text.endswith("."):
            text += self.default_unit
        try:
            ns = parse_duration(text)
        except UnitError as exc:
            self.fail(f"{exc} (e.g. 30s, 500ms, 1.5s)", param, ctx)
        if ns <= 0:
            self.fail(f"{value!r} is not a positive duration", param, ctx)
        return ns


DURATION = Duration()
"""The duration type for options (bare numbers in seconds), in nanoseconds."""


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
        shell_complete=complete_set,
    )(fn)
    fn = click.option(
        "-c",
        "--config",
        "files",
        multiple=True,
        metavar="FILE",
        help="A machine file (YAML or TOML); repeatable, later ones win.",
        shell_complete=complete_config,
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
