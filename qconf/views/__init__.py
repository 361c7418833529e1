"""Views of a built machine, as text (``qconf tree``, ``mtree``, ``irqs``, ``clocks``,
``resets``) and as a Graphviz picture (``qconf graph``)."""
