"""Shell completion for the command line (click's: ``_QCONF_COMPLETE=bash_source qconf``,
see docs/cli.md): ``-c`` completes profile names and files, ``--set`` and the path of
``qconf explain`` complete the dotted paths of the machine the ``-c`` files before them
make, a type argument completes type names. A completion that cannot be worked out (a
file that does not resolve) offers nothing rather than failing."""

from __future__ import annotations

from typing import Any

import click
from click.shell_completion import CompletionItem

__all__ = ("complete_config", "complete_path", "complete_set", "complete_type")


def _include_dirs(ctx: click.Context) -> tuple[str, ...]:
    dirs = ctx.params.get("include_dirs") or ()
    return tuple(str(d) for d in dirs)


def complete_config(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """The profiles whose names start with ``incomplete``, and the files the shell finds."""
    from qconf.config.search import SearchPath

    names = SearchPath.default(_include_dirs(ctx)).names()
    return [CompletionItem(n) for n in names if n.startswith(incomplete)] + [
        CompletionItem(incomplete, type="file")
    ]


def _paths(ctx: click.Context) -> list[str]:
    """Every dotted path of the machine the ``-c`` files given so far make (or the file
    ``qconf set`` edits): each object's and each of its properties'."""
    from qconf.config.node import format_path
    from qconf.errors import QconfError
    from qconf.resolve import resolve

    files = ctx.params.get("files") or ([ctx.params["file"]] if ctx.params.get("file") else [])
    if not files:
        return []
    try:
        doc = resolve(list(files), include_dirs=_include_dirs(ctx))
    except QconfError:
        return []
    out: list[str] = []
    for path, node in doc.objects():
        here = format_path(path) if path else ""
        if here:
            out.append(here)
        for key, child in node.value.items():
            if key != "type" and not (isinstance(child.value, dict) and "type" in child.value):
                out.append(f"{here}.{key}" if here else str(key))
    return out


def complete_set(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """The machine's paths that start with ``incomplete`` (after a ``+``, ``++`` or ``~``),
    until a ``=`` is typed."""
    if "=" in incomplete:
        return []
    path = incomplete.lstrip("+~")
    sign = incomplete[: len(incomplete) - len(path)]
    return [CompletionItem(sign + p) for p in _paths(ctx) if p.startswith(path)]


def complete_path(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """The machine's paths that start with ``incomplete``."""
    return [CompletionItem(p) for p in _paths(ctx) if p.startswith(incomplete)]


def complete_type(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """The type names that start with ``incomplete``."""
    from qconf.config.search import SearchPath
    from qconf.resolve import registry_for

    types = registry_for(SearchPath.default(_include_dirs(ctx)))
    return [CompletionItem(info.name) for info in types if info.name.startswith(incomplete)]
