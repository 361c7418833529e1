"""The commands on the run state (``stop``, ``cont``, ``quit``, ``x-exit-preconfig``,
``system_reset``, ``query-status``...) and on the configuration before the build
(``qconf-add-file``, ``qconf-set``, ``qconf-validate``, ``qconf-resolve``,
``qconf-explain``, ``qconf-diff``). Their arguments and run states are checked before they
run (see their declarations in ``commands``)."""

from __future__ import annotations

import json
from typing import Any

from qconf.config.paths import PathSyntaxError, parse_path
from qconf.errors import QconfError, flatten
from qconf.qmp.control import Control, _problems
from qconf.qmp.protocol import QmpError
from qconf.qmp.state import Runstate

__all__ = (
    "cont",
    "qconf_add_file",
    "qconf_diff",
    "qconf_explain",
    "qconf_resolve",
    "qconf_set",
    "qconf_validate",
    "qmp_capabilities",
    "query_status",
    "query_version",
    "quit_",
    "stop",
    "system_reset",
    "x_exit_preconfig",
)


def qmp_capabilities(control: Control, args: dict[str, Any], who: str) -> Any:
    """End capability negotiation, enabling the capabilities in ``enable`` (``oob``)."""
    for cap in args.get("enable") or []:
        if cap != "oob":
            raise QmpError(f"Parameter 'null' does not accept value '{cap}'")
    return {}  # the session, which asked, is now past negotiation


def query_version(control: Control, args: dict[str, Any], who: str) -> Any:
    """The QEMU version whose dialect qconf speaks (7.2.0), and qconf's as ``package``."""
    from qconf import __version__
    from qconf.qmp.protocol import QEMU_VERSION

    return {"qemu": dict(QEMU_VERSION), "package": f"qconf {__version__}"}


def query_status(control: Control, args: dict[str, Any], who: str) -> Any:
    """The run state: ``status`` (QEMU's name), ``singlestep``, ``running``."""
    return {"status": control.status.value, "singlestep": False,
            "running": control.status is Runstate.RUNNING}  # fmt: skip


def stop(control: Control, args: dict[str, Any], who: str) -> Any:
    """Pause the machine (event ``STOP``; nothing if it is paused already)."""
    if control.status is Runstate.RUNNING:
        control.transition(Runstate.PAUSED)
        control.events.append({"event": "STOP"})
    return {}


def cont(control: Control, args: dict[str, Any], who: str) -> Any:
    """Resume the machine (event ``RESUME``); before the build, build it first."""
    if control.status is Runstate.PRELAUNCH:
        control.build()  # as if x-exit-preconfig then cont
    if control.status is Runstate.PAUSED:
        control.transition(Runstate.RUNNING)
        control.events.append({"event": "RESUME"})
    return {}


def quit_(control: Control, args: dict[str, Any], who: str) -> Any:
    """End qconf (status 0) once the reply is sent; event ``SHUTDOWN``."""
    control.quit_requested = True
    control.events.append({"event": "SHUTDOWN", "data": {"guest": False,
                                                         "reason": "host-qmp-quit"}})  # fmt: skip
    return {}


def x_exit_preconfig(control: Control, args: dict[str, Any], who: str) -> Any:
    """Build the machine from the configuration so far (every problem, or paused or
    running)."""
    control.build()
    return {}


def qconf_add_file(control: Control, args: dict[str, Any], who: str) -> Any:
    """Add a file layer (a path, or a profile name) above those there are, unless it does
    not read or brings problems of its own: then it is refused with them, and the
    configuration stays as it was (a later command is not answered with its errors)."""
    path: str = args["path"]
    before = _problems_of(control)
    control.files.append(path)
    try:
        control.layers()
    except QconfError as exc:
        control.files.pop()
        raise _problems(exc) from None
    brought = [err for err in _problems_of(control) if err not in before]
    if brought:
        control.files.pop()
        lines = [line for err in brought for line in err]
        raise QmpError("\n".join([*lines, f"{path} was not added: the configuration is "
                                   "as it was; fix the file and add it again"]))  # fmt: skip
    return {}


def _problems_of(control: Control) -> list[tuple[str, ...]]:
    """The problems of the configuration as it stands (each as its lines)."""
    try:
        control.resolve()
    except QconfError as exc:
        return [tuple(err.lines()) for err in flatten(exc)]
    return []


def qconf_set(control: Control, args: dict[str, Any], who: str) -> Any:
    """Apply one ``--set``-style tweak; its origin names the client and command."""
    control.add_set(args["set"], who)
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

    text: str = args["path"]
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
    control.reset_requested = True
    return {}


def qconf_diff(control: Control, args: dict[str, Any], who: str) -> Any:
    """The differences between the configuration so far and a file or profile (``path``),
    value by value, units understood (as ``qconf diff --format json``)."""
    from qconf.model.diff import diff
    from qconf.resolve import resolve

    try:
        here = control.resolve()
        other = resolve([args["path"]], include_dirs=control.include_dirs)
    except QconfError as exc:
        raise _problems(exc) from None
    changes = diff(here, other)
    return {"equal": not changes, "changes": [c.to_json(here, other) for c in changes]}
