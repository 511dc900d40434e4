"""``tf.nn``: the neural-network wrappers of ``flow.ops.nn_ops`` under TensorFlow's names."""

from types import SimpleNamespace as _Namespace

from flow.layers import rnn_cell as _cells
from flow.layers.rnn import (
    bidirectional_dynamic_rnn,
    dynamic_rnn,
    static_bidirectional_rnn,
    static_rnn,
)
from flow.ops.math_ops import sigmoid, tanh
from flow.ops.nn_ops import (
    avg_pool,
    batch_normalization,
    bias_add,
    conv2d,
    conv2d_transpose,
    dropout,
    elu,
    embedding_lookup,
    fused_batch_norm,
    in_top_k,
    l2_loss,
    l2_normalize,
    leaky_relu,
    log_softmax,
    max_pool,
    moments,
    relu,
    relu6,
    sigmoid_cross_entropy_with_logits,
    softmax,
    softmax_cross_entropy_with_logits,
    softmax_cross_entropy_with_logits_v2,
    softplus,
    sparse_softmax_cross_entropy_with_logits,
    top_k,
    xw_plus_b,
)
from flow.ops.sampled_ops import (
    compute_accidental_hits,
    fixed_unigram_candidate_sampler,
    log_uniform_candidate_sampler,
    nce_loss,
    sampled_softmax_loss,
    uniform_candidate_sampler,
)

__all__ = [
    "avg_pool", "batch_normalization", "bias_add", "conv2d", "conv2d_transpose", "dropout",
    "elu", "embedding_lookup", "fused_batch_norm", "l2_loss", "l2_normalize", "leaky_relu",
    "log_softmax", "max_pool", "moments", "relu", "relu6", "sigmoid",
    "sigmoid_cross_entropy_with_logits",
    "softmax", "softmax_cross_entropy_with_logits", "softmax_cross_entropy_with_logits_v2",
    "softplus", "sparse_softmax_cross_entropy_with_logits", "tanh", "xw_plus_b", "in_top_k",
    "top_k", "dynamic_rnn", "static_rnn", "rnn_cell", "bidirectional_dynamic_rnn",
    "static_bidirectional_rnn", "nce_loss", "sampled_softmax_loss",
    "log_uniform_candidate_sampler", "uniform_candidate_sampler",
    "fixed_unigram_candidate_sampler", "compute_accidental_hits",
]

rnn_cell = _Namespace(**{n: getattr(_cells, n) for n in _cells.__all__})
