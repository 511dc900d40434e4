"""Static shapes: ``TensorShape`` and ``Dimension`` as in TensorFlow 1.x.

Known dimensions are ``Dimension`` objects, which *are* ints (so ``x.get_shape()[-1]`` can be
used directly in a shape list) and also carry TF1's ``.value``. An unknown dimension is ``None``
when indexed (``shape[0] is None``) and prints as ``?``. ``str()`` matches TF 1.15:
``(?, 10)``, ``(3,)``, ``()`` and ``<unknown>``.
"""

from __future__ import annotations


class Dimension(int):
    """A known dimension: an int with TF1's ``.value`` attribute."""

    @property
    def value(self) -> int:
        return int(self)

    def __repr__(self):
        return f"Dimension({int(self)})"


def _dim(d):
    if d is None:
        return None
    if hasattr(d, "value") and not isinstance(d, int):
        d = d.value
        if d is None:
            return None
    return Dimension(int(d))


class TensorShape:
    """A possibly partial shape. ``dims`` is None for unknown rank, else a tuple of ints/None."""

    __slots__ = ("_dims",)

    def __init__(self, dims=None):
        if isinstance(dims, TensorShape):
            dims = dims._dims
        if dims is None:
            self._dims = None
        elif isinstance(dims, int) or hasattr(dims, "value"):
            self._dims = (_dim(dims),)
        else:
            self._dims = tuple(_dim(d) for d in dims)

    @property
    def dims(self):
        return None if self._dims is None else list(self._dims)

    @property
    def ndims(self):
        return None if self._dims is None else len(self._dims)

    rank = ndims

    def as_list(self):
        if self._dims is None:
            raise ValueError("as_list() is not defined on an unknown TensorShape.")
        return [None if d is None else int(d) for d in self._dims]

    def as_tuple(self):
        """The shape as a tuple of ints/None (None for unknown rank): the op table's format."""
        if self._dims is None:
            return None
        return tuple(None if d is None else int(d) for d in self._dims)

    def is_fully_defined(self) -> bool:
        return self._dims is not None and all(d is not None for d in self._dims)

    def num_elements(self):
        if not self.is_fully_defined():
            return None
        n = 1
        for d in self._dims:
            n *= int(d)
        return n

    def is_compatible_with(self, other) -> bool:
        other = as_shape(other)
        if self._dims is None or other._dims is None:
            return True
        if len(self._dims) != len(other._dims):
            return False
        pairs = zip(self._dims, other._dims, strict=True)
        return all(a is None or b is None or a == b for a, b in pairs)

    def merge_with(self, other) -> TensorShape:
        other = as_shape(other)
        if self._dims is None:
            return other
        if other._dims is None:
            return self
        if not self.is_compatible_with(other):
            raise ValueError(f"Shapes {self} and {other} are not compatible")
        pairs = zip(self._dims, other._dims, strict=True)
        return TensorShape([a if a is not None else b for a, b in pairs])

    def assert_is_compatible_with(self, other):
        if not self.is_compatible_with(other):
            raise ValueError(f"Shapes {self} and {as_shape(other)} are incompatible")

    def with_rank(self, rank):
        if self._dims is not None and len(self._dims) != rank:
            raise ValueError(f"Shape {self} must have rank {rank}")
        return self if self._dims is not None else TensorShape([None] * rank)

    def concatenate(self, other):
        other = as_shape(other)
        if self._dims is None or other._dims is None:
            return TensorShape(None)
        return TensorShape(self._dims + other._dims)

    def __len__(self):
        if self._dims is None:
            raise ValueError("Cannot take the length of Shape with unknown rank.")
        return len(self._dims)

    def __iter__(self):
        if self._dims is None:
            raise ValueError("Cannot iterate over a shape with unknown rank.")
        return iter(self._dims)

    def __getitem__(self, key):
        if self._dims is None:
            return TensorShape(None) if isinstance(key, slice) else None
        if isinstance(key, slice):
            return TensorShape(self._dims[key])
        return self._dims[key]

    def __bool__(self):
        return self._dims is not None

    def __eq__(self, other):
        try:
            other = as_shape(other)
        except (TypeError, ValueError):
            return NotImplemented
        return self._dims == other._dims

    def __hash__(self):
        return hash(self._dims)

    def __str__(self):
        if self._dims is None:
            return "<unknown>"
        parts = ["?" if d is None else str(int(d)) for d in self._dims]
        return "(" + parts[0] + ",)" if len(parts) == 1 else "(" + ", ".join(parts) + ")"

    def __repr__(self):
        return f"TensorShape({self.dims if self._dims is None else self.as_list()})"

    def kernel_str(self) -> str:
        """The shape as TF kernels print it: ``[?,784]``."""
        return "[" + ",".join("?" if d is None else str(int(d)) for d in self._dims or ()) + "]"


def as_shape(shape) -> TensorShape:
    return shape if isinstance(shape, TensorShape) else TensorShape(shape)


def unknown_shape(rank=None) -> TensorShape:
    return TensorShape(None if rank is None else [None] * rank)


def scalar() -> TensorShape:
    return TensorShape([])
