"""``tf.nn`` wrappers (``conv2d``, ``max_pool``, the cross-entropies, ``dropout`` ...).

Each adds nodes whose kernels are rows of ``flow.kernels.nn``; arguments, defaults and
error texts follow TensorFlow 1.15's ``nn_ops`` / ``nn_impl``.

Dropout is built as TensorFlow builds it -- ``x / keep_prob * floor(keep_prob + U[0, 1))`` from
the runtime's ``RandomUniform`` op -- so the mask is an ordinary tensor of the run: the gradient
reuses it through ``Mul`` and no kernel here holds random state.  ``moments`` and
``batch_normalization`` are the same op sequences TF builds.
"""

from __future__ import annotations

import numpy as np

from flow.core import dtypes
from flow.framework.build import apply, convert_all, convert_to_tensor, static_value
from flow.framework.graph import name_scope
from flow.kernels.common import as_str
from flow.ops import array_ops, init_ops, math_ops
from flow.ops.init_ops import get_seed


def _named_only(fn_name, sentinel):
    if sentinel is not None:
        raise ValueError(f"Only call `{fn_name}` with named arguments "
                         "(labels=..., logits=..., ...)")


def _unary_op(op_type, x, name):
    return apply(op_type, [x], None, name)


def relu(features, name=None):
    return _unary_op("Relu", features, name)


def relu6(features, name=None):
    return _unary_op("Relu6", features, name)


def elu(features, name=None):
    return _unary_op("Elu", features, name)


def softplus(features, name=None):
    return _unary_op("Softplus", features, name)


def sigmoid(x, name=None):
    return _unary_op("Sigmoid", x, name)


def tanh(x, name=None):
    return _unary_op("Tanh", x, name)


def leaky_relu(features, alpha=0.2, name=None):
    return apply("LeakyRelu", [features], {"alpha": float(alpha)}, name)


def _last_axis(op_type, logits, axis, name):
    logits = _tensor(logits)
    ndims = logits.shape.ndims
    if axis is None or axis == -1 or (ndims is not None and axis == ndims - 1):
        return apply(op_type, [logits], None, name)
    if ndims is None:
        raise ValueError(f"{op_type} over axis {axis} needs a known rank; use axis=-1 or give the "
                         "input a static shape")
    perm = list(range(ndims))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    out = apply(op_type, [array_ops.transpose(logits, perm)], None)
    return array_ops.transpose(out, perm, name=name)


def softmax(logits, axis=None, name=None, dim=None):
    return _last_axis("Softmax", logits, axis if dim is None else dim, name)


def log_softmax(logits, axis=None, name=None, dim=None):
    return _last_axis("LogSoftmax", logits, axis if dim is None else dim, name)


def softmax_cross_entropy_with_logits_v2(labels, logits, axis=None, name=None, dim=None):
    """Loss per row: ``-Σ labels · log_softmax(logits)``; gradients reach labels too."""
    axis = -1 if axis is None and dim is None else (axis if dim is None else dim)
    logits, labels = convert_all([logits, labels])
    ndims = logits.shape.ndims
    if axis != -1 and not (ndims is not None and axis == ndims - 1):
        if ndims is None:
            raise ValueError("softmax_cross_entropy_with_logits over a non-last axis needs a "
                             "known rank; use axis=-1")
        perm = list(range(ndims))
        perm[axis], perm[-1] = perm[-1], perm[axis]
        logits, labels = array_ops.transpose(logits, perm), array_ops.transpose(labels, perm)
    _same_shape(logits, labels)
    return apply("SoftmaxCrossEntropyWithLogits", [logits, labels], None, name)[0]


def _same_shape(logits, labels):
    a, b = logits.shape, labels.shape
    if a.ndims is not None and b.ndims is not None and not a.is_compatible_with(b):
        raise ValueError(f"logits and labels must have the same shape ({a} vs {b}); for class "
                         "indices use sparse_softmax_cross_entropy_with_logits")


def softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, dim=-1,
                                      name=None, axis=None):
    """TF1's deprecated form: like ``_v2`` but no gradient flows into ``labels``."""
    _named_only("softmax_cross_entropy_with_logits", _sentinel)
    return softmax_cross_entropy_with_logits_v2(
        labels=array_ops.stop_gradient(labels), logits=logits, axis=axis, dim=dim, name=name)


