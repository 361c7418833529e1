"""The ``qconf`` command and ``python -m qconf``: the command line (:mod:`qconf.cli`),
loaded with the garbage collector paused.

Start-up makes only objects that live as long as the process (modules, classes, click's
commands): collecting while they are made frees nothing and costs every run several
milliseconds. So collection resumes once the command line is loaded, with what start-up
made frozen out of later collections (``gc.freeze``).
"""

from __future__ import annotations

import gc


def main() -> None:
    gc.disable()
    try:
        from qconf.cli import main as command_line
    finally:
        gc.freeze()
        gc.enable()
    command_line()


if __name__ == "__main__":
    main()
