"""QMP: qconf's configuration and control over QEMU's JSON protocol.

``protocol`` is the wire (greeting, framing, envelopes, QEMU's error classes), ``session``
one client's state (capability negotiation, ids), ``control`` what the commands act on
(the layers of the document, the built machine, the run state), ``commands`` every
command by name, from ``run_commands`` (run state, configuration), ``qom`` (objects,
types, hotplug), ``guest`` (memory, registers, consoles) and ``queries`` (``query-*``,
the schema, the human monitor), ``server`` the listening sockets.
"""