def sparse_softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None,
                                             name=None):
    _named_only("sparse_softmax_cross_entropy_with_logits", _sentinel)
    labels, logits = _tensor(labels), _tensor(logits)
    if not labels.dtype.is_integer:
        raise TypeError(f"labels must be int32 or int64 class indices, got {labels.dtype.name}; "
                        "for one-hot rows use softmax_cross_entropy_with_logits or tf.argmax")
    ls, gs = labels.shape, logits.shape
    if ls.ndims is not None and gs.ndims is not None and ls.ndims != gs.ndims - 1:
        raise ValueError(f"Rank mismatch: Rank of labels (received {ls.ndims}) should equal rank "
                         f"of logits minus 1 (received {gs.ndims}).")
    return apply("SparseSoftmaxCrossEntropyWithLogits", [logits, labels],
                 {"Tlabels": labels.dtype}, name)[0]


def sigmoid_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, name=None):
    """``max(x, 0) - x·z + log(1 + exp(-|x|))`` with x = logits, z = labels, built from the
    same primitive ops as TF's (``logistic_loss`` scope), so TF can import the graph."""
    _named_only("sigmoid_cross_entropy_with_logits", _sentinel)
    logits, labels = math_ops.convert_all([logits, labels])
    _same_shape(logits, labels)
    with name_scope(name, "logistic_loss", [logits, labels]) as scope:
        zeros = array_ops.zeros_like(logits)
        cond = math_ops.greater_equal(logits, zeros)
        relu_logits = array_ops.where(cond, logits, zeros)
        neg_abs_logits = array_ops.where(cond, -logits, logits)
        return math_ops.add(relu_logits - logits * labels,
                            math_ops.log1p(math_ops.exp(neg_abs_logits)), name=scope)


def l2_loss(t, name=None):
    return apply("L2Loss", [t], None, name)


def bias_add(value, bias, data_format=None, name=None):
    value, bias = _tensor(value), _tensor(bias)
    if bias.shape.ndims is not None and bias.shape.ndims != 1:
        raise ValueError(f"Biases must be 1D: {bias.shape.as_list()}")
    if data_format != "NCHW" and bias.shape.ndims == 1 and value.shape.ndims:
        n_bias, last = bias.shape.as_list()[0], value.shape.as_list()[-1]
        if n_bias is not None and last is not None and n_bias != last:
            raise ValueError(f"Must provide as many biases as the last dimension of the input "
                             f"tensor: [{n_bias}] vs. {value.shape.as_list()}")
    return apply("BiasAdd", [value, bias], {"data_format": data_format or "NHWC"}, name)


def _tensor(value, dtype=None, name=None):
    return convert_to_tensor(value, dtype=dtype, name=name)


def _four(value, label, fill=1):
    """TF's ``strides``/``ksize``: an int, 1, 2 or 4 ints -> ``[1, h, w, 1]``."""
    v = [int(value)] if np.ndim(value) == 0 else [int(s) for s in value]
    if len(v) == 1:
        v = [fill, v[0], v[0], fill]
    elif len(v) == 2:
        v = [fill, v[0], v[1], fill]
    if len(v) != 4:
        raise ValueError(f"{label} should be of length 1, 2 or 4 but was {len(v)}: {value!r}")
    if v[0] != 1 or v[3] != 1:
        raise ValueError("Current implementation does not yet support strides in the batch and "
                         f"depth dimensions ({label}={v}); use [1, h, w, 1]")
    return v


def _nhwc(data_format, padding):
    if data_format not in (None, "NHWC"):
        raise ValueError(f"data_format={data_format!r} is not supported on CPU; use 'NHWC' "
                         "(transpose NCHW inputs with tf.transpose(x, [0, 2, 3, 1]))")
    padding = as_str(padding).upper()
    if padding not in ("SAME", "VALID"):
        raise ValueError(f"padding must be 'SAME' or 'VALID', got {padding!r}")
    return padding


def _dilations(dilations):
    if dilations is not None and any(int(d) != 1 for d in np.ravel(dilations)):
        raise NotImplementedError(f"dilations={dilations!r} is not supported; only 1")
    return [1, 1, 1, 1]


def conv2d(input, filter=None, strides=None, padding=None, use_cudnn_on_gpu=True,
           data_format="NHWC", dilations=None, name=None, filters=None):
    filter = filters if filter is None else filter
    if strides is None or padding is None:
        raise ValueError("conv2d needs strides (e.g. [1, 1, 1, 1]) and padding ('SAME'/'VALID')")
    attrs = {"strides": _four(strides, "strides"), "padding": _nhwc(data_format, padding),
             "data_format": "NHWC", "dilations": _dilations(dilations),
             "use_cudnn_on_gpu": bool(use_cudnn_on_gpu)}
    return apply("Conv2D", convert_all([input, filter]), attrs, name)


