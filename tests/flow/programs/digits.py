"""The data every program of the corpus trains on: scikit-learn's 8×8 digits (1797 images), in
place of the MNIST download the TF1 programs they stand for make. A fixed split: 1500 to train,
297 to test; pixels scaled to [0, 1]."""

import json

import numpy as np
from sklearn.datasets import load_digits

N_TRAIN = 1500


def load(images=False):
    """(x_train, y_train, x_test, y_test); ``images=True`` gives ``[n, 8, 8, 1]`` arrays."""
    data = load_digits()
    order = np.random.RandomState(0).permutation(len(data.target))
    x = (data.data[order] / 16.0).astype(np.float32)
    y = data.target[order].astype(np.int64)
    if images:
        x = x.reshape(-1, 8, 8, 1)
    return x[:N_TRAIN], y[:N_TRAIN], x[N_TRAIN:], y[N_TRAIN:]


def minibatches(steps, size, seed):
    """``steps`` arrays of ``size`` random training indices, drawn as the TF1 tutorials draw
    them (numpy's ``RandomState(seed).randint``)."""
    rng = np.random.RandomState(seed)
    for _ in range(steps):
        yield rng.randint(0, N_TRAIN, size)


def one_hot(y, depth=10):
    return np.eye(depth, dtype=np.float32)[y]


def report(**metrics):
    """The last line a program prints: its metrics, for the corpus test to compare."""
    print("RESULT " + json.dumps({k: float(v) for k, v in metrics.items()}))


def set_weights(tf, sess, seed, scale=0.2):
    """Give every trainable variable, in name order, values drawn with numpy's
    ``RandomState(seed)`` (uniform in ±scale): a start that is the same on every runtime, so
    the run is too."""
    rng = np.random.RandomState(seed)
    for v in sorted(tf.trainable_variables(), key=lambda v: v.op.name):
        shape = v.get_shape().as_list()
        v.load(rng.uniform(-scale, scale, shape).astype(np.float32), sess)
