"""``tf.data``: ``Dataset`` pipelines and their iterators (TF 1.15's graph-mode API)."""

from flow.data.dataset import (
    Dataset,
    Iterator,
    make_initializable_iterator,
    make_one_shot_iterator,
)

__all__ = ["Dataset", "Iterator", "make_initializable_iterator", "make_one_shot_iterator"]
