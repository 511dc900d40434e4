"""``tf.errors``: the run-time error classes of TensorFlow (``OpError`` and its subclasses).

Construct as TensorFlow does: ``NotFoundError(node_def, op, message)``; ``str(err)`` is the
message. ``error_code`` is the ``error_codes.proto`` value.
"""

from __future__ import annotations


class OpError(Exception):
    error_code = 2

    def __init__(self, node_def, op, message, *args):
        super().__init__(message)
        self.node_def = node_def
        self.op = op
        self.message = message

    def __str__(self):
        return self.message


def _error(name, code):
    return type(name, (OpError,), {"error_code": code})


CancelledError = _error("CancelledError", 1)
UnknownError = _error("UnknownError", 2)
InvalidArgumentError = _error("InvalidArgumentError", 3)
DeadlineExceededError = _error("DeadlineExceededError", 4)
NotFoundError = _error("NotFoundError", 5)
AlreadyExistsError = _error("AlreadyExistsError", 6)
PermissionDeniedError = _error("PermissionDeniedError", 7)
ResourceExhaustedError = _error("ResourceExhaustedError", 8)
FailedPreconditionError = _error("FailedPreconditionError", 9)
AbortedError = _error("AbortedError", 10)
OutOfRangeError = _error("OutOfRangeError", 11)
UnimplementedError = _error("UnimplementedError", 12)
InternalError = _error("InternalError", 13)
UnavailableError = _error("UnavailableError", 14)
DataLossError = _error("DataLossError", 15)
UnauthenticatedError = _error("UnauthenticatedError", 16)
for _cls in list(globals().values()):
    if isinstance(_cls, type) and issubclass(_cls, OpError):
        _cls.__module__ = __name__


class UnsupportedModuleError(AttributeError):
    """A TensorFlow module flow does not implement (``tf.estimator``, ``tf.contrib.*`` …)."""


def unsupported_module(qualified: str) -> UnsupportedModuleError:
    return UnsupportedModuleError(
        f"{qualified} is not implemented by flow, a numpy runtime of TensorFlow 1.x's graph "
        f"API; flow has no {qualified}. Port that part of the program to the tf.layers / "
        f"tf.train / tf.data API flow provides, or run it on TensorFlow.")
