"""The stateful rows of the op table (``flow.kernels.table.STATEFUL``): graph-structural ops,
variables and their updates, random streams — the ops the Session gives its own state.

Each row's ``make(op, session)`` returns ``kernel(inputs: list) -> output | tuple | None``.
Session variable values live in ``session._variable_values`` keyed by the variable's op name.
"""

from __future__ import annotations

import numpy as np

from flow.core import errors
from flow.kernels.table import OPS, stateful


def _passthrough(op, sess):
    return lambda ins: ins[0]


stateful("PlaceholderWithDefault", ("dtype", "shape"))(_passthrough)

stateful("NoOp")(lambda op, sess: lambda ins: None)


@stateful("Const", ("value", "dtype"))
def _const(op, sess):
    value = op.attrs["value"]
    return lambda ins: value


@stateful("Placeholder", ("dtype", "shape"))
def _placeholder(op, sess):
    dtype, shape = op.attrs["dtype"], op.attrs["shape"]
    msg = f"You must feed a value for placeholder tensor '{op.name}' with dtype {dtype.kernel_name}"
    if shape.ndims:
        msg += f" and shape {shape.kernel_str()}"
    raise errors.InvalidArgumentError(None, op, f"{msg}\n\t [[{{{{node {op.name}}}}}]]")


def uninitialized_error(op, name):
    msg = f"Attempting to use uninitialized value {name}\n\t [[{{{{node {op.name}}}}}]]"
    init = op.graph._ops_by_name.get("init")
    var = op.graph._ops_by_name.get(name)
    if init is not None and var is not None and init.type == "NoOp" and var._id > init._id:
        msg += (f"\nHint: {name!r} was created after the initializer op 'init' was built, so "
                f"running it does not initialize {name!r}; build "
                f"tf.global_variables_initializer() after the model and the optimizer.")
    return errors.FailedPreconditionError(None, op, msg)


@stateful("VariableV2", ("shape", "dtype", "container", "shared_name"))
def _variable(op, sess):
    store, key = sess._variable_values, op.name

    def read(ins):
        try:
            return store[key]
        except KeyError:
            raise uninitialized_error(op, key) from None

    return read


@stateful("Assign", ("T", "validate_shape", "use_locking"), ref_inputs=(0,))
def _assign(op, sess):
    store, name = sess._variable_values, op.inputs[0].op.name
    np_type = op.inputs[0].dtype.as_numpy_dtype
    static = op.inputs[0].shape
    validate = op.attrs.get("validate_shape", True)

    def assign(ins):
        value = np.array(ins[1], dtype=np_type)  # a copy: the variable owns its buffer
        if validate and not static.is_compatible_with(value.shape):
            raise errors.InvalidArgumentError(
                None, op, f"Assign requires shapes of both tensors to match. lhs shape= "
                f"{static.kernel_str()} rhs shape= {list(value.shape)}")
        store[name] = value
        return value

    return assign


def _update(fn):
    """An op that reads variable ``inputs[0]``, computes a new value from it, and stores it."""

    def make(op, sess):
        store, name = sess._variable_values, op.inputs[0].op.name
        attrs = op.attrs

        def kernel(ins):
            try:
                current = store[name]
            except KeyError:
                raise uninitialized_error(op, name) from None
            new = fn(current, ins, attrs, store, op)
            store[name] = new
            return new

        return kernel

    return make


stateful("AssignAdd", ("T", "use_locking"), (0,))(_update(lambda v, i, a, s, op: v + i[1]))
stateful("AssignSub", ("T", "use_locking"), (0,))(_update(lambda v, i, a, s, op: v - i[1]))


def _slot(store, op, index):
    name = op.inputs[index].op.name
    try:
        return store[name], name
    except KeyError:
        raise uninitialized_error(op, name) from None


# training_ops.cc formulas (reference/tf1-semantics.md §5.3); new arrays, never in place (a
# variable's array may still be held by a fetch or a view), but temporaries are reused.


