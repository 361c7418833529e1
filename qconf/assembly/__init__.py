"""From a validated document to a machine: the builder and what it builds.

``builder.build`` runs the named steps (create, configure, connect, check, realize) and
tears everything down newest first when one fails; ``machine.Machine`` is the result,
with its composition tree and the views derived from it (address spaces, IRQ wires,
clock tree, reset tree); ``links`` resolves the paths objects write to each other;
``hotplug`` adds RAM to a built machine and takes it away; ``snapshot`` saves a built
machine as plain data and restores it, the cache ``qconf run`` starts from.
"""