def conv2d_transpose(value, filter=None, output_shape=None, strides=None,
                     padding="SAME", data_format="NHWC", name=None, filters=None,
                     dilations=None):
    """The gradient of conv2d w.r.t. its input; ``filter`` is ``[h, w, out_ch, in_ch]``."""
    filter = filters if filter is None else filter
    if output_shape is None or strides is None:
        raise ValueError("conv2d_transpose needs output_shape ([N, H, W, out_ch]) and strides")
    value, filter = convert_all([value, filter])
    fshape, vshape = filter.shape, value.shape
    static = static_value(output_shape)
    if static is not None and fshape.ndims == 4 and fshape.as_list()[2] is not None:
        if int(static[-1]) != fshape.as_list()[2]:
            raise ValueError(f"output_shape does not match filter's output channels, "
                             f"{int(static[-1])} != {fshape.as_list()[2]}")
    if vshape.ndims == 4 and fshape.ndims == 4:
        a, b = vshape.as_list()[3], fshape.as_list()[3]
        if a is not None and b is not None and a != b:
            raise ValueError(f"input channels does not match filter's input channels, {a} != {b}")
    sizes = array_ops._int_input(output_shape)
    attrs = {"T": filter.dtype, "strides": _four(strides, "strides"),
             "padding": _nhwc(data_format, padding), "data_format": "NHWC",
             "dilations": _dilations(dilations), "use_cudnn_on_gpu": True}
    return apply("Conv2DBackpropInput", [sizes, filter, value], attrs, name or "conv2d_transpose")


def _pool(op_type, value, ksize, strides, padding, data_format, name):
    attrs = {"ksize": _four(ksize, "ksize"), "strides": _four(strides, "strides"),
             "padding": _nhwc(data_format, padding), "data_format": "NHWC"}
    return apply(op_type, [value], attrs, name)


def max_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None):
    return _pool("MaxPool", value if input is None else input, ksize, strides, padding,
                 data_format, name)


def avg_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None):
    return _pool("AvgPool", value if input is None else input, ksize, strides, padding,
                 data_format, name)


def dropout(x, keep_prob=None, noise_shape=None, seed=None, name=None, rate=None):
    """``x / keep_prob * floor(keep_prob + uniform)`` -- TF 1.15's graph, built from ops."""
    if rate is not None:
        if keep_prob is not None:
            raise ValueError("Cannot specify both 'rate' and 'keep_prob'; use 'rate'.")
        keep_prob = 1 - rate if static_value(rate) is not None else 1 - _tensor(rate)
    if keep_prob is None:
        raise ValueError("dropout needs keep_prob (the probability to keep each element)")
    static = static_value(keep_prob)
    if static is not None and not 0 < float(static) <= 1:
        raise ValueError(f"keep_prob must be a scalar tensor or a float in the range (0, 1], "
                         f"got {float(static)}")
    x = _tensor(x)
    if static is not None and float(static) == 1:
        return array_ops.identity(x, name=name)
    with name_scope(name, "dropout"):
        keep = _tensor(keep_prob, dtype=x.dtype, name="keep_prob")
        if noise_shape is None:
            noise_shape = x.shape.as_list() if x.shape.is_fully_defined() else array_ops.shape(x)
        uniform = _random_uniform(noise_shape, x.dtype, seed, x.shape)
        mask = math_ops.floor(math_ops.add(keep, uniform))
        return math_ops.multiply(math_ops.truediv(x, keep), mask)


def _random_uniform(shape, dtype, seed, static_shape):
    """U[0, 1) of ``shape``; a shape only known at run time feeds the core's RandomUniform."""
    if static_value(shape) is not None:
        return init_ops.random_uniform(list(static_value(shape)), dtype=dtype, seed=seed,
                                   name="random_uniform")
    shape = convert_to_tensor(shape, dtype=dtypes.int32)
    seed1, seed2 = get_seed(seed)
    attrs = {"dtype": dtype, "seed": seed1 or 0, "seed2": seed2 or 0, "T": dtypes.int32}
    with name_scope("random_uniform"):
        op = shape.graph.create_op("RandomUniform", [shape], attrs, "RandomUniform", [dtype],
                                   [static_shape.as_list() if static_shape.ndims is not None
                                    else None])
    return op.outputs[0]


