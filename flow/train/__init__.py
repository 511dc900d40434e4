"""``tf.train``: optimizers, the global step, and (from ``flow.train.saver``) the Saver."""

from flow.train.optimizers import (
    AdamOptimizer,
    GradientDescentOptimizer,
    MomentumOptimizer,
    Optimizer,
    create_global_step,
    get_global_step,
    get_or_create_global_step,
    global_step,
)

_SAVER_NAMES = ("Saver", "latest_checkpoint", "load_checkpoint", "list_variables",
                "get_checkpoint_state", "checkpoint_exists", "CheckpointReader")


def __getattr__(name):
    """Saver names resolve lazily from ``flow.train.saver`` (its own module)."""
    if name in _SAVER_NAMES:
        from flow.train import saver

        return getattr(saver, name)
    raise AttributeError(f"module 'flow.train' has no attribute {name!r}")


__all__ = ["AdamOptimizer", "GradientDescentOptimizer", "MomentumOptimizer", "Optimizer",
           "create_global_step", "get_global_step", "get_or_create_global_step", "global_step",
           *_SAVER_NAMES]
