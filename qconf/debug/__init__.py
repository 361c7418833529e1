"""Debugging a running machine with gdb: a GDB remote stub for every CPU.

- :mod:`qconf.debug.rsp`: the remote protocol's framing (packets, acks, escapes);
- :mod:`qconf.debug.stub`: one connection's commands against a small target interface;
- :mod:`qconf.debug.tdesc`: target descriptions (each architecture's registers are
  described in ``qconf/arch/*/gdb.py``, named by its ``ArchInfo.gdb``).

Nothing here is imported unless a run debugs (``qconf.debug.tdesc`` is imported by the
architectures' ``gdb`` modules only).
"""
