"""``tf.train``: optimizers, learning-rate schedules, moving averages, the global step and the
Saver."""

from flow.train.adaptive_optimizers import (
    AdadeltaOptimizer,
    AdagradOptimizer,
    FtrlOptimizer,
    ProximalGradientDescentOptimizer,
    RMSPropOptimizer,
)
from flow.train.learning_rate_decay import (
    exponential_decay,
    inverse_time_decay,
    natural_exp_decay,
    piecewise_constant,
    polynomial_decay,
)
from flow.train.meta_graph_import import import_meta_graph
from flow.train.moving_averages import ExponentialMovingAverage
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
from flow.train.saver import (
    CheckpointReader,
    Saver,
    checkpoint_exists,
    get_checkpoint_state,
    latest_checkpoint,
    list_variables,
    load_checkpoint,
)

__all__ = ["import_meta_graph", "AdamOptimizer", "GradientDescentOptimizer", "MomentumOptimizer", "Optimizer",
           "create_global_step", "get_global_step", "get_or_create_global_step", "global_step",
           "Saver", "latest_checkpoint", "load_checkpoint", "list_variables",
           "get_checkpoint_state", "checkpoint_exists", "CheckpointReader",
           "AdadeltaOptimizer", "AdagradOptimizer", "FtrlOptimizer",
           "ProximalGradientDescentOptimizer", "RMSPropOptimizer", "ExponentialMovingAverage",
           "exponential_decay", "inverse_time_decay", "natural_exp_decay", "piecewise_constant",
           "polynomial_decay"]
