"""``tf.data.Dataset``: a pipeline described at graph-build time, run by its iterator.

A dataset is a tree of Python nodes over *source* tensors (``from_tensor_slices`` of arrays or
placeholders). Its element structure, dtypes and static shapes are known when it is built; the
values flow when an iterator's initializer runs in a Session: the source tensors are evaluated
then, and ``elements(values, state)`` yields each element as a flat list of numpy arrays
(``values``: source tensor → array; ``state``: what the nodes keep for one initialization —
the shuffle's generator, the map's Session).
``map`` traces its function once into a graph of its own (as TF traces a function) and runs
it per element in a private Session.
"""

from __future__ import annotations

import itertools

import numpy as np

from flow.client.session import Session
from flow.core import dtypes, structure
from flow.core.tensor_shape import TensorShape, as_shape
from flow.framework.build import convert_to_tensor, placeholder
from flow.framework.graph import Graph, Tensor, get_default_graph
from flow.ops.init_ops import get_seed


class Dataset:
    """Base of every node: ``_template`` (nesting), ``_dtypes``, ``_shapes`` (flat lists)."""

    _template = None
    _dtypes: list = []
    _shapes: list = []
    _sources: list = []  # the source tensors this pipeline reads

    # -- what an element looks like --------------------------------------------------
    output_types = property(lambda self: structure.pack(self._template, self._dtypes))
    output_shapes = property(lambda self: structure.pack(self._template, self._shapes))
    output_classes = property(lambda self: structure.pack(self._template,
                                                          [Tensor] * len(self._dtypes)))

    def elements(self, values: dict, rng):
        raise NotImplementedError  # every node defines it

    # -- constructors ----------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors):
        return _Slices(tensors, sliced=True)

    @staticmethod
    def from_tensors(tensors):
        return _Slices(tensors, sliced=False)

    @staticmethod
    def range(*args, output_type=dtypes.int64):
        return _Range(*args, output_type=output_type)

    @staticmethod
    def zip(datasets):
        return _Zip(datasets)

    # -- transformations ---------------------------------------------------------------
    def batch(self, batch_size, drop_remainder=False):
        return _Batch(self, int(batch_size), bool(drop_remainder))

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=None):
        return _Shuffle(self, int(buffer_size), seed)

    def repeat(self, count=None):
        return _Repeat(self, -1 if count is None else int(count))

    def map(self, map_func, num_parallel_calls=None):
        return _Map(self, map_func)

    def take(self, count):
        return _Slice(self, 0, None if int(count) < 0 else int(count))

    def skip(self, count):
        count = int(count)
        return _Slice(self, count, None) if count >= 0 else _Slice(self, 0, 0)  # -1: all

    def prefetch(self, buffer_size):
        return self  # elements are made on demand in the caller's thread

    def cache(self, filename=""):
        return self

    def make_one_shot_iterator(self):
        return Iterator(self, one_shot=True)

    def make_initializable_iterator(self, shared_name=None):
        return Iterator(self, one_shot=False)


class _Slices(Dataset):
    def __init__(self, tensors, sliced):
        self._template = tensors
        flat = [convert_to_tensor(t) for t in structure.flatten(tensors)]
        if sliced:
            firsts = {t.shape.as_list()[0] for t in flat if t.shape.ndims}
            if any(t.shape.ndims == 0 for t in flat):
                raise ValueError("Unbatching a tensor is only supported for rank >= 1: "
                                 "from_tensor_slices needs arrays with a first dimension.")
            if len(firsts - {None}) > 1:
                raise ValueError(f"Dimensions {sorted(firsts - {None})} in the components of "
                                 f"from_tensor_slices differ: every component needs the same "
                                 f"first dimension.")
        self._sources, self._sliced = flat, sliced
        self._dtypes = [t.dtype for t in flat]
        self._shapes = [TensorShape(t.shape.as_list()[1:] if sliced else t.shape.dims)
                        if t.shape.ndims is not None else TensorShape(None) for t in flat]

    def elements(self, values, state):
        arrays = [values[t] for t in self._sources]
        if not self._sliced:
            yield list(arrays)
            return
        n = len(arrays[0]) if arrays else 0
        if any(len(a) != n for a in arrays):
            raise ValueError(f"from_tensor_slices: components have different first "
                             f"dimensions {[len(a) for a in arrays]}")
        for i in range(n):
            yield [a[i] for a in arrays]


