"""Floor 1, the op table: one row per TensorFlow op type, pure numpy (``table``).

``table.OPS`` holds the stateless rows (forward, gradient, shape rule: ``math``, ``array``,
``nn`` with ``conv``); ``table.STATEFUL`` the rows the Session gives state (``state``:
placeholders, variables and their updates, random streams). Importing this package registers
every row of both.
"""

from flow.kernels import (  # noqa: F401 - the rows
    array,
    control_flow,
    math,
    nn,
    printing,
    reverse,
    select,
    sparse,
    state,
    tensor_array,
)
