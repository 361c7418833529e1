"""The start-up cache of ``qconf run``: machine snapshots and remembered command lines.

Resolving needs the YAML reader and pydantic, whose imports alone take longer than many
guests run; running a built machine needs neither. So after ``qconf run`` builds a machine
it keeps a snapshot of it (:mod:`qconf.assembly.snapshot`: the machine as plain data), and
the next run of the same command line whose inputs are all unchanged restores it
(:func:`cached_machine`). A run started as the ``qconf`` command also remembers how click
parsed its words (:func:`remember`), so that the next one with the same words starts
without click (:func:`remembered`).

* **Keys.** A snapshot is kept for a command line (:meth:`MachineCache.command_line`): the
  files, ``--set`` and ``-I`` arguments, the working directory (messages show paths
  relative to it), ``$QCONF_PATH`` and ``$QCONF_MAX_FILE_BYTES``, the Python version and
  qconf's own code (each module's size and modification time); a remembered parse, for
  the words and the same code.
* **Invalidation** (:class:`Inputs`). Every configuration file the resolve read (size,
  modification time and checksum), every directory it searched (modification time: a
  file added where a profile or component is looked up changes it), and every path it
  named with where its symbolic links led. Images are not inputs: they are read on every
  run, a hit included. Machines with types from plugins are not snapshotted: their code
  is not qconf's to fingerprint.
* **Trust** (:mod:`qconf.cache.folder`, :mod:`qconf.cache.host`). The cache directory is
  used only when it is the user's own and nobody else can write it; every entry is
  authenticated with a key of the user's; what a restored machine reaches on the host
  must be written in its configuration; a remembered parse holds only words of its
  command line.

Entries are JSON behind their signature (nothing in one is executed), written atomically to
``$QCONF_CACHE_DIR`` (default ``$XDG_CACHE_HOME/qconf``, else ``~/.cache/qconf``), the
newest :data:`MAX_ENTRIES` of each folder kept. An entry that cannot be read, is not
authenticated, or cannot be restored is a miss.
"""

from qconf.cache.folder import MAX_ENTRIES, CacheFolder, Entry, Refused, cache_dir
from qconf.cache.inputs import Inputs, searched
from qconf.cache.machines import MachineCache, cached_machine
from qconf.cache.runs import forget, remember, remembered

__all__ = (
    "MachineCache",
    "Inputs",
    "CacheFolder",
    "Entry",
    "cached_machine",
    "searched",
    "remember",
    "remembered",
    "forget",
    "cache_dir",
    "MAX_ENTRIES",
    "Refused",
)
