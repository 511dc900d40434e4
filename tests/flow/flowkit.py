"""Helpers shared by the graph-level flow tests (the op-table tests have ops/opcheck.py)."""

import numpy as np


def numeric_grad(sess, loss, x, value, feed, eps=1e-6):
    """Central differences of scalar ``loss`` with respect to placeholder ``x`` at ``value``."""
    grad = np.zeros_like(value)
    for idx in np.ndindex(value.shape):
        up, down = value.copy(), value.copy()
        up[idx] += eps
        down[idx] -= eps
        grad[idx] = (sess.run(loss, {**feed, x: up}) - sess.run(loss, {**feed, x: down})) / (
            2 * eps)
    return grad
