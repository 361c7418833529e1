"""One QMP client: capability negotiation, then commands; replies echo the ``id``."""

from __future__ import annotations

import os
from typing import Any

from qconf.qmp.commands import COMMANDS
from qconf.qmp.control import Control
from qconf.qmp.protocol import QmpError, check_envelope, event

__all__ = ("Session",)


class Session:
    def __init__(self, control: Control, number: int) -> None:
        self.control = control
        self.number = number
        self.negotiated = False
        self.oob = False  # out-of-band execution enabled at negotiation

    def handle(self, msg: Any) -> list[dict[str, Any]]:
        """The messages to send for one client message: events it caused, then its reply."""
        has_id = isinstance(msg, dict) and "id" in msg
        ident = msg.get("id") if isinstance(msg, dict) else None

        def reply(body: dict[str, Any]) -> dict[str, Any]:
            if has_id:
                body["id"] = ident
            return body

        if isinstance(msg, QmpError):
            return [{"error": {"class": msg.klass, "desc": msg.desc}}]
        name = ""
        try:
            name, args = check_envelope(msg)
            if self.negotiated == (name == "qmp_capabilities"):
                raise QmpError("Capabilities negotiation is already complete, command ignored"
                               if self.negotiated else
                               "Expecting capabilities negotiation with 'qmp_capabilities'",
                               "CommandNotFound")  # fmt: skip
            if self.negotiated and "exec-oob" in msg:
                # no qconf command runs out of band; without the capability, the member
                # itself is not allowed (QEMU's rules)
                if not self.oob:
                    raise QmpError("QMP input member 'exec-oob' is unexpected")
                raise QmpError(f"The command {name} does not support OOB")
            command = COMMANDS.get(name)
            if command is None:
                raise QmpError(f"The command {name} has not been found", "CommandNotFound")
            who = f"qmp client {self.number}" + (f" id {ident!r}" if has_id else "")
            result = command(self.control, args, who)
            if not self.negotiated:  # qmp_capabilities succeeded
                self.oob = "oob" in (args.get("enable") or [])
                self.negotiated = True
        except QmpError as exc:
            return [reply({"error": {"class": exc.klass, "desc": exc.desc}})]
        except Exception as exc:  # a bug in qconf: the server and the client go on
            if os.environ.get("QCONF_DEBUG") == "1":
                raise
            desc = (f"qconf failed in '{name}': {type(exc).__name__}: {exc} (a bug in qconf; "
                    "QCONF_DEBUG=1 shows where)")  # fmt: skip
            return [reply({"error": {"class": "GenericError", "desc": desc}})]
        out = [event(e["event"], e.get("data")) for e in self.control.events]
        self.control.events.clear()
        return [*out, reply({"return": result})]
