"""The ``qconf`` command and ``python -m qconf``.

Two things make a run start quickly:

* ``qconf run`` with words an earlier run used (and the same qconf) skips the command
  line parser: the earlier run remembered how click parsed them
  (:func:`qconf.runner.remembered`), and its machine comes from its snapshot. Both ways
  end in :func:`qconf.runner.command`.
* Start-up makes only objects that live as long as the process (modules, classes,
  commands): the garbage collector is paused while they are made, since collecting then
  frees nothing and costs every run milliseconds, and resumes with what start-up made
  frozen out of later collections (``gc.freeze``).
"""

from __future__ import annotations

import gc
import sys


def _collect() -> None:
    gc.freeze()
    gc.enable()


def main() -> None:
    gc.disable()
    argv = sys.argv[1:]
    if argv[:1] == ["run"]:
        from qconf.runner import command, remembered

        options = remembered(argv)
        if options is not None:
            _collect()
            command(options)
    try:
        from qconf.cli import main as command_line
    finally:
        _collect()
    command_line(args=argv, obj={"argv": argv})


if __name__ == "__main__":
    main()
