"""Sweeps: one machine, many variants (``qconf sweep``).

:mod:`~qconf.sweep.grammar` reads Hydra's multirun grammar in ``--set`` arguments and
expands it into variants; :mod:`~qconf.sweep.plan` resolves and builds each variant and
packs it into a :class:`~qconf.sweep.jobs.Job` that names its images by content;
:mod:`~qconf.sweep.jobs` runs one job to its end condition into a
:class:`~qconf.sweep.jobs.Row` (in a worker: a local process, or a Ray task);
:mod:`~qconf.sweep.executors` runs the jobs; :mod:`~qconf.sweep.report` prints the
results. Importing this package imports none of them.
"""
