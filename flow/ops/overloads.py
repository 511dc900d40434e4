"""Tensor operator overloads (``a + b``, ``x[0]``, ``-x``) with TF1's op names.

Each overload converts a Python operand to the tensor's dtype (as TF's binary-op wrapper
does) and calls the public wrapper (``math_ops.add`` …) with TF's op name (``add``, ``sub``,
``mul``, ``truediv``). Importing this module installs them on ``TensorLike`` (the base of
Tensor and Variable), as TF's ``math_ops`` overrides ``Tensor``'s operators.
"""

from __future__ import annotations

from flow.framework.build import convert_to_tensor
from flow.framework.graph import TensorLike
from flow.ops import array_ops, math_ops

# dunder -> (wrapper, op name, reversed operands)
_BINARY = {
    "__add__": (math_ops.add, "add", False),
    "__radd__": (math_ops.add, "add", True),
    "__sub__": (math_ops.subtract, "sub", False),
    "__rsub__": (math_ops.subtract, "sub", True),
    "__mul__": (math_ops.multiply, "mul", False),
    "__rmul__": (math_ops.multiply, "mul", True),
    "__truediv__": (math_ops.truediv, "truediv", False),
    "__rtruediv__": (math_ops.truediv, "truediv", True),
    "__floordiv__": (math_ops.floordiv, "floordiv", False),
    "__rfloordiv__": (math_ops.floordiv, "floordiv", True),
    "__mod__": (math_ops.floormod, "mod", False),
    "__rmod__": (math_ops.floormod, "mod", True),
    "__pow__": (math_ops.pow, "pow", False),
    "__rpow__": (math_ops.pow, "pow", True),
    "__matmul__": (math_ops.matmul, "matmul", False),
    "__rmatmul__": (math_ops.matmul, "matmul", True),
    "__lt__": (math_ops.less, "Less", False),
    "__le__": (math_ops.less_equal, "LessEqual", False),
    "__gt__": (math_ops.greater, "Greater", False),
    "__ge__": (math_ops.greater_equal, "GreaterEqual", False),
    "__and__": (math_ops.logical_and, "LogicalAnd", False),
    "__rand__": (math_ops.logical_and, "LogicalAnd", True),
    "__or__": (math_ops.logical_or, "LogicalOr", False),
    "__ror__": (math_ops.logical_or, "LogicalOr", True),
}
_UNARY = {
    "__neg__": (math_ops.negative, "Neg"),
    "__abs__": (math_ops.abs, "Abs"),
    "__invert__": (math_ops.logical_not, "LogicalNot"),
}


def _make_binary(fn, op_name, swap):
    def method(self, other):
        x = convert_to_tensor(self)
        if not isinstance(other, TensorLike):
            try:
                other = convert_to_tensor(other, dtype=x.dtype)
            except (TypeError, ValueError):
                return NotImplemented
        a, b = (other, x) if swap else (x, other)
        return fn(a, b, name=op_name)

    return method


def _make_unary(fn, op_name):
    def method(self):
        return fn(convert_to_tensor(self), name=op_name)

    return method


def _getitem(self, key):
    return array_ops.getitem(convert_to_tensor(self), key)


for _name, _row in _BINARY.items():
    setattr(TensorLike, _name, _make_binary(*_row))
for _name, _row in _UNARY.items():
    setattr(TensorLike, _name, _make_unary(*_row))
TensorLike.__getitem__ = _getitem