class _Range(Dataset):
    def __init__(self, *args, output_type=dtypes.int64):
        self._range = range(*[int(a) for a in args])
        self._dtypes, self._shapes = [dtypes.as_dtype(output_type)], [TensorShape([])]
        self._np = self._dtypes[0].as_numpy_dtype

    def elements(self, values, state):
        for i in self._range:
            yield [np.asarray(i, self._np)]


class _Unary(Dataset):
    """A transformation of one input dataset with the same element structure."""

    def __init__(self, inner):
        self._inner = inner
        self._template, self._dtypes, self._shapes = inner._template, inner._dtypes, \
            inner._shapes
        self._sources = inner._sources


class _Batch(_Unary):
    def __init__(self, inner, size, drop_remainder):
        super().__init__(inner)
        if size <= 0:
            raise ValueError(f"batch_size must be greater than zero, got {size}")
        self._size, self._drop = size, drop_remainder
        self._shapes = [TensorShape([size if drop_remainder else None]).concatenate(s)
                        for s in inner._shapes]

    def elements(self, values, state):
        batch = []
        for element in self._inner.elements(values, state):
            batch.append(element)
            if len(batch) == self._size:
                yield [np.stack(parts) for parts in zip(*batch, strict=True)]
                batch = []
        if batch and not self._drop:
            yield [np.stack(parts) for parts in zip(*batch, strict=True)]


class _Shuffle(_Unary):
    """TF's buffer shuffle: keep ``buffer_size`` elements, emit a random one, refill."""

    def __init__(self, inner, buffer_size, seed):
        super().__init__(inner)
        if buffer_size <= 0:
            raise ValueError(f"buffer_size must be greater than zero, got {buffer_size}")
        self._buffer_size = buffer_size
        seed1, seed2 = get_seed(seed)
        self._seed = None if seed1 is None else [seed1, seed2]

    def elements(self, values, state):
        rng = state.setdefault(id(self), np.random.default_rng(self._seed))
        buffer = []
        for element in self._inner.elements(values, state):
            buffer.append(element)
            if len(buffer) == self._buffer_size:
                yield buffer.pop(int(rng.integers(len(buffer))))
        while buffer:
            yield buffer.pop(int(rng.integers(len(buffer))))


class _Repeat(_Unary):
    def __init__(self, inner, count):
        super().__init__(inner)
        self._count = count

    def elements(self, values, state):
        done = 0
        while self._count < 0 or done < self._count:
            empty = True
            for element in self._inner.elements(values, state):
                empty = False
                yield element
            done += 1
            if empty:
                return


class _Slice(_Unary):
    """``take(n)`` (elements ``[0, n)``; all for ``n < 0``) and ``skip(n)`` (from ``n`` on)."""

    def __init__(self, inner, start, stop):
        super().__init__(inner)
        self._start, self._stop = start, stop

    def elements(self, values, state):
        return itertools.islice(self._inner.elements(values, state), self._start, self._stop)


class _Zip(Dataset):
    def __init__(self, datasets):
        self._parts = structure.flatten(datasets)
        self._template = structure.pack(datasets, [d._template for d in self._parts])
        self._dtypes = [dt for d in self._parts for dt in d._dtypes]
        self._shapes = [s for d in self._parts for s in d._shapes]
        self._sources = [t for d in self._parts for t in d._sources]

    def elements(self, values, state):
        for parts in zip(*[d.elements(values, state) for d in self._parts], strict=False):
            yield [x for part in parts for x in part]


