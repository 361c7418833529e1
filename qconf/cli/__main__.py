"""``python -m qconf.cli``: the command line, as ``qconf`` runs it after its shortcuts."""

from qconf.cli import main

main()
