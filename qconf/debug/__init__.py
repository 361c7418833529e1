"""Debugging a running machine with gdb: a GDB remote stub for every CPU.

``qconf run -s`` (or ``--gdb ADDRESS``, or the human monitor's ``gdbserver``) serves each
architecture's CPUs as the threads of one stub; while any debugger has the machine
stopped, no CPU runs and virtual time stands still. The modules, from the wire in:

- :mod:`qconf.debug.rsp`: the remote protocol's framing (packets, acks, escapes);
- :mod:`qconf.debug.stub`: one connection's commands against a small target interface;
- :mod:`qconf.debug.tdesc`: target descriptions (each architecture's registers are
  described in ``qconf/arch/*/gdb.py``, named by its ``ArchInfo.gdb``);
- :mod:`qconf.debug.target`: a stub's CPUs as its target;
- :mod:`qconf.debug.cpu`: breakpoints, watchpoints and exact steps on one core;
- :mod:`qconf.debug.layout`: where stubs listen, and which CPUs each serves;
- :mod:`qconf.debug.server`: the stubs' sockets, and the machine stopping as a whole.

Nothing here is imported unless a run debugs: ``import qconf`` and runs without gdb do
not load it (``qconf.debug.tdesc`` is imported by the architectures' ``gdb`` modules only).
"""
