"""Tensor operator overloads (``a + b``, ``x[0]``, ``-x``): TF1's op names, built lazily.

Each overload converts a Python operand to the tensor's dtype (as TF's binary-op wrapper
does) and calls the public wrapper of ``flow.ops`` (``math_ops.add`` …) with TF's op name
(``add``, ``sub``, ``mul``, ``truediv``). ``flow.ops`` is imported on first use, so the graph
core imports without the op table.
"""

from __future__ import annotations

# dunder -> (wrapper module, wrapper name, op name, reversed operands)
_BINARY = {
    "__add__": ("math_ops", "add", "add", False),
    "__radd__": ("math_ops", "add", "add", True),
    "__sub__": ("math_ops", "subtract", "sub", False),
    "__rsub__": ("math_ops", "subtract", "sub", True),
    "__mul__": ("math_ops", "multiply", "mul", False),
    "__rmul__": ("math_ops", "multiply", "mul", True),
    "__truediv__": ("math_ops", "truediv", "truediv", False),
    "__rtruediv__": ("math_ops", "truediv", "truediv", True),
    "__floordiv__": ("math_ops", "floordiv", "floordiv", False),
    "__rfloordiv__": ("math_ops", "floordiv", "floordiv", True),
    "__mod__": ("math_ops", "floormod", "mod", False),
    "__rmod__": ("math_ops", "floormod", "mod", True),
    "__pow__": ("math_ops", "pow", "pow", False),
    "__rpow__": ("math_ops", "pow", "pow", True),
    "__matmul__": ("math_ops", "matmul", "matmul", False),
    "__rmatmul__": ("math_ops", "matmul", "matmul", True),
    "__lt__": ("math_ops", "less", "Less", False),
    "__le__": ("math_ops", "less_equal", "LessEqual", False),
    "__gt__": ("math_ops", "greater", "Greater", False),
    "__ge__": ("math_ops", "greater_equal", "GreaterEqual", False),
    "__and__": ("math_ops", "logical_and", "LogicalAnd", False),
    "__rand__": ("math_ops", "logical_and", "LogicalAnd", True),
    "__or__": ("math_ops", "logical_or", "LogicalOr", False),
    "__ror__": ("math_ops", "logical_or", "LogicalOr", True),
}
_UNARY = {
    "__neg__": ("math_ops", "negative", "Neg"),
    "__abs__": ("math_ops", "abs", "Abs"),
    "__invert__": ("math_ops", "logical_not", "LogicalNot"),
}


def _wrapper(module: str, fn: str):
    import importlib

    mod = importlib.import_module(f"flow.ops.{module}")
    try:
        return getattr(mod, fn)
    except AttributeError:
        raise NotImplementedError(
            f"operator needs flow.ops.{module}.{fn}, which is not available yet"
        ) from None


def _make_binary(module, fn, op_name, swap):
    def method(self, other):
        from flow.framework.ops import convert_to_tensor

        x = convert_to_tensor(self)
        if not isinstance(other, TensorLike):
            try:
                other = convert_to_tensor(other, dtype=x.dtype)
            except (TypeError, ValueError):
                return NotImplemented
        a, b = (other, x) if swap else (x, other)
        return _wrapper(module, fn)(a, b, name=op_name)

    return method


def _make_unary(module, fn, op_name):
    def method(self):
        from flow.framework.ops import convert_to_tensor

        return _wrapper(module, fn)(convert_to_tensor(self), name=op_name)

    return method


class TensorLike:
    """Operator overloads shared by Tensor and Variable; each builds an op via the wrappers."""

    __array_priority__ = 100

    def __getitem__(self, key):
        from flow.framework.ops import convert_to_tensor

        return _wrapper("array_ops", "slice_helper")(convert_to_tensor(self), key)

    def __bool__(self):
        raise TypeError(
            "Using a `tf.Tensor` as a Python `bool` is not allowed. Use `if t is not None:` "
            "instead of `if t:` to test if a tensor is defined, and use TensorFlow ops such "
            "as tf.cond to execute subgraphs conditioned on the value of a tensor."
        )

    def __iter__(self):
        raise TypeError("'Tensor' object is not iterable.")


for _name, _row in _BINARY.items():
    setattr(TensorLike, _name, _make_binary(*_row))
for _name, _row in _UNARY.items():
    setattr(TensorLike, _name, _make_unary(*_row))
