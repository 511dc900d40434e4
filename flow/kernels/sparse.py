"""Rows for sparse gradients and sampled losses (TF 1.15 semantics).

Stateless: ``UnsortedSegmentSum`` (an ``IndexedSlices`` made dense), ``Unique`` (first-seen
order, as TF's), ``SparseToDense`` and ``ComputeAccidentalHits``. Stateful: ``ScatterAdd`` /
``ScatterSub`` / ``ScatterUpdate`` on a variable's rows, every ``SparseApply*`` update (the
dense ``Apply*`` formula of ``flow.kernels.state`` run on the rows ``indices`` of the variable
and its slots, the other rows untouched, as ``training_ops.cc``), and the candidate samplers
of ``tf.nn.*_candidate_sampler``.
"""

from __future__ import annotations

import math

import numpy as np

from flow.kernels import state
from flow.kernels.common import const_input
from flow.kernels.state import _generator, uninitialized_error
from flow.kernels.table import STATEFUL, OpDef, np_dtype, register, stateful

# ---------------------------------------------------------------- stateless rows


def _segment_sum(inputs, attrs):
    data, ids, n = inputs
    ids = np.asarray(ids)
    out = np.zeros((int(n), *data.shape[ids.ndim:]), data.dtype)
    np.add.at(out, ids, data)
    return out


def _segment_sum_grad(inputs, outputs, grads, attrs):
    return [np.take(grads[0], inputs[1], axis=0), None, None]


def _segment_sum_shape(shapes, attrs):
    data, ids = shapes[0], shapes[1]
    n = const_input(attrs, 2)
    if data is None or ids is None:
        return [None]
    return [(None if n is None else int(n), *data[len(ids):])]


register(OpDef("UnsortedSegmentSum", _segment_sum, _segment_sum_grad, _segment_sum_shape,
               attrs=("T", "Tindices", "Tnumsegments"), const_inputs=(2,)))