class _Map(_Unary):
    """``map_func`` traced once on placeholders in a graph of its own, run per element."""

    def __init__(self, inner, map_func):
        super().__init__(inner)
        self._graph = Graph()
        with self._graph.as_default():
            self._inputs = [placeholder(dt, s) for dt, s in
                            zip(inner._dtypes, inner._shapes, strict=True)]
            args = structure.pack(inner._template, self._inputs)
            if isinstance(args, tuple) and not hasattr(args, "_fields"):
                result = map_func(*args)
            else:
                result = map_func(args)
            outputs = [convert_to_tensor(t) for t in structure.flatten(result)]
        self._outputs = outputs
        self._template = result
        self._dtypes = [t.dtype for t in outputs]
        self._shapes = [t.shape for t in outputs]

    def elements(self, values, state):
        sess = state.setdefault(id(self), Session(graph=self._graph))
        for element in self._inner.elements(values, state):
            feed = dict(zip(self._inputs, element, strict=True))
            yield [np.asarray(v) for v in sess.run(self._outputs, feed)]


# ---------------------------------------------------------------- iterators


class Iterator:
    """Pulls elements of a dataset into the graph: ``get_next()`` is an ``IteratorGetNext``
    op (a row of ``flow.kernels.state``) that raises ``OutOfRangeError`` at the end. A one-shot
    iterator starts on its first ``get_next``; an initializable one when ``initializer`` runs
    (feeding its placeholders); ``from_structure`` + ``make_initializer(ds)`` switch datasets."""

    def __init__(self, dataset=None, one_shot=False, types=None, shapes=None, template=None):
        graph = get_default_graph()
        self._key = graph.unique_name("Iterator")
        if dataset is not None:
            types, shapes, template = dataset._dtypes, dataset._shapes, dataset._template
        self._dtypes, self._shapes, self._template = list(types), list(shapes), template
        self._one_shot = dataset if one_shot else None
        self._initializer = None if one_shot or dataset is None else \
            self.make_initializer(dataset)

    output_types = property(lambda self: structure.pack(self._template, self._dtypes))
    output_shapes = property(lambda self: structure.pack(self._template, self._shapes))

    @staticmethod
    def from_structure(output_types, output_shapes=None, shared_name=None, output_classes=None):
        types = [dtypes.as_dtype(t) for t in structure.flatten(output_types)]
        shapes = [TensorShape(None)] * len(types) if output_shapes is None else [
            as_shape(s) for s in _flat_shapes(output_types, output_shapes)]
        return Iterator(types=types, shapes=shapes, template=output_types)

    @property
    def initializer(self):
        if self._initializer is None:
            raise ValueError("Iterator does not have an initializer: a one-shot iterator "
                             "starts by itself; use make_initializable_iterator() for one.")
        return self._initializer

    def make_initializer(self, dataset, name=None):
        """The op that (re)starts this iterator on ``dataset``."""
        if [d.name for d in dataset._dtypes] != [d.name for d in self._dtypes]:
            raise TypeError(f"Expected output types {self._dtypes} but got dataset with "
                            f"output types {dataset._dtypes}.")
        graph = get_default_graph()
        return graph.create_op("MakeIterator", list(dataset._sources),
                               {"_key": self._key, "_dataset": dataset}, name or "MakeIterator")

    def get_next(self, name=None):
        graph = get_default_graph()
        sources = list(self._one_shot._sources) if self._one_shot is not None else []
        op = graph.create_op("IteratorGetNext", sources,
                             {"output_types": self._dtypes, "output_shapes": self._shapes,
                              "_key": self._key, "_dataset": self._one_shot},
                             name or "IteratorGetNext", self._dtypes, self._shapes)
        return structure.pack(self._template, op.outputs)


def _flat_shapes(types, shapes):
    """``output_shapes`` may be one shape per component or (for a single component) a list."""
    flat_types = structure.flatten(types)
    if len(flat_types) == 1 and not isinstance(types, tuple | dict):
        return [shapes]
    return structure.flatten_up_to(types, shapes)


def make_one_shot_iterator(dataset):
    return dataset.make_one_shot_iterator()


def make_initializable_iterator(dataset, shared_name=None):
    return dataset.make_initializable_iterator(shared_name)
