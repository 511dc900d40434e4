"""TensorFlow data types (``tf.float32`` …) as small immutable objects.

Each DType knows its numpy dtype, its ``DataType`` enum value in ``types.proto`` (DT_FLOAT = 1 …)
and the short name TensorFlow prints in kernel messages (``DataTypeString``: ``float``,
``double``, ``int32`` …).
"""

from __future__ import annotations

import numpy as np


class DType:
    """One TensorFlow dtype. Compare with ``==``; ``as_numpy_dtype`` gives the numpy type."""

    __slots__ = ("name", "as_numpy_dtype", "as_datatype_enum", "kernel_name")

    def __init__(self, name: str, np_type, enum: int, kernel_name: str):
        self.name = name
        self.as_numpy_dtype = np_type
        self.as_datatype_enum = enum
        self.kernel_name = kernel_name

    base_dtype = property(lambda self: self)
    real_dtype = property(lambda self: self)
    is_floating = property(lambda self: self.name in ("float16", "float32", "float64", "bfloat16"))
    is_integer = property(lambda self: self.name.startswith(("int", "uint")))
    is_unsigned = property(lambda self: self.name.startswith("uint"))
    is_bool = property(lambda self: self.name == "bool")
    is_complex = property(lambda self: self.name.startswith("complex"))
    is_numpy_compatible = property(lambda self: self.name not in ("string", "resource"))
    size = property(lambda self: np.dtype(self.as_numpy_dtype).itemsize)

    @property
    def min(self):
        t = np.dtype(self.as_numpy_dtype)
        return np.finfo(t).min if self.is_floating else np.iinfo(t).min

    @property
    def max(self):
        t = np.dtype(self.as_numpy_dtype)
        return np.finfo(t).max if self.is_floating else np.iinfo(t).max

    def is_compatible_with(self, other) -> bool:
        return self == as_dtype(other)

    def __eq__(self, other):
        if other is None:
            return False
        try:
            return self is as_dtype(other)
        except TypeError:
            return False

    def __ne__(self, other):
        return not self == other

    __hash__ = object.__hash__

    def __repr__(self):
        return f"tf.{self.name}"

    def __str__(self):
        return f"<dtype: {self.name!r}>"


_ROWS = [  # name, numpy type, DataType enum, DataTypeString
    ("float16", np.float16, 19, "half"),
    ("float32", np.float32, 1, "float"),
    ("float64", np.float64, 2, "double"),
    ("int8", np.int8, 6, "int8"),
    ("int16", np.int16, 5, "int16"),
    ("int32", np.int32, 3, "int32"),
    ("int64", np.int64, 9, "int64"),
    ("uint8", np.uint8, 4, "uint8"),
    ("uint16", np.uint16, 17, "uint16"),
    ("uint32", np.uint32, 22, "uint32"),
    ("uint64", np.uint64, 23, "uint64"),
    ("bool", np.bool_, 10, "bool"),
    ("complex64", np.complex64, 8, "complex64"),
    ("complex128", np.complex128, 18, "complex128"),
    ("string", np.object_, 7, "string"),
    ("resource", np.object_, 20, "resource"),  # a handle (a while loop gradient's stacks)
]
ALL = {name: DType(name, t, e, k) for name, t, e, k in _ROWS}
_BY_NUMPY = {np.dtype(d.as_numpy_dtype): d for d in ALL.values()
             if d.name not in ("string", "resource")}
_BY_NUMPY[np.dtype(np.object_)] = ALL["string"]
_BY_ENUM = {d.as_datatype_enum: d for d in ALL.values()}
_ALIASES = {"float": "float32", "half": "float16", "double": "float64"}

float16, float32, float64 = ALL["float16"], ALL["float32"], ALL["float64"]
half, double = float16, float64
int8, int16, int32, int64 = ALL["int8"], ALL["int16"], ALL["int32"], ALL["int64"]
uint8, uint16, uint32, uint64 = ALL["uint8"], ALL["uint16"], ALL["uint32"], ALL["uint64"]
bool = ALL["bool"]  # noqa: A001 - TensorFlow's public name
complex64, complex128, string = ALL["complex64"], ALL["complex128"], ALL["string"]
resource = ALL["resource"]


def as_dtype(value) -> DType:
    """Turn a DType, numpy dtype/type, name ("float32") or DataType enum into a DType."""
    if isinstance(value, DType):
        return value
    if isinstance(value, str):
        name = _ALIASES.get(value, value)
        if name in ALL:
            return ALL[name]
    elif isinstance(value, int) and not isinstance(value, type):
        if value in _BY_ENUM:
            return _BY_ENUM[value]
        if value - 100 in _BY_ENUM:  # reference types (DT_FLOAT_REF = 101)
            return _BY_ENUM[value - 100]
    elif value is str or value is bytes:
        return string
    else:
        try:
            t = np.dtype(value)
        except TypeError:
            t = None
        if t is not None:
            if t.kind in "SUO":
                return string
            if t in _BY_NUMPY:
                return _BY_NUMPY[t]
    raise TypeError(f"Cannot convert value {value!r} to a TensorFlow DType.")
