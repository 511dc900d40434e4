"""numpy array <-> ``TensorProto`` (``tensor.proto``), as TensorFlow's ``make_tensor_proto``.

Arrays whose elements are all equal (and scalars) are written with a single typed value
(``float_val: 0``) and the full shape: the proto's rule that the last value repeats to fill
the shape keeps the GraphDef of ``zeros([256, 256])`` small, as TensorFlow's own does.
Other numeric arrays go to ``tensor_content`` (little-endian raw bytes); strings to ``string_val``.
"""

from __future__ import annotations

import numpy as np

from flow.core import dtypes
from writer.proto import tensor_pb2, tensor_shape_pb2

_TYPED_FIELD = {  # dtype name -> TensorProto repeated field for typed values
    "float32": "float_val", "float64": "double_val", "int32": "int_val", "int16": "int_val",
    "int8": "int_val", "uint8": "int_val", "uint16": "int_val", "int64": "int64_val",
    "bool": "bool_val", "float16": "half_val", "uint32": "uint32_val", "uint64": "uint64_val",
    "complex64": "scomplex_val", "complex128": "dcomplex_val", "string": "string_val",
}


def shape_proto(dims):
    """``TensorShapeProto`` of a tuple of ints/None (None dims → -1) or None (unknown rank)."""
    proto = tensor_shape_pb2.TensorShapeProto()
    if dims is None:
        proto.unknown_rank = True
    else:
        for d in dims:
            proto.dim.add(size=-1 if d is None else int(d))
    return proto


def _typed_values(dtype, flat):
    if dtype.name == "float16":
        return flat.astype(np.float16).view(np.uint16).astype(np.int64).tolist()
    if dtype.is_complex:
        return [p for c in flat.tolist() for p in (c.real, c.imag)]
    if dtype.name == "string":
        return [v if isinstance(v, bytes) else str(v).encode() for v in flat.tolist()]
    return flat.tolist()


def make_tensor_proto(value, dtype=None):
    """``TensorProto`` of ``value`` (array-like) as ``dtype`` (a flow DType; default inferred)."""
    dtype = dtypes.as_dtype(dtype) if dtype is not None else None
    arr = np.asarray(value, dtype=None if dtype is None else dtype.as_numpy_dtype)
    dtype = dtype or dtypes.as_dtype(arr.dtype)
    proto = tensor_pb2.TensorProto(dtype=dtype.as_datatype_enum,
                                   tensor_shape=shape_proto(arr.shape))
    flat = arr.reshape(-1)
    if dtype.name == "string" or flat.size <= 1 or bool(np.all(flat == flat[0])):
        getattr(proto, _TYPED_FIELD[dtype.name]).extend(_typed_values(dtype, flat[:1]))
        if dtype.name == "string" and flat.size > 1:
            del proto.string_val[:]
            proto.string_val.extend(_typed_values(dtype, flat))
    else:
        proto.tensor_content = flat.astype(arr.dtype.newbyteorder("<")).tobytes()
    return proto


def make_ndarray(proto) -> np.ndarray:
    """The numpy array a ``TensorProto`` holds (the inverse of :func:`make_tensor_proto`)."""
    dtype = dtypes.as_dtype(proto.dtype)
    shape = [d.size for d in proto.tensor_shape.dim]
    n = int(np.prod(shape)) if shape else 1
    np_type = np.dtype(dtype.as_numpy_dtype)
    if proto.tensor_content:
        return np.frombuffer(proto.tensor_content, np_type.newbyteorder("<")).astype(
            np_type).reshape(shape)
    values = list(getattr(proto, _TYPED_FIELD[dtype.name]))
    if dtype.name == "float16":
        values = np.asarray(values, np.uint16).view(np.float16)
    elif dtype.is_complex:
        values = [complex(a, b) for a, b in zip(values[::2], values[1::2], strict=True)]
    arr = np.empty(n, dtype=np_type)
    if n:
        k = len(values)
        if k == 0:
            arr[:] = b"" if dtype.name == "string" else 0
        else:
            arr[:k] = values[:n]
            arr[k:] = values[k - 1]
    return arr.reshape(shape)