def _sgd(var, ins, attrs, store, op):
    new = np.multiply(ins[2], ins[1], out=np.empty_like(var))  # lr·grad, then var - it in place
    return np.subtract(var, new, out=new)


stateful("ApplyGradientDescent", ("T", "use_locking"), (0,))(_update(_sgd))


def _momentum(var, ins, attrs, store, op):
    accum, accum_name = _slot(store, op, 1)
    lr, grad, momentum = ins[2], ins[3], ins[4]
    accum = accum * momentum + grad
    store[accum_name] = accum
    if attrs.get("use_nesterov"):
        return (var - grad * lr - accum * (momentum * lr)).astype(var.dtype, copy=False)
    return (var - accum * lr).astype(var.dtype, copy=False)


stateful("ApplyMomentum", ("T", "use_locking", "use_nesterov"), (0, 1))(_update(_momentum))


_BLOCK = 1 << 14  # elements per block of a fused update: its temporaries stay in L1/L2


def _adam(var, ins, attrs, store, op):
    m, m_name = _slot(store, op, 1)
    v, v_name = _slot(store, op, 2)
    beta1_power, beta2_power, lr, beta1, beta2, eps, grad = ins[3:10]
    lr_t = lr * np.sqrt(1 - beta2_power) / (1 - beta1_power)
    if not attrs.get("use_nesterov") and _same_dtype(var, m, v, grad, *ins[3:9]) and \
            var.shape == m.shape == v.shape == grad.shape:
        m, v, new = _adam_blocks(var, m, v, grad, lr_t, 1 - beta1, 1 - beta2, eps)
        store[m_name], store[v_name] = m, v
        return new
    m = m + (grad - m) * (1 - beta1)
    v = v + (grad * grad - v) * (1 - beta2)
    store[m_name], store[v_name] = m, v
    if attrs.get("use_nesterov"):
        return (var - lr_t * (m * beta1 + (1 - beta1) * grad) / (np.sqrt(v) + eps)).astype(
            var.dtype, copy=False)
    return (var - lr_t * m / (np.sqrt(v) + eps)).astype(var.dtype, copy=False)


def _same_dtype(first, *rest):
    return all(np.asarray(x).dtype == first.dtype for x in rest)


def _adam_blocks(var, m, v, grad, lr_t, c1, c2, eps):
    """Adam's update, the same arithmetic in the same order as the array expressions, run
    over blocks of ``_BLOCK`` elements into three new arrays: one pass over memory instead of
    a dozen, which is most of a step's update time for a large dense layer."""
    new_m, new_v, new_var = np.empty_like(m), np.empty_like(v), np.empty_like(var)
    flat = [np.ravel(a) for a in (var, m, v, grad, new_m, new_v, new_var)]
    n = var.size
    scratch = np.empty(min(n, _BLOCK), var.dtype)
    for start in range(0, n, _BLOCK):
        b = slice(start, start + _BLOCK)
        x, mb, vb, g, om, ov, ox = (a[b] for a in flat)
        d = scratch[:len(x)]
        np.subtract(g, mb, out=om)  # m + (g - m)·(1 - β1)
        om *= c1
        om += mb
        np.multiply(g, g, out=ov)  # v + (g² - v)·(1 - β2)
        ov -= vb
        ov *= c2
        ov += vb
        np.sqrt(ov, out=d)  # var - lr_t·m / (√v + ε)
        d += eps
        np.multiply(om, lr_t, out=ox)
        ox /= d
        np.subtract(x, ox, out=ox)
    return new_m, new_v, new_var


stateful("ApplyAdam", ("T", "use_locking", "use_nesterov"), (0, 1, 2))(_update(_adam))


def _slots(store, op, *indices):
    return [_slot(store, op, i) for i in indices]


def _rmsprop(var, ins, attrs, store, op):
    (ms, ms_name), (mom, mom_name) = _slots(store, op, 1, 2)
    lr, rho, momentum, eps, grad = ins[3:8]
    ms = ms + (grad * grad - ms) * (1 - rho)
    mom = mom * momentum + lr * grad / np.sqrt(ms + eps)
    store[ms_name], store[mom_name] = ms, mom
    return (var - mom).astype(var.dtype, copy=False)


