"""``tf.losses``: TensorFlow 1.15's loss functions (``losses_impl.py``) and the LOSSES collection.

Every loss is ``compute_weighted_loss(per-example losses, weights, reduction)``: by default
(``SUM_BY_NONZERO_WEIGHTS``) the weighted sum divided by the number of non-zero weights, the
mean for ``weights=1.0``. The result is added to ``tf.GraphKeys.LOSSES`` (``get_losses``,
``get_total_loss``); regularizers passed to ``get_variable`` fill ``REGULARIZATION_LOSSES``.
"""

from __future__ import annotations

from flow.core import dtypes
from flow.framework.build import constant, convert_to_tensor
from flow.framework.graph import GraphKeys, add_to_collection, get_collection, name_scope
from flow.ops import array_ops, math_ops, nn_ops


class Reduction:
    """How ``compute_weighted_loss`` reduces the weighted per-example losses."""

    NONE = "none"
    SUM = "weighted_sum"
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"
    MEAN = "weighted_mean"
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"
    SUM_OVER_NONZERO_WEIGHTS = SUM_BY_NONZERO_WEIGHTS

    @classmethod
    def all(cls):
        return (cls.NONE, cls.SUM, cls.MEAN, cls.SUM_OVER_BATCH_SIZE,
                cls.SUM_OVER_NONZERO_WEIGHTS, cls.SUM_BY_NONZERO_WEIGHTS)

    @classmethod
    def validate(cls, key):
        if key not in cls.all():
            raise ValueError(f"Invalid Reduction Key {key}; use one of tf.losses.Reduction's "
                             f"values, e.g. tf.losses.Reduction.MEAN.")


def _num_present(losses, weights):
    """How many entries of ``losses`` have a non-zero (broadcast) weight."""
    with name_scope(None, "num_present"):
        present = math_ops.cast(math_ops.not_equal(weights * array_ops.ones_like(losses), 0.0),
                                dtypes.float32)
        return math_ops.reduce_sum(present)


