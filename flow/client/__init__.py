"""Floor 4: the ``Session`` that runs a graph on the op table's kernels."""
