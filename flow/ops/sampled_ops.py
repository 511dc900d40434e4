"""Candidate sampling and the sampled losses: ``tf.nn.nce_loss``, ``sampled_softmax_loss``.

The losses are composed as TF 1.15's ``nn_impl._compute_sampled_logits`` composes them: the
true and sampled classes' weight rows come from one ``embedding_lookup`` of their
concatenated ids (so the weights' gradient is an ``IndexedSlices`` of those rows), the true
logits are row-wise dot products, ``remove_accidental_hits`` adds ``-FLT_MAX`` where a sampled
class is one of the row's true classes (``ComputeAccidentalHits`` + ``SparseToDense``),
``subtract_log_q`` subtracts the log of each class's expected count. No variables are made.

``sampled_values`` (``(sampled, true_expected_count, sampled_expected_count)``) defaults to a
``log_uniform_candidate_sampler`` draw; passing it fixes the sample.
"""

from __future__ import annotations

import numpy as np

from flow.core import dtypes
from flow.framework.build import apply, convert_to_tensor
from flow.framework.graph import name_scope
from flow.ops import array_ops, math_ops, nn_ops
from flow.ops.init_ops import get_seed


def _sampler(op_type, true_classes, num_true, num_sampled, unique, range_max, seed, name,
             **attrs):
    true_classes = convert_to_tensor(true_classes)
    if true_classes.dtype != dtypes.int64:
        raise TypeError(f"{op_type}: true_classes must be int64, got "
                        f"{true_classes.dtype.name}; cast them with tf.cast(..., tf.int64).")
    if int(num_sampled) < 1 or int(range_max) < 1:
        raise ValueError(f"{op_type}: num_sampled ({num_sampled}) and range_max ({range_max}) "
                         f"must be positive.")
    if unique and int(num_sampled) > int(range_max):
        raise ValueError(f"{op_type}: num_sampled={num_sampled} exceeds range_max="
                         f"{range_max} with unique=True; sample fewer or set unique=False.")
    seed1, seed2 = get_seed(seed)
    attrs = {"num_true": int(num_true), "num_sampled": int(num_sampled), "unique": bool(unique),
             "range_max": int(range_max), **attrs, "seed": seed1 or 0, "seed2": seed2 or 0}
    batch = true_classes.shape.as_list()[0] if true_classes.shape.ndims else None
    op = true_classes.graph.create_op(
        op_type, [true_classes], attrs, name or op_type,
        [dtypes.int64, dtypes.float32, dtypes.float32],
        [[int(num_sampled)], [batch, int(num_true)], [int(num_sampled)]])
    return tuple(op.outputs)


def log_uniform_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max,
                                  seed=None, name=None):
    """Classes drawn with P(k) = log((k + 2) / (k + 1)) / log(range_max + 1) (Zipf-like)."""
    return _sampler("LogUniformCandidateSampler", true_classes, num_true, num_sampled, unique,
                    range_max, seed, name)


def uniform_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max,
                              seed=None, name=None):
    """Classes drawn uniformly from ``[0, range_max)``."""
    return _sampler("UniformCandidateSampler", true_classes, num_true, num_sampled, unique,
                    range_max, seed, name)


def fixed_unigram_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max,
                                    vocab_file="", distortion=1.0, num_reserved_ids=0,
                                    num_shards=1, shard=0, unigrams=(), seed=None, name=None):
    """Classes drawn in proportion to ``unigrams ** distortion`` (``vocab_file`` unsupported)."""
    if vocab_file:
        raise ValueError("fixed_unigram_candidate_sampler: vocab_file is not supported; pass "
                         "the counts as unigrams=[...].")
    if num_shards != 1 or shard != 0:
        raise ValueError("fixed_unigram_candidate_sampler: sharding is not supported; leave "
                         "num_shards=1, shard=0.")
    if len(unigrams) + int(num_reserved_ids) != int(range_max):
        raise ValueError(f"fixed_unigram_candidate_sampler: len(unigrams) + num_reserved_ids "
                         f"must equal range_max={range_max}, got {len(unigrams)} + "
                         f"{num_reserved_ids}.")
    return _sampler("FixedUnigramCandidateSampler", true_classes, num_true, num_sampled,
                    unique, range_max, seed, name, vocab_file="", distortion=float(distortion),
                    num_reserved_ids=int(num_reserved_ids), num_shards=1, shard=0,
                    unigrams=[float(u) for u in unigrams])


def compute_accidental_hits(true_classes, sampled_candidates, num_true, seed=None, name=None):
    """``(indices, ids, weights)``: where sampled class ``ids[k]`` is one of row
    ``indices[k]``'s true classes, with weight ``-FLT_MAX``."""
    seed1, seed2 = get_seed(seed)
    return apply("ComputeAccidentalHits", [true_classes, sampled_candidates],
                 {"num_true": int(num_true), "seed": seed1 or 0, "seed2": seed2 or 0}, name)


def _sum_rows(x):
    """TF's ``_sum_rows``: a row sum as ``x @ ones`` (its gradient is a MatMul)."""
    cols = array_ops.shape(x)[1]
    ones = array_ops.ones(array_ops.stack([cols, 1]), x.dtype)
    return array_ops.reshape(math_ops.matmul(x, ones), [-1])