def _unique(inputs, attrs):
    x = np.asarray(inputs[0])
    values, first, inverse = np.unique(x, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # TF lists each value where it is first seen
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    idx_type = np_dtype(attrs.get("out_idx", np.int32))
    return values[order], rank[inverse.reshape(-1)].astype(idx_type)


register(OpDef("Unique", _unique, None, lambda s, a: [(None,), s[0]], num_outputs=2,
               dtype=lambda d, a: [d[0], np_dtype(a.get("out_idx", np.int32))],
               attrs=("T", "out_idx")))


def _sparse_to_dense(inputs, attrs):
    indices, shape, values, default = inputs
    shape = tuple(int(d) for d in np.asarray(shape).reshape(-1))
    out = np.full(shape, default, dtype=np.asarray(values).dtype)
    indices = np.asarray(indices).reshape(-1, len(shape)) if len(shape) else indices
    out[tuple(indices.T)] = values
    return out


def _sparse_to_dense_shape(shapes, attrs):
    dims = const_input(attrs, 1)
    if dims is None:
        n = shapes[1][0] if shapes[1] else None
        return [None if n is None else (None,) * n]
    return [tuple(int(d) for d in dims.reshape(-1))]


register(OpDef("SparseToDense", _sparse_to_dense, None, _sparse_to_dense_shape,
               dtype=lambda d, a: [d[2]], attrs=("validate_indices", "T", "Tindices"),
               const_inputs=(1,)))

_FLT_MAX = float(np.finfo(np.float32).max)


def _accidental_hits(inputs, attrs):
    """For each (row, sampled position) where the sampled class is one of the row's true
    classes: row index, position and weight ``-FLT_MAX`` (TF's ComputeAccidentalHits)."""
    true_classes, sampled = np.asarray(inputs[0]), np.asarray(inputs[1])
    rows, cols = np.nonzero((true_classes[:, :, None] == sampled[None, None, :]).any(axis=1))
    return (rows.astype(np.int32), cols.astype(np.int64),
            np.full(len(rows), -_FLT_MAX, np.float32))


register(OpDef("ComputeAccidentalHits", _accidental_hits, None,
               lambda s, a: [(None,), (None,), (None,)], num_outputs=3,
               dtype=lambda d, a: [np.dtype(np.int32), np.dtype(np.int64),
                                   np.dtype(np.float32)],
               attrs=("num_true", "seed", "seed2")))

# ---------------------------------------------------------------- scatter updates


def _scatter(fn):
    def update(var, ins, attrs, store, op):
        new = var.copy()
        fn(new, np.asarray(ins[1]), np.asarray(ins[2], dtype=var.dtype))
        return new

    return update


def _put(new, idx, updates):
    new[idx] = updates


_SCATTER_ATTRS = ("T", "Tindices", "use_locking")
stateful("ScatterAdd", _SCATTER_ATTRS, (0,))(state._update(_scatter(np.add.at)))
stateful("ScatterSub", _SCATTER_ATTRS, (0,))(state._update(_scatter(np.subtract.at)))
stateful("ScatterUpdate", _SCATTER_ATTRS, (0,))(state._update(_scatter(_put)))

# ---------------------------------------------------------------- SparseApply* updates

# sparse op -> (its dense op, index of `grad` among the dense op's inputs, slot input indices)
SPARSE_APPLY = {
    "SparseApplyMomentum": ("ApplyMomentum", 3, (1,)),
    "SparseApplyAdagrad": ("ApplyAdagrad", 3, (1,)),
    "SparseApplyRMSProp": ("ApplyRMSProp", 7, (1, 2)),
    "SparseApplyCenteredRMSProp": ("ApplyCenteredRMSProp", 8, (1, 2, 3)),
    "SparseApplyAdadelta": ("ApplyAdadelta", 6, (1, 2)),
    "SparseApplyFtrl": ("ApplyFtrl", 3, (1, 2)),
    "SparseApplyFtrlV2": ("ApplyFtrlV2", 3, (1, 2)),
    "SparseApplyProximalGradientDescent": ("ApplyProximalGradientDescent", 4, ()),
}


class _Typed:
    """``op`` seen under another type name (the formulas switch on ``op.type``)."""

    def __init__(self, op, op_type):
        self._op, self.type = op, op_type

    def __getattr__(self, name):
        return getattr(self._op, name)


def _sparse_apply(dense_fn, grad_index, slots):
    """The dense formula on rows ``indices`` (the input after ``grad``) of var and slots."""

    def make(op, sess):
        store, name = sess._variable_values, op.inputs[0].op.name
        attrs = op.attrs
        slot_names = [op.inputs[i].op.name for i in slots]

        def kernel(ins):
            idx = np.asarray(ins[grad_index + 1]).reshape(-1)
            dense_ins = ins[:grad_index + 1] + ins[grad_index + 2:]
            rows = {}
            for s in (name, *slot_names):
                if s not in store:
                    raise uninitialized_error(op, s)
            for s in slot_names:
                rows[s] = store[s][idx]
            var = store[name]
            new_rows = dense_fn(var[idx], dense_ins, attrs, rows, op)
            for s in slot_names:
                updated = store[s].copy()
                updated[idx] = rows[s]
                store[s] = updated
            new = var.copy()
            new[idx] = new_rows
            store[name] = new
            return new

        return kernel

    return make


_FORMULAS = {
    "ApplyMomentum": state._momentum, "ApplyAdagrad": state._adagrad,
    "ApplyRMSProp": state._rmsprop, "ApplyCenteredRMSProp": state._centered_rmsprop,
    "ApplyAdadelta": state._adadelta, "ApplyFtrl": state._ftrl,
    "ApplyFtrlV2": lambda var, ins, attrs, store, op: state._ftrl(  # V2 is told by op.type
        var, ins, attrs, store, _Typed(op, "ApplyFtrlV2")),
    "ApplyProximalGradientDescent": state._proximal_sgd,
}

for _sparse, (_dense, _grad_index, _slots) in SPARSE_APPLY.items():
    _dense_row = STATEFUL[_dense]
    stateful(_sparse, (*_dense_row.attrs[:1], "Tindices", *_dense_row.attrs[1:]),
             _dense_row.ref_inputs)(_sparse_apply(_FORMULAS[_dense], _grad_index, _slots))


# ---------------------------------------------------------------- candidate samplers


def _log_uniform_probs(k, range_max):
    k = np.asarray(k, np.float64)
    return (np.log(k + 2.0) - np.log(k + 1.0)) / math.log(range_max + 1.0)


def _expected(p, num_sampled, tries, unique):
    """TF's ExpectedCountHelper: the expected count of a class of probability ``p``."""
    if unique:
        return -np.expm1(tries * np.log1p(-p))
    return p * num_sampled


def _sampler(draw, prob):
    """A ``*CandidateSampler`` kernel factory: ``draw(rng, n, attrs)`` gives ``n`` classes,
    ``prob(classes, attrs)`` their probabilities."""

    def make(op, sess):
        rng = _generator(op, sess)
        attrs = op.attrs
        n, unique = int(attrs["num_sampled"]), bool(attrs["unique"])

        def kernel(ins):
            true_classes = np.asarray(ins[0])
            if unique:
                if n > int(attrs["range_max"]):
                    raise ValueError(f"Sampler used when unique=True with num_sampled={n} "
                                     f"larger than range_max={attrs['range_max']}.")
                picked, seen, tries = [], set(), 0
                while len(picked) < n:
                    batch = draw(rng, 2 * (n - len(picked)), attrs)
                    for c in batch:
                        tries += 1
                        if int(c) not in seen:
                            seen.add(int(c))
                            picked.append(int(c))
                            if len(picked) == n:
                                break
                sampled = np.array(picked, np.int64)
            else:
                sampled, tries = draw(rng, n, attrs).astype(np.int64), n
            true_p = prob(true_classes, attrs)
            sampled_p = prob(sampled, attrs)
            return (sampled,
                    _expected(true_p, n, tries, unique).astype(np.float32),
                    _expected(sampled_p, n, tries, unique).astype(np.float32))

        return kernel

    return make


def _draw_log_uniform(rng, n, attrs):
    range_max = int(attrs["range_max"])
    # TF's LogUniformSampler: floor(exp(u · log(range_max + 1))) - 1
    k = np.floor(np.exp(rng.random(n) * math.log(range_max + 1.0))).astype(np.int64) - 1
    return k % range_max  # as TF: a roundoff to range_max wraps to 0


def _draw_uniform(rng, n, attrs):
    return rng.integers(0, int(attrs["range_max"]), n)


def _uniform_probs(k, attrs):
    return np.full(np.shape(k), 1.0 / int(attrs["range_max"]))


def _unigram_probs(k, attrs):
    weights = _unigram_weights(attrs)
    return weights[np.asarray(k)]


def _unigram_weights(attrs):
    counts = np.asarray(attrs["unigrams"], np.float64) ** float(attrs["distortion"])
    counts = np.concatenate([np.zeros(int(attrs["num_reserved_ids"])), counts])
    return counts / counts.sum()


def _draw_unigram(rng, n, attrs):
    weights = _unigram_weights(attrs)
    return rng.choice(len(weights), size=n, p=weights)


_SAMPLER_ATTRS = ("num_true", "num_sampled", "unique", "range_max", "seed", "seed2")
stateful("LogUniformCandidateSampler", _SAMPLER_ATTRS)(
    _sampler(_draw_log_uniform, lambda k, a: _log_uniform_probs(k, int(a["range_max"]))))
stateful("UniformCandidateSampler", _SAMPLER_ATTRS)(_sampler(_draw_uniform, _uniform_probs))
stateful("FixedUnigramCandidateSampler", (
    "num_true", "num_sampled", "unique", "range_max", "vocab_file", "distortion",
    "num_reserved_ids", "num_shards", "shard", "unigrams", "seed", "seed2"))(
    _sampler(_draw_unigram, _unigram_probs))
