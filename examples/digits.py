"""scikit-learn's bundled 8x8 digits (1,797 images, no download) as NHWC float batches."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Split(NamedTuple):
    images: np.ndarray  # [n, 8, 8, 1] float32 in [0, 1]
    labels: np.ndarray  # [n] int64
    onehot: np.ndarray  # [n, 10] float32


def _split(images: np.ndarray, labels: np.ndarray) -> Split:
    return Split(images, labels, np.eye(10, dtype=np.float32)[labels])


def load(validation_fraction: float = 0.2, seed: int = 0) -> tuple[Split, Split]:
    """(train, validation), shuffled with `seed`. Pixel values 0..16 are scaled to [0, 1]."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:  # scikit-learn is in the test extras, not the core install
        raise SystemExit(
            "these examples train on scikit-learn's digits data set: "
            "pip install scikit-learn (or `pip install -e '.[test]'`)") from err
    data = load_digits()
    images = (data.images / 16.0).astype(np.float32)[..., None]
    labels = data.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(labels))
    images, labels = images[order], labels[order]
    n_val = int(round(len(labels) * validation_fraction))
    return _split(images[n_val:], labels[n_val:]), _split(images[:n_val], labels[:n_val])


def batches(split: Split, batch_size: int, seed: int = 0):
    """An endless stream of (images, onehot) mini-batches, reshuffled every epoch."""
    rng = np.random.default_rng(seed)
    n = len(split.labels)
    while True:
        order = rng.permutation(n)
        for start in range(0, n - batch_size + 1, batch_size):
            idx = order[start:start + batch_size]
            yield split.images[idx], split.onehot[idx]
