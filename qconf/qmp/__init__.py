"""QMP: qconf's configuration and control over QEMU's JSON protocol.

The modules, each importing only those above it:

- ``protocol``: the wire (greeting, JSON stream, envelopes, QEMU's error classes);
- ``state``: the run state (``Runstate``) and its one guarded transition;
- ``control``: what the commands act on (the layers of the document, the built machine,
  the run state), one per process;
- ``registry``: how a command is declared (arguments, allowed run states, function) and
  checked; ``schema``: ``query-qmp-schema`` from the declarations;
- the commands' functions: ``run_commands`` (run state, configuration), ``qom``
  (objects, types, hotplug), ``guest`` (memory, registers, consoles), ``queries``, ``hmp``
  (the human monitor);
- ``commands``: every command declared, in order (``COMMANDS``);
- ``session``: one client (negotiation, ids, dispatch); ``server``: the sockets.
"""
