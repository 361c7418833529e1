"""QMP commands as declared (qconf/qmp/commands.py): one declaration per command gives
dispatch, argument checks, the run state check, ``query-commands`` and
``query-qmp-schema``; the run state is a ``Runstate`` with one guarded transition.

Golden files (tests/data/qmp-*) hold the schema of the commands and events and every
refusal of a command in a run state it is not allowed in. Regenerate after an intended
change with::

    QCONF_REGEN_GOLDEN=1 python -m pytest tests/test_qmp_commands.py

and review the diff.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any

import pytest

from qconf.qmp.commands import COMMANDS
from qconf.qmp.control import Control
from qconf.qmp.registry import ANY, Command, declare
from qconf.qmp.session import Session
from qconf.qmp.state import TRANSITIONS, Runstate, RunstateError, transition
from tests.helpers import MACHINES

DATA = Path(__file__).resolve().parent / "data"
REGEN = os.environ.get("QCONF_REGEN_GOLDEN") == "1"
HELLO = str(MACHINES / "riscv-hello" / "board.yaml")

# a legal way into each run state, from prelaunch
PATHS = {
    Runstate.PRELAUNCH: [],
    Runstate.PAUSED: [Runstate.PAUSED],
    Runstate.RUNNING: [Runstate.RUNNING],
    Runstate.GUEST_PANICKED: [Runstate.RUNNING, Runstate.GUEST_PANICKED],
    Runstate.SHUTDOWN: [Runstate.RUNNING, Runstate.SHUTDOWN],
}


def negotiated(control: Control) -> Session:
    session = Session(control, 1)
    assert session.handle({"execute": "qmp_capabilities"}) == [{"return": {}}]
    return session


def ask(session: Session, name: str, args: dict[str, Any] | None = None) -> Any:
    """The reply to one command (its events dropped)."""
    msg: dict[str, Any] = {"execute": name, "id": name}
    if args is not None:
        msg["arguments"] = args
    *_events, reply = session.handle(msg)
    assert reply["id"] == name
    return reply


def golden(name: str, text: str) -> str:
    path = DATA / name
    if REGEN:
        path.write_text(text)
    return path.read_text()


# --- the run state --------------------------------------------------------------------


def test_the_run_state_goes_through_exactly_these_states():
    control = Control([HELLO], start_paused=True)
    seen: list[tuple[str, str]] = []
    control.runstate_listeners.append(lambda old, new: seen.append((old.value, new.value)))
    session = negotiated(control)

    def status() -> str:
        reply = ask(session, "query-status")["return"]
        assert reply["running"] == (reply["status"] == "running") and not reply["singlestep"]
        return str(reply["status"])

    assert status() == "prelaunch"
    assert ask(session, "stop")["error"]["desc"] == (  # as QEMU in preconfig
        "The command 'stop' is permitted only after machine initialization has completed "
        "(after x-exit-preconfig); the machine is prelaunch")  # fmt: skip
    assert ask(session, "x-exit-preconfig") == {"id": "x-exit-preconfig", "return": {}}
    assert status() == "paused"
    assert ask(session, "stop") == {"id": "stop", "return": {}}  # paused already: no step
    for name in ("cont", "stop", "cont"):
        assert ask(session, name) == {"id": name, "return": {}}
    assert status() == "running"
    control.status = "shutdown"  # as the runner says when the guest has powered off
    assert status() == "shutdown"
    assert seen == [("prelaunch", "paused"), ("paused", "running"), ("running", "paused"),
                    ("paused", "running"), ("running", "shutdown")]  # fmt: skip
    control.machine.destroy()


def test_cont_before_the_build_builds_then_runs():
    control = Control([HELLO], start_paused=True)
    seen: list[Runstate] = []
    control.runstate_listeners.append(lambda old, new: seen.append(new))
    session = negotiated(control)
    replies = session.handle({"execute": "cont"})
    assert [r.get("event") for r in replies[:-1]] == ["RESUME"] and replies[-1] == {"return": {}}
    assert seen == [Runstate.PAUSED, Runstate.RUNNING]
    control.machine.destroy()


@pytest.mark.parametrize(
    ("old", "new"),
    [(a, b) for a, b in itertools.product(Runstate, Runstate) if a != b],
    ids=lambda s: s.value,
)
def test_every_step_is_in_the_table_or_refused(old: Runstate, new: Runstate):
    if new in TRANSITIONS[old]:
        assert transition(old, new) is new
        return
    with pytest.raises(RunstateError) as caught:
        transition(old, new)
    assert caught.value.state == old.value and caught.value.new is new
    assert caught.value.code == "E701"


def test_a_refused_step_says_where_the_machine_can_go():
    with pytest.raises(RunstateError) as caught:
        transition(Runstate.PAUSED, Runstate.PRELAUNCH)
    assert str(caught.value) == (
        "the machine cannot go from paused to prelaunch; from paused it goes to running or "
        "shutdown [E701]")  # fmt: skip
    with pytest.raises(RunstateError) as caught:
        Control().status = "shutdown"  # the runner's words go through the same check
    assert caught.value.message == (
        "the machine cannot go from prelaunch to shutdown; from prelaunch it goes to paused "
        "or running")  # fmt: skip
    with pytest.raises(RunstateError) as caught:
        transition(Runstate.SHUTDOWN, Runstate.RUNNING)
    assert caught.value.message == (
        "the machine cannot go from shutdown to running; from shutdown it goes to nowhere: "
        "it is the last state")  # fmt: skip


# --- the declarations -----------------------------------------------------------------


def test_every_declared_command_is_listed_with_its_arguments():
    session = negotiated(Control())
    listed = [c["name"] for c in ask(session, "query-commands")["return"]]
    assert listed == list(COMMANDS)  # the declarations' order
    schema = ask(session, "query-qmp-schema")["return"]
    by_name = {entry["name"]: entry for entry in schema}
    assert [e["name"] for e in schema if e["meta-type"] == "command"] == listed

    def type_name(ref: str) -> str:  # QAPI's notation back from the masked names
        entry = by_name[ref]
        return f"[{type_name(entry['element-type'])}]" if entry["meta-type"] == "array" else ref

    for command in COMMANDS.values():
        entry = by_name[command.name]
        members = by_name[entry["arg-type"]]["members"]
        declared = {("*" if a.optional else "") + a.name: a.type for a in command.args}
        assert {("*" if "default" in m else "") + m["name"]: type_name(m["type"])
                for m in members} == declared, command.name  # fmt: skip
        assert entry.get("features", []) == list(command.features)
        assert command.doc, f"{command.name} has no doc line (its function's docstring)"


def test_the_schema_of_commands_and_events_is_golden():
    """The commands' and events' part of ``query-qmp-schema`` (type names masked as numbers):
    fixed for a given set of commands, as clients cache it; the object types after it come
    from the type registry."""
    schema = ask(negotiated(Control()), "query-qmp-schema")["return"]
    ours = list(itertools.takewhile(lambda e: "qconf-type" not in e, schema))
    text = "".join(json.dumps(entry) + "\n" for entry in ours)
    assert text == golden("qmp-schema-commands.jsonl", text)


def test_the_refusals_in_every_run_state_are_golden():
    """Each command in each run state it is not allowed in: its exact reply."""
    lines = []
    for state, path in PATHS.items():
        control = Control()
        for step in path:
            control.transition(step)
        session = negotiated(control)
        for command in COMMANDS.values():
            if state in command.allowed.states:
                continue
            reply = ask(session, command.name)
            assert list(reply) == ["error", "id"] and reply["error"]["class"] == "GenericError"
            lines.append(f"{state.value:<15} {command.name:<26} {reply['error']['desc']}\n")
    text = "".join(lines)
    assert text == golden("qmp-refusals.txt", text)


def test_a_command_in_the_wrong_state_is_refused_before_its_arguments_are_read():
    control = Control([HELLO])
    session = negotiated(control)
    assert ask(session, "qconf-memory-read", {"cpu": 1}) == {"id": "qconf-memory-read", "error": {
        "class": "GenericError",
        "desc": "The command 'qconf-memory-read' is permitted only once the machine has started "
                "(after x-exit-preconfig and cont); the machine is prelaunch"}}  # fmt: skip
    assert ask(session, "x-exit-preconfig")["return"] == {}
    assert ask(session, "qconf-set", {"set": "cpu0.freq=1GHz"})["error"]["desc"] == (
        "The command 'qconf-set' is permitted only before the machine is built (in "
        "preconfig, until x-exit-preconfig); the machine is running")  # fmt: skip
    control.machine.destroy()


def test_arguments_are_checked_against_the_declaration_in_qemus_words():
    session = negotiated(Control([HELLO]))
    cases = [
        ({"path": "/machine"}, "Parameter 'property' is missing"),
        ({"path": 1, "property": "type"}, "Invalid parameter type for 'path', expected: string"),
        ({"path": "/machine", "property": "type", "x": 1}, "Parameter 'x' is unexpected"),
    ]
    for args, desc in cases:
        assert ask(session, "qom-get", args)["error"] == {"class": "GenericError", "desc": desc}
    enable = ask(session, "human-monitor-command", {"command-line": "x", "cpu-index": True})
    assert enable["error"]["desc"] == "Invalid parameter type for 'cpu-index', expected: integer"
    lists = {"path": "/machine", "property": "type", "value": 1}
    assert ask(session, "qom-get", lists)["error"]["desc"] == "Parameter 'value' is unexpected"


def test_a_declaration_is_one_per_name_with_known_types():
    def nothing(control: Control, args: dict[str, Any], who: str) -> Any:
        """Nothing."""

    with pytest.raises(ValueError, match="QMP command 'a' is declared twice"):
        declare(Command("a", nothing), Command("a", nothing))
    with pytest.raises(ValueError, match="argument 'n' has unknown type number"):
        Command("b", nothing, {"n": "number"})
    unstable = Command("x-c", nothing, {"*l": "[int]"})
    assert unstable.features == ("unstable",) and unstable.allowed is ANY
    assert [(a.name, a.type, a.optional) for a in unstable.args] == [("l", "[int]", True)]
    unstable.check_arguments({"l": [1, 2]})
    with pytest.raises(Exception, match=r"Invalid parameter type for 'l\[1\]', expected: integer"):
        unstable.check_arguments({"l": [1, "two"]})
    hexed: dict[str, Any] = {"l": [1, "0x10", "0b1_0"]}  # as qmp-shell sends them
    unstable.check_arguments(hexed)
    assert hexed == {"l": [1, 16, 2]}


def test_a_file_with_problems_of_its_own_is_refused_and_the_session_goes_on(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: riscv-virt\ncpu0: {hartd: 3}\n")
    control = Control([], start_paused=True)
    session = negotiated(control)
    refused = ask(session, "qconf-add-file", {"path": str(bad)})["error"]["desc"]
    assert refused.splitlines()[0] == (
        f"{bad}:2:15: cpu0.hartd: unknown property 'hartd' of riscv64 [E402]"
    )
    assert refused.splitlines()[-1] == (
        f"{bad} was not added: the configuration is as it was; fix the file and add it again"
    )
    assert control.files == []
    assert ask(session, "qconf-add-file", {"path": HELLO})["return"] == {}
    assert ask(session, "qconf-validate")["return"] == {}
    assert "error" in ask(session, "qconf-add-file", {"path": str(bad)})
    assert ask(session, "qom-list", {"path": "/machine/cpu0"})["return"][0] == {
        "name": "type", "type": "str"}  # fmt: skip
    bad.write_text("extends: riscv-virt\ncpu0: {hartid: 0}\n")  # fixed: added
    assert ask(session, "qconf-add-file", {"path": str(bad)})["return"] == {}
    assert control.files == [HELLO, str(bad)]