def _centered_rmsprop(var, ins, attrs, store, op):
    (mg, mg_name), (ms, ms_name), (mom, mom_name) = _slots(store, op, 1, 2, 3)
    lr, rho, momentum, eps, grad = ins[4:9]
    ms = ms + (grad * grad - ms) * (1 - rho)
    mg = mg + (grad - mg) * (1 - rho)
    mom = mom * momentum + lr * grad / np.sqrt(ms - mg * mg + eps)
    store[mg_name], store[ms_name], store[mom_name] = mg, ms, mom
    return (var - mom).astype(var.dtype, copy=False)


def _adagrad(var, ins, attrs, store, op):
    accum, accum_name = _slot(store, op, 1)
    lr, grad = ins[2], ins[3]
    accum = accum + grad * grad
    store[accum_name] = accum
    return (var - lr * grad / np.sqrt(accum)).astype(var.dtype, copy=False)


def _adadelta(var, ins, attrs, store, op):
    (accum, accum_name), (acc_up, acc_up_name) = _slots(store, op, 1, 2)
    lr, rho, eps, grad = ins[3:7]
    accum = accum * rho + grad * grad * (1 - rho)
    update = np.sqrt(acc_up + eps) / np.sqrt(accum + eps) * grad
    store[accum_name], store[acc_up_name] = accum, acc_up * rho + update * update * (1 - rho)
    return (var - update * lr).astype(var.dtype, copy=False)


def _ftrl(var, ins, attrs, store, op):
    """TF's FtrlCompute; ``ApplyFtrlV2`` adds ``l2_shrinkage`` to the linear term's gradient."""
    (accum, accum_name), (linear, linear_name) = _slots(store, op, 1, 2)
    grad, lr, l1, l2 = ins[3:7]
    shrinkage, lr_power = (ins[7], ins[8]) if op.type == "ApplyFtrlV2" else (0.0, ins[7])
    new_accum = accum + grad * grad
    shrunk = grad + 2 * shrinkage * var
    linear = linear + shrunk - (new_accum ** -lr_power - accum ** -lr_power) / lr * var
    x = np.clip(linear, -l1, l1) - linear
    y = new_accum ** -lr_power / lr + 2 * l2
    store[accum_name], store[linear_name] = new_accum, linear
    return (x / y).astype(var.dtype, copy=False)


def _proximal_sgd(var, ins, attrs, store, op):
    alpha, l1, l2, delta = ins[1:5]
    prox = var - alpha * delta
    if l1 > 0:
        prox = np.sign(prox) * np.maximum(np.abs(prox) - alpha * l1, 0)
    return (prox / (1 + alpha * l2)).astype(var.dtype, copy=False)


_LOCKING = ("T", "use_locking")
stateful("ApplyRMSProp", _LOCKING, (0, 1, 2))(_update(_rmsprop))
stateful("ApplyCenteredRMSProp", _LOCKING, (0, 1, 2, 3))(_update(_centered_rmsprop))
stateful("ApplyAdagrad", (*_LOCKING, "update_slots"), (0, 1))(_update(_adagrad))
stateful("ApplyAdadelta", _LOCKING, (0, 1, 2))(_update(_adadelta))
stateful("ApplyFtrl", _LOCKING, (0, 1, 2))(_update(_ftrl))
stateful("ApplyFtrlV2", _LOCKING, (0, 1, 2))(_update(_ftrl))
stateful("ApplyProximalGradientDescent", _LOCKING, (0,))(_update(_proximal_sgd))


# ---------------------------------------------------------------- random ops


def _generator(op, sess):
    """The op's random stream in this session: fixed by (seed, seed2), fresh when both are 0."""
    rngs = sess._random_streams
    if op.name not in rngs:
        seed, seed2 = op.attrs.get("seed", 0), op.attrs.get("seed2", 0)
        rngs[op.name] = np.random.default_rng([seed, seed2] if seed or seed2 else None)
    return rngs[op.name]


