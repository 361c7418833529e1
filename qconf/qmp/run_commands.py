"""The commands on the run state (``stop``, ``cont``, ``quit``, ``x-exit-preconfig``,
``system_reset``, ``query-status``...) and on the configuration before the build
(``qconf-add-file``, ``qconf-set``, ``qconf-validate``, ``qconf-resolve``,
``qconf-explain``, ``qconf-diff``)."""

from __future__ import annotations

import json
from typing import Any

from qconf.config.paths import PathSyntaxError, parse_path
from qconf.config.search import SearchPath
from qconf.errors import QconfError
from qconf.qmp.control import Control, _need, _problems, _string
from qconf.qmp.protocol import QmpError

__all__ = (
    "cont",
    "qconf_add_file",
    "qconf_diff",
    "qconf_explain",
    "qconf_resolve",
    "qconf_set",
    "qconf_validate",
    "qmp_capabilities",
    "query_commands",
    "query_status",
    "query_version",
    "quit_",
    "stop",
    "system_reset",
    "x_exit_preconfig",
)


def qmp_capabilities(control: Control, args: dict[str, Any], who: str) -> Any:
    raise AssertionError("handled by the session")  # pragma: no cover


def query_version(control: Control, args: dict[str, Any], who: str) -> Any:
    from qconf import __version__
    from qconf.qmp.protocol import QEMU_VERSION

    return {"qemu": dict(QEMU_VERSION), "package": f"qconf {__version__}"}


def query_commands(control: Control, args: dict[str, Any], who: str) -> Any:
    from qconf.qmp.commands import COMMANDS

    return [{"name": name} for name in COMMANDS]


def query_status(control: Control, args: dict[str, Any], who: str) -> Any:
    return {"status": control.status, "singlestep": False,
            "running": control.status == "running"}  # fmt: skip


def stop(control: Control, args: dict[str, Any], who: str) -> Any:
    if control.status == "running":
        control.status = "paused"
        control.events.append({"event": "STOP"})
    return {}


def cont(control: Control, args: dict[str, Any], who: str) -> Any:
    if control.status == "prelaunch":
        control.build()  # as if x-exit-preconfig then cont
    if control.status == "paused":
        control.status = "running"
        control.events.append({"event": "RESUME"})
    return {}


def quit_(control: Control, args: dict[str, Any], who: str) -> Any:
    control.quit_requested = True
    control.events.append({"event": "SHUTDOWN", "data": {"guest": False,
                                                         "reason": "host-qmp-quit"}})  # fmt: skip
    return {}


def x_exit_preconfig(control: Control, args: dict[str, Any], who: str) -> Any:
    _need(control, "x-exit-preconfig", "prelaunch")
    control.build()
    return {}


def qconf_add_file(control: Control, args: dict[str, Any], who: str) -> Any:
    """Add a file layer (a path, or a profile name) above those there are."""
    _need(control, "qconf-add-file", "prelaunch")
    path = _string(args, "path")
    control.files.append(path)
    try:
        control.layers()
    except QconfError as exc:
        control.files.pop()
        raise _problems(exc) from None
    return {}


def qconf_set(control: Control, args: dict[str, Any], who: str) -> Any:
    """Apply one ``--set``-style tweak; its origin names the client and command."""
    _need(control, "qconf-set", "prelaunch")
    text = _string(args, "set")
    control.sets.append((text, who))
    try:
        from qconf.config.layers import merge_layers
        from qconf.resolve import registry_for

        layers = control.layers()
        search = SearchPath.default(control.include_dirs)
        merge_layers(layers, registry_for(search, layers).declared)  # a path that exists?
    except QconfError as exc:
        control.sets.pop()
        raise _problems(exc) from None
    return {}


def qconf_validate(control: Control, args: dict[str, Any], who: str) -> Any:
    """Every problem of the configuration as it stands (GenericError), or ``{}``."""
    from qconf.assembly.builder import build

    try:
        build(control.resolve()).destroy()
    except QconfError as exc:
        raise _problems(exc) from None
    return {}


def qconf_resolve(control: Control, args: dict[str, Any], who: str) -> Any:
    """The resolved document (canonical values), with origins if ``origins`` is true."""
    from qconf.config.dump import dump

    try:
        doc = control.resolve()
    except QconfError as exc:
        raise _problems(exc) from None
    text = dump(doc.display_tree(pretty=False), "json", bool(args.get("origins")))
    return json.loads(text)


def qconf_explain(control: Control, args: dict[str, Any], who: str) -> Any:
    """Where the value at ``path`` was set, layer by layer."""
    from qconf.model.explain import explain

    text = _string(args, "path")
    try:
        path = parse_path(text) if text not in ("", ".") else ()
    except PathSyntaxError as exc:
        raise QmpError(f"bad path {text!r}: {exc}") from None
    try:
        return explain(control.resolve(), path).to_json()
    except QconfError as exc:
        raise _problems(exc) from None


def system_reset(control: Control, args: dict[str, Any], who: str) -> Any:
    """Restart the machine from power-on: memory cleared, programs loaded again, every
    CPU at its reset address (event ``RESET``)."""
    _need(control, "system_reset", "built")
    control.reset_requested = True
    return {}


def qconf_diff(control: Control, args: dict[str, Any], who: str) -> Any:
    """The differences between the configuration so far and a file or profile (``path``),
    value by value, units understood (as ``qconf diff --format json``)."""
    from qconf.model.diff import diff
    from qconf.resolve import resolve

    try:
        here = control.resolve()
        other = resolve([_string(args, "path")], include_dirs=control.include_dirs)
    except QconfError as exc:
        raise _problems(exc) from None
    changes = diff(here, other)
    return {"equal": not changes, "changes": [c.to_json(here, other) for c in changes]}
