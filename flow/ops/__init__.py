"""The op table (``registry.OPS``) and the kernels and wrappers that fill it.

Importing this package registers every stateless row: math, array and nn ops.
"""

from flow.ops import array_ops, math_ops, nn_ops  # noqa: F401 - registers the rows
from flow.ops.registry import OPS, OpDef, register  # noqa: F401