def moments(x, axes, shift=None, name=None, keep_dims=None, keepdims=None):
    """Mean and (biased) variance over ``axes``, built as TF builds them."""
    keep = bool(keepdims if keepdims is not None else keep_dims)
    x = _tensor(x)
    mean = math_ops.reduce_mean(x, axes, keepdims=True, name="mean")
    variance = math_ops.reduce_mean(
        math_ops.squared_difference(x, array_ops.stop_gradient(mean)), axes, keepdims=True,
        name="variance")
    if not keep:
        mean = array_ops.squeeze(mean, axes)
        variance = array_ops.squeeze(variance, axes)
    return mean, variance


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    """``(x - mean) · rsqrt(variance + eps) · scale + offset`` (TF's op sequence)."""
    inv = math_ops.rsqrt(math_ops.add(variance, variance_epsilon))
    if scale is not None:
        inv = math_ops.multiply(inv, scale)
    shift = math_ops.negative(math_ops.multiply(mean, inv))
    if offset is not None:
        shift = math_ops.add(offset, shift)
    return math_ops.add(math_ops.multiply(x, inv), shift, name=name)


def fused_batch_norm(x, scale, offset, mean=None, variance=None, epsilon=0.001,
                     data_format="NHWC", is_training=True, name=None):
    """``FusedBatchNorm``: returns ``(y, batch_mean, batch_variance)``."""
    if data_format != "NHWC":
        raise ValueError(f"data_format={data_format!r} is not supported; use 'NHWC'")
    if not is_training and (mean is None or variance is None):
        raise ValueError("fused_batch_norm with is_training=False needs mean and variance")
    x = _tensor(x)
    empty = np.zeros([0], np.float32)
    attrs = {"epsilon": float(epsilon), "data_format": "NHWC", "is_training": bool(is_training)}
    outs = apply("FusedBatchNorm", [x, scale, offset, empty if mean is None else mean,
                                    empty if variance is None else variance], attrs, name)
    return outs[0], outs[1], outs[2]


def embedding_lookup(params, ids, partition_strategy="mod", name=None, validate_indices=True,
                     max_norm=None):
    """The rows ``ids`` of ``params`` (a ``Gather``: its gradient is an ``IndexedSlices``);
    ``max_norm`` clips each looked-up embedding to that L2 norm, as TF's ``_clip``."""
    if partition_strategy not in ("mod", "div"):
        raise ValueError(f"Unrecognized partition strategy: {partition_strategy!r}; use 'mod' "
                         f"or 'div'.")
    if isinstance(params, list | tuple):
        if len(params) != 1:
            raise NotImplementedError("embedding_lookup over several shards is not supported; "
                                      "pass one [vocab, dim] tensor or variable.")
        params = params[0]
    result = array_ops.gather(params, ids, name=name)
    if max_norm is None:
        return result
    ids_rank, rank = convert_to_tensor(ids).shape.ndims, result.shape.ndims
    if ids_rank is None or rank is None:
        raise ValueError("embedding_lookup with max_norm needs ids and params of known rank.")
    axes = list(range(ids_rank, rank))
    l2 = math_ops.sqrt(math_ops.reduce_sum(math_ops.square(result), axes, keepdims=True))
    clip = convert_to_tensor(max_norm, dtype=result.dtype)
    return result * clip / math_ops.maximum(l2, clip)


def xw_plus_b(x, weights, biases, name=None):
    return bias_add(math_ops.matmul(x, weights), biases, name=name)


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None):
    """``x · rsqrt(max(Σ x², epsilon))`` over ``axis`` (TF's op sequence)."""
    axis = dim if axis is None else axis
    square_sum = math_ops.reduce_sum(math_ops.square(x), axis, keepdims=True)
    inv = math_ops.rsqrt(math_ops.maximum(square_sum, epsilon))
    return math_ops.multiply(x, inv, name=name)


def top_k(input, k=1, sorted=True, name=None):  # noqa: A002 - TF's names
    """The ``k`` largest entries of the last axis and their int32 indices."""
    x = _tensor(input)
    return apply("TopKV2", [x, np.asarray(k, np.int32)], {"sorted": bool(sorted), "T": x.dtype},
                 name)


def in_top_k(predictions, targets, k, name=None):
    """Per row, whether the ``targets`` class is among the ``k`` largest ``predictions``."""
    targets = _tensor(targets)
    return apply("InTopKV2", [predictions, targets, np.asarray(k, targets.dtype.as_numpy_dtype)],
                 {"T": targets.dtype}, name)