def _random(sample):
    def make(op, sess):
        rng = _generator(op, sess)
        np_type = op.outputs[0].dtype.as_numpy_dtype

        def kernel(ins):
            return sample(rng, tuple(int(d) for d in np.asarray(ins[0]).reshape(-1))).astype(
                np_type)

        return kernel

    return make


def _truncated(rng, shape):
    out = rng.standard_normal(shape)
    bad = np.abs(out) > 2.0
    while bad.any():  # resample beyond two standard deviations, as TF's TruncatedNormal
        out[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2.0
    return out


_RANDOM_ATTRS = ("dtype", "seed", "seed2", "T")
stateful("RandomUniform", _RANDOM_ATTRS)(_random(lambda rng, shape: rng.random(shape)))
stateful("RandomStandardNormal", _RANDOM_ATTRS)(_random(lambda rng, shape: rng.standard_normal(shape)))
stateful("TruncatedNormal", _RANDOM_ATTRS)(_random(_truncated))


# ---------------------------------------------------------------- gradients (flow.ops.gradients)


@stateful("SymbolicGradient")  # exported in TF's form (f, Tin, Tout) by flow.framework.graph_def
def _symbolic_gradient(op, sess):
    """Inputs: the forward op's inputs, its outputs, then the non-None upstream grads."""
    grad_fn = OPS[op.attrs["fwd_type"]].grad
    n_in, n_out = op.attrs["_n_in"], op.attrs["_n_out"]
    grad_mask = op.attrs["_grad_mask"]  # which forward outputs have an upstream grad
    wanted = op.attrs["_wanted"]  # forward input index per output of this op
    # a row's grad may skip the inputs nobody asked for (e.g. conv2d's image input)
    fwd_attrs = {**op.attrs["_fwd_attrs"], "_grad_inputs": frozenset(wanted)}

    def kernel(ins):
        inputs, outputs, it = ins[:n_in], ins[n_in:n_in + n_out], iter(ins[n_in + n_out:])
        grads = [next(it) if m else None for m in grad_mask]
        result = grad_fn(inputs, outputs, grads, fwd_attrs)
        out = []
        for i in wanted:
            g = result[i]
            x = inputs[i]
            if g is None:
                g = np.zeros_like(x)
            elif getattr(g, "dtype", None) != x.dtype:
                g = np.asarray(g, dtype=x.dtype)
            out.append(g)
        return out[0] if len(out) == 1 else tuple(out)

    return kernel


# ---------------------------------------------------------------- dataset iterators (tf.data)


@stateful("MakeIterator")
def _make_iterator(op, sess):
    """(Re)start the iterator ``_key`` on ``_dataset`` with this run's source values."""
    key, dataset, sources = op.attrs["_key"], op.attrs["_dataset"], op.inputs

    def kernel(ins):
        values = dict(zip(sources, ins, strict=True))
        sess._resources[key] = dataset.elements(values, {})

    return kernel


@stateful("IteratorGetNext", ("output_types", "output_shapes"))
def _iterator_get_next(op, sess):
    """The next element; a one-shot iterator (``_dataset`` set) starts itself on first use."""
    key, one_shot, sources = op.attrs["_key"], op.attrs["_dataset"], op.inputs

    def kernel(ins):
        elements = sess._resources.get(key)
        if elements is None:
            if one_shot is None:
                raise errors.FailedPreconditionError(
                    None, op, "GetNext() failed because the iterator has not been "
                    "initialized. Ensure that you have run the initializer operation for this "
                    f"iterator before getting the next element.\n\t [[{{{{node {op.name}}}}}]]")
            elements = sess._resources[key] = one_shot.elements(
                dict(zip(sources, ins, strict=True)), {})
        try:
            element = next(elements)
        except StopIteration:
            raise errors.OutOfRangeError(
                None, op, f"End of sequence\n\t [[{{{{node {op.name}}}}}]]") from None
        return element[0] if len(element) == 1 else tuple(element)

    return kernel