def compute_weighted_loss(losses, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
                          reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    Reduction.validate(reduction)
    with name_scope(scope, "weighted_loss"):
        losses = convert_to_tensor(losses)
        input_dtype = losses.dtype
        losses = math_ops.cast(losses, dtypes.float32)
        weights = math_ops.cast(convert_to_tensor(weights), dtypes.float32)
        weighted = math_ops.multiply(losses, weights)
        if reduction == Reduction.NONE:
            loss = weighted
        else:
            loss = math_ops.reduce_sum(weighted)
            if reduction == Reduction.MEAN:
                loss = math_ops.div_no_nan(
                    loss, math_ops.reduce_sum(array_ops.ones_like(losses) * weights), name="value")
            elif reduction == Reduction.SUM_BY_NONZERO_WEIGHTS:
                loss = math_ops.div_no_nan(loss, _num_present(losses, weights), name="value")
            elif reduction == Reduction.SUM_OVER_BATCH_SIZE:
                count = math_ops.cast(array_ops.size(losses), dtypes.float32)
                loss = math_ops.div_no_nan(loss, count, name="value")
        loss = math_ops.cast(loss, input_dtype)
        if loss_collection:
            add_loss(loss, loss_collection)
        return loss


def _check(labels, predictions, what="predictions"):
    if labels is None:
        raise ValueError("labels must not be None.")
    if predictions is None:
        raise ValueError(f"{what} must not be None.")


def _elementwise_loss(scope_name, per_element, labels, predictions, weights, scope,
                      loss_collection, reduction):
    """A loss of ``per_element(labels, predictions)`` (both cast to float32), weighted."""
    _check(labels, predictions)
    with name_scope(scope, scope_name):
        losses = per_element(array_ops.to_float(labels), array_ops.to_float(predictions))
        return compute_weighted_loss(losses, weights, None, loss_collection, reduction)


def absolute_difference(labels, predictions, weights=1.0, scope=None,
                        loss_collection=GraphKeys.LOSSES,
                        reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    return _elementwise_loss(
        "absolute_difference", lambda y, p: math_ops.abs(math_ops.subtract(p, y)), labels,
        predictions, weights, scope, loss_collection, reduction)


def mean_squared_error(labels, predictions, weights=1.0, scope=None,
                       loss_collection=GraphKeys.LOSSES,
                       reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    return _elementwise_loss("mean_squared_error", lambda y, p: math_ops.squared_difference(p, y),
                             labels, predictions, weights, scope, loss_collection, reduction)


def huber_loss(labels, predictions, weights=1.0, delta=1.0, scope=None,
               loss_collection=GraphKeys.LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """``0.5 x²`` for ``|x| <= delta``, ``delta (|x| - 0.5 delta)`` beyond (x = error)."""

    def huber(y, p):
        abs_error = math_ops.abs(math_ops.subtract(p, y))
        quadratic = math_ops.minimum(abs_error, delta)
        linear = math_ops.subtract(abs_error, quadratic)
        return math_ops.add(math_ops.multiply(0.5, math_ops.multiply(quadratic, quadratic)),
                            math_ops.multiply(delta, linear))

    return _elementwise_loss("huber_loss", huber, labels, predictions, weights, scope,
                             loss_collection, reduction)


def log_loss(labels, predictions, weights=1.0, epsilon=1e-7, scope=None,
             loss_collection=GraphKeys.LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    def log(y, p):
        return -math_ops.multiply(y, math_ops.log(p + epsilon)) - math_ops.multiply(
            1 - y, math_ops.log(1 - p + epsilon))

    return _elementwise_loss("log_loss", log, labels, predictions, weights, scope,
                             loss_collection, reduction)


def _cross_entropy(scope_name, xent, labels, logits, weights, scope, loss_collection,
                   reduction):
    """``xent(labels as logits' dtype, logits)``, weighted."""
    _check(labels, logits, "logits")
    with name_scope(scope, scope_name):
        logits = convert_to_tensor(logits)
        losses = xent(math_ops.cast(labels, logits.dtype), logits)
        return compute_weighted_loss(losses, weights, None, loss_collection, reduction)


def sigmoid_cross_entropy(multi_class_labels, logits, weights=1.0, label_smoothing=0,
                          scope=None, loss_collection=GraphKeys.LOSSES,
                          reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    def xent(labels, logits):
        if label_smoothing > 0:
            labels = labels * (1 - label_smoothing) + 0.5 * label_smoothing
        return nn_ops.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits,
                                                        name="xentropy")

    return _cross_entropy("sigmoid_cross_entropy_loss", xent, multi_class_labels, logits,
                          weights, scope, loss_collection, reduction)


def softmax_cross_entropy(onehot_labels, logits, weights=1.0, label_smoothing=0, scope=None,
                          loss_collection=GraphKeys.LOSSES,
                          reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    def xent(labels, logits):
        if label_smoothing > 0:
            num_classes = math_ops.cast(array_ops.shape(labels)[-1], logits.dtype)
            labels = labels * (1 - label_smoothing) + label_smoothing / num_classes
        return nn_ops.softmax_cross_entropy_with_logits_v2(
            labels=array_ops.stop_gradient(labels, name="labels_stop_gradient"), logits=logits,
            name="xentropy")

    return _cross_entropy("softmax_cross_entropy_loss", xent, onehot_labels, logits, weights,
                          scope, loss_collection, reduction)


def sparse_softmax_cross_entropy(labels, logits, weights=1.0, scope=None,
                                 loss_collection=GraphKeys.LOSSES,
                                 reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    _check(labels, logits, "logits")
    with name_scope(scope, "sparse_softmax_cross_entropy_loss"):
        losses = nn_ops.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits,
                                                                 name="xentropy")
        return compute_weighted_loss(losses, weights, None, loss_collection, reduction)


# ---------------------------------------------------------------- the collections


def add_loss(loss, loss_collection=GraphKeys.LOSSES):
    if loss_collection:
        add_to_collection(loss_collection, loss)


def get_losses(scope=None, loss_collection=GraphKeys.LOSSES):
    return get_collection(loss_collection, scope)


def get_regularization_losses(scope=None):
    return get_collection(GraphKeys.REGULARIZATION_LOSSES, scope)


def get_regularization_loss(scope=None, name="total_regularization_loss"):
    """The sum of the regularization losses, or a constant 0.0 when there are none."""
    losses = get_regularization_losses(scope)
    if losses:
        return math_ops.add_n(losses, name=name)
    return constant(0.0)


def get_total_loss(add_regularization_losses=True, name="total_loss", scope=None):
    losses = get_losses(scope=scope)
    if add_regularization_losses:
        losses += get_regularization_losses(scope=scope)
    if not losses:
        raise ValueError("No losses found in the tf.GraphKeys.LOSSES collection; build a loss "
                         "with tf.losses.* (or add one with tf.losses.add_loss) first.")
    return math_ops.add_n(losses, name=name)