def _compute_sampled_logits(weights, biases, labels, inputs, num_sampled, num_classes,
                            num_true=1, sampled_values=None, subtract_log_q=True,
                            remove_accidental_hits=False, partition_strategy="mod", name=None,
                            seed=None):
    if isinstance(weights, list | tuple):
        if len(weights) != 1:
            raise NotImplementedError("sampled losses over several weight shards are not "
                                      "supported; pass one [num_classes, dim] weights tensor.")
        weights = weights[0]
    with name_scope(name, "compute_sampled_logits"):
        labels = convert_to_tensor(labels)
        if labels.dtype != dtypes.int64:
            labels = array_ops.cast(labels, dtypes.int64)
        inputs = convert_to_tensor(inputs)
        labels_flat = array_ops.reshape(labels, [-1])
        if sampled_values is None:
            sampled_values = log_uniform_candidate_sampler(
                true_classes=labels, num_true=num_true, num_sampled=num_sampled, unique=True,
                range_max=num_classes, seed=seed)
        sampled, true_expected_count, sampled_expected_count = (
            array_ops.stop_gradient(s) for s in sampled_values)
        sampled = array_ops.cast(sampled, dtypes.int64)
        all_ids = array_ops.concat([labels_flat, sampled], 0)
        all_w = nn_ops.embedding_lookup(weights, all_ids, partition_strategy=partition_strategy)
        if all_w.dtype != inputs.dtype:
            all_w = array_ops.cast(all_w, inputs.dtype)
        n_true = array_ops.shape(labels_flat)[0]
        true_w = array_ops.slice(all_w, [0, 0], array_ops.stack([n_true, -1]))
        sampled_w = array_ops.slice(all_w, array_ops.stack([n_true, 0]), [-1, -1])
        sampled_logits = math_ops.matmul(inputs, sampled_w, transpose_b=True)
        all_b = nn_ops.embedding_lookup(biases, all_ids, partition_strategy=partition_strategy)
        if all_b.dtype != inputs.dtype:
            all_b = array_ops.cast(all_b, inputs.dtype)
        true_b = array_ops.slice(all_b, [0], array_ops.shape(labels_flat))
        sampled_b = array_ops.slice(all_b, array_ops.shape(labels_flat), [-1])
        dim = array_ops.shape(true_w)[1:2]
        new_true_w_shape = array_ops.concat([[-1, num_true], dim], 0)
        row_wise_dots = math_ops.multiply(array_ops.expand_dims(inputs, 1),
                                          array_ops.reshape(true_w, new_true_w_shape))
        dots_as_matrix = array_ops.reshape(row_wise_dots, array_ops.concat([[-1], dim], 0))
        true_logits = array_ops.reshape(_sum_rows(dots_as_matrix), [-1, num_true])
        true_b = array_ops.reshape(true_b, [-1, num_true])
        true_logits += true_b
        sampled_logits += sampled_b
        if remove_accidental_hits:
            acc_indices, acc_ids, acc_weights = compute_accidental_hits(
                labels, sampled, num_true=num_true)
            sparse_indices = array_ops.concat(
                [array_ops.reshape(acc_indices, [-1, 1]),
                 array_ops.reshape(array_ops.cast(acc_ids, dtypes.int32), [-1, 1])], 1,
                "sparse_indices")
            logits_shape = array_ops.concat(
                [array_ops.shape(labels)[:1],
                 array_ops.expand_dims(np.int32(num_sampled), 0)], 0)
            if sampled_logits.dtype != acc_weights.dtype:
                acc_weights = array_ops.cast(acc_weights, sampled_logits.dtype)
            sampled_logits += apply(
                "SparseToDense", [sparse_indices, logits_shape, acc_weights,
                                  np.zeros((), sampled_logits.dtype.as_numpy_dtype)],
                {"validate_indices": False, "T": sampled_logits.dtype,
                 "Tindices": dtypes.int32}, None)
        if subtract_log_q:
            true_logits -= math_ops.log(true_expected_count)
            sampled_logits -= math_ops.log(sampled_expected_count)
        out_logits = array_ops.concat([true_logits, sampled_logits], 1)
        out_labels = array_ops.concat([array_ops.ones_like(true_logits) / num_true,
                                       array_ops.zeros_like(sampled_logits)], 1)
    return out_logits, out_labels


def nce_loss(weights, biases, labels, inputs, num_sampled, num_classes, num_true=1,
             sampled_values=None, remove_accidental_hits=False, partition_strategy="mod",
             name="nce_loss"):
    """Noise-contrastive estimation: per example, the sigmoid cross-entropy of the true
    classes (label ``1 / num_true``) and of ``num_sampled`` sampled classes (label 0)."""
    logits, labels = _compute_sampled_logits(
        weights=weights, biases=biases, labels=labels, inputs=inputs, num_sampled=num_sampled,
        num_classes=num_classes, num_true=num_true, sampled_values=sampled_values,
        subtract_log_q=True, remove_accidental_hits=remove_accidental_hits,
        partition_strategy=partition_strategy, name=name)
    sampled_losses = nn_ops.sigmoid_cross_entropy_with_logits(
        labels=labels, logits=logits, name="sampled_losses")
    return _sum_rows(sampled_losses)


def sampled_softmax_loss(weights, biases, labels, inputs, num_sampled, num_classes,
                         num_true=1, sampled_values=None, remove_accidental_hits=True,
                         partition_strategy="mod", name="sampled_softmax_loss", seed=None):
    """The softmax cross-entropy over the true classes and ``num_sampled`` sampled ones."""
    logits, labels = _compute_sampled_logits(
        weights=weights, biases=biases, labels=labels, inputs=inputs, num_sampled=num_sampled,
        num_classes=num_classes, num_true=num_true, sampled_values=sampled_values,
        subtract_log_q=True, remove_accidental_hits=remove_accidental_hits,
        partition_strategy=partition_strategy, name=name, seed=seed)
    labels = array_ops.stop_gradient(labels, name="labels_stop_gradient")
    return nn_ops.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
