"""``tf.Print`` (an identity that prints) and ``tf.print`` (an op that prints), TF 1.15."""

from __future__ import annotations

import sys

from flow.framework.build import apply, convert_to_tensor
from flow.framework.graph import Tensor, TensorLike, get_default_graph


def Print(input_, data, message=None, first_n=None, summarize=None, name=None):  # noqa: N802
    """``tf.Print``: returns ``input_``; each run prints ``message`` and the ``data`` values."""
    x = convert_to_tensor(input_)
    data = [convert_to_tensor(d) for d in data]
    attrs = {"T": x.dtype, "U": [d.dtype for d in data], "message": message or "",
             "first_n": -1 if first_n is None else int(first_n),
             "summarize": 3 if summarize is None else int(summarize), "_count": [0]}
    return apply("Print", [x, *data], attrs, name)


def print_v2(*inputs, output_stream=None, summarize=3, sep=" ", end="\n", name=None):
    """``tf.print``: an op (run it, or make others depend on it) that prints ``inputs`` to
    ``output_stream`` (standard error by default, as TF's), or any object with ``write``."""
    if output_stream is None:
        output_stream = sys.stderr
    if not callable(getattr(output_stream, "write", None)):
        raise ValueError(f"output_stream {output_stream!r} is not supported; use sys.stdout, "
                         f"sys.stderr or an open file.")
    tensors, template = [], []
    for item in inputs:
        if isinstance(item, Tensor | TensorLike):
            template.append(len(tensors))
            tensors.append(convert_to_tensor(item))
        else:
            template.append(str(item))
    # The standard streams are named, as in TF, and looked up when the op runs (so a stream
    # swapped in later, e.g. by a test's capture, gets the output); other objects are kept.
    named = {id(sys.stdout): "stdout", id(sys.stderr): "stderr"}.get(id(output_stream))
    attrs = {"output_stream": named or "stderr", "end": end, "_template": template,
             "_stream": None if named else output_stream, "_sep": sep,
             "_summarize": summarize}
    return get_default_graph().create_op("PrintV2", tensors, attrs, name or "PrintV2",
                                         [], [])

