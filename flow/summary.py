"""``tf.summary`` (TF1): summary ops that evaluate to serialized ``Summary`` bytes, and FileWriter.

Semantics: ``reference/tf1-semantics.md`` §8. The tag of a summary op is its own (uniquified)
name scope, so it includes enclosing name scopes (``train/loss``) and repeats get ``loss_1``.
The op kernels build their protos with ``writer.summary``'s pure builders; one difference from
TF is deliberate (SPEC §3): ``image`` keeps the **last** ``max_outputs`` images of the batch.
``FileWriter`` is ``writer.SummaryWriter`` plus TF1's graph/meta-graph events.
"""

from __future__ import annotations

import re
import time
import warnings

import numpy as np

import writer
from flow.checkpoint.meta_graph import build_meta_graph
from flow.core import dtypes, errors
from flow.framework.build import constant, convert_to_tensor
from flow.framework.graph import Graph, GraphKeys, get_default_graph
from flow.framework.tensor_util import make_tensor_proto
from flow.kernels.table import stateful
from writer import summary as builders
from writer.proto import config_pb2, event_pb2, summary_pb2

_ILLEGAL = re.compile(r"[^-/\w\.]")


def _clean_tag(name):
    if name is None:
        return None
    new = _ILLEGAL.sub("_", name).lstrip("/")
    if new != name:
        warnings.warn(f"Summary name {name} is illegal; using {new} instead.", stacklevel=3)
    return new


def _summary_op(op_type, name, tensor, attrs, collections, family):
    graph = get_default_graph()
    name = _clean_tag(name)
    scope_name = f"{family}/{name}" if family else name
    with graph.name_scope(scope_name) as scope:
        tag = scope[:-1]
        value = convert_to_tensor(tensor)
        tag_t = constant(tag, name="tag" if op_type == "ImageSummary" else "tags")
        out = graph.create_op(op_type, [tag_t, value], {"T": value.dtype, **attrs}, scope,
                              [dtypes.string], [()]).outputs[0]
    for key in [GraphKeys.SUMMARIES] if collections is None else collections:
        graph.add_to_collection(key, out)
    return out


def scalar(name, tensor, collections=None, family=None):
    """A ``Summary`` with one ``simple_value`` (the tensor must be a real scalar)."""
    return _summary_op("ScalarSummary", name, tensor, {}, collections, family)


def image(name, tensor, max_outputs=3, collections=None, family=None, max_images=None):
    """Images of a ``[batch, h, w, c]`` tensor (c = 1, 3 or 4); ``max_images``: old keyword."""
    n = int(max_images if max_images is not None else max_outputs)
    if n < 1:
        raise ValueError(f"max_outputs must be at least 1, got {n}")
    return _summary_op("ImageSummary", name, tensor,
                       {"max_images": n, "bad_color": np.array([255, 0, 0, 255], np.uint8)},
                       collections, family)


def histogram(name, values, collections=None, family=None):
    return _summary_op("HistogramSummary", name, values, {}, collections, family)


def text(name, tensor, collections=None):
    """TF1's ``tf.summary.text``: a ``TensorSummaryV2`` of a string tensor, ``plugin_name``
    ``"text"`` (TensorBoard's Text tab renders it as Markdown)."""
    value = convert_to_tensor(tensor)
    if value.dtype != dtypes.string:
        raise ValueError(f"Expected tensor {value.name} to have dtype string, got "
                         f"{value.dtype.name}; pass text, or convert with tf.as_string.")
    metadata = summary_pb2.SummaryMetadata()
    metadata.plugin_data.plugin_name = "text"
    graph = get_default_graph()
    with graph.name_scope(_clean_tag(name)) as scope:
        tag_t = constant(scope[:-1], name="tag")
        meta_t = constant(metadata.SerializeToString(), name="serialized_summary_metadata")
        out = graph.create_op("TensorSummaryV2", [tag_t, value, meta_t], {"T": value.dtype},
                              scope, [dtypes.string], [()]).outputs[0]
    for key in [GraphKeys.SUMMARIES] if collections is None else collections:
        graph.add_to_collection(key, out)
    return out


def merge(inputs, collections=None, name=None):
    """One ``Summary`` holding the values of every input (a repeated tag fails at run time)."""
    graph = get_default_graph()
    inputs = [convert_to_tensor(x) for x in inputs]
    with graph.name_scope(name or "Merge"):
        out = graph.create_op("MergeSummary", inputs, {"N": len(inputs)}, "MergeSummary",
                              [dtypes.string], [()]).outputs[0]
    for key in collections or []:
        graph.add_to_collection(key, out)
    return out


def merge_all(key=GraphKeys.SUMMARIES, scope=None, name=None):
    """``merge`` of the collection ``key``, or None when it is empty (as TF)."""
    summaries = get_default_graph().get_collection(key, scope)
    return merge(summaries, name=name) if summaries else None


# ---------------------------------------------------------------- kernels


def _tag(ins):
    tag = ins[0].item() if isinstance(ins[0], np.ndarray) else ins[0]
    return tag.decode() if isinstance(tag, bytes) else str(tag)


@stateful("ScalarSummary", ("T",))
def _scalar_kernel(op, sess):
    def kernel(ins):
        value = np.asarray(ins[1])
        if value.shape != ():
            raise errors.InvalidArgumentError(
                None, op, f"tags and values not the same shape: [] != {list(value.shape)} "
                f"(tag '{_tag(ins)}')")
        return builders.scalar(_tag(ins), float(value)).SerializeToString()

    return kernel


@stateful("ImageSummary", ("max_images", "T", "bad_color"))
def _image_kernel(op, sess):
    n = op.attrs["max_images"]

    def kernel(ins):
        batch = np.asarray(ins[1])
        if batch.ndim != 4 or batch.shape[-1] not in (1, 3, 4):
            raise errors.InvalidArgumentError(
                None, op, f"Tensor must be 4-D with last dim 1, 3, or 4, not "
                f"[{','.join(map(str, batch.shape))}]")
        if batch.shape[1] * batch.shape[2] == 0:
            raise errors.InvalidArgumentError(
                None, op, f"input tensor must have non-zero dims. Found: {list(batch.shape)}.")
        summary = builders.image(_tag(ins), batch, max_images=n)
        if n == 1 or len(summary.value) > 1:
            return summary.SerializeToString()
        # TF's tag form depends on max_outputs, not on how many images the batch had
        summary.value[0].tag = f"{_tag(ins)}/image/0"
        return summary.SerializeToString()

    return kernel


@stateful("HistogramSummary", ("T",))
def _histogram_kernel(op, sess):
    return lambda ins: builders.histogram(_tag(ins), np.asarray(ins[1])).SerializeToString()


@stateful("TensorSummaryV2", ("T",))
def _tensor_summary_kernel(op, sess):
    def kernel(ins):
        summary = summary_pb2.Summary()
        value = summary.value.add(tag=_tag(ins))
        value.metadata.ParseFromString(ins[2].item() if isinstance(ins[2], np.ndarray)
                                       else ins[2])
        value.tensor.CopyFrom(make_tensor_proto(ins[1], dtypes.string))
        return summary.SerializeToString()

    return kernel


@stateful("MergeSummary", ("N",))
def _merge_kernel(op, sess):
    def kernel(ins):
        merged, seen = summary_pb2.Summary(), set()
        for data in ins:
            part = summary_pb2.Summary.FromString(data)
            for value in part.value:
                if value.tag in seen:
                    raise errors.InvalidArgumentError(
                        None, op, f"Duplicate tag {value.tag} found in summary inputs")
                seen.add(value.tag)
                merged.value.append(value)
        return merged.SerializeToString()

    return kernel


# ---------------------------------------------------------------- FileWriter


class FileWriter:
    """``tf.summary.FileWriter(logdir, graph=None, ...)`` on ``writer.SummaryWriter``."""

    def __init__(self, logdir, graph=None, max_queue=10, flush_secs=120, graph_def=None,
                 filename_suffix=None, session=None):
        self._logdir = str(logdir)
        self._run_metadata_tags = set()
        self._options = {"max_queue": max_queue, "flush_secs": flush_secs,
                         "filename_suffix": filename_suffix or ""}
        self._open()
        if graph is not None or graph_def is not None:
            self.add_graph(graph, graph_def=graph_def)
            if isinstance(graph, Graph):
                self.add_meta_graph(build_meta_graph(graph, None))

    def _open(self):
        self._writer = writer.SummaryWriter(self._logdir, **self._options)
        self._closed = False

    def get_logdir(self):
        return self._logdir

    def _is_open(self) -> bool:
        if self._closed:
            warnings.warn("Attempting to use a closed FileWriter. The operation will be a noop "
                          "unless the FileWriter is explicitly reopened.", stacklevel=3)
        return not self._closed

    def _event(self, global_step=None, **fields):
        if not self._is_open():
            return
        event = event_pb2.Event(wall_time=time.time(), **fields)
        if global_step is not None:
            event.step = int(global_step)
        self._writer.add_event(event)

    def add_summary(self, summary, global_step=None):
        """``summary``: the bytes ``sess.run(summary_op)`` returned, or a Summary proto."""
        if self._is_open():
            step = None if global_step is None else int(global_step)
            self._writer.add_summary(summary, global_step=step)

    def add_graph(self, graph, global_step=None, graph_def=None):
        if graph is not None and graph_def is not None:
            raise ValueError("Please pass only graph, or graph_def (deprecated), but not both.")
        if isinstance(graph, Graph):
            data = graph.as_graph_def(add_shapes=True).SerializeToString()
        else:
            gd = graph if graph is not None else graph_def
            if getattr(getattr(gd, "DESCRIPTOR", None), "name", None) != "GraphDef":
                raise TypeError("The passed graph must be an instance of `Graph` or the "
                                "deprecated `GraphDef`")
            data = gd.SerializeToString()
        self._event(global_step, graph_def=data)

    def add_meta_graph(self, meta_graph_def, global_step=None):
        self._event(global_step, meta_graph_def=meta_graph_def.SerializeToString())

    def add_run_metadata(self, run_metadata, tag, global_step=None):
        """An ``Event.tagged_run_metadata`` (TensorBoard's graph view offers each tag as a
        session run, with its nodes' compute time and memory)."""
        if not isinstance(run_metadata, config_pb2.RunMetadata):
            raise TypeError(f"run_metadata must be a tf.RunMetadata proto, got "
                            f"{type(run_metadata).__name__}; fill one with "
                            f"sess.run(..., options=..., run_metadata=run_metadata).")
        if tag in self._run_metadata_tags:
            raise ValueError("The provided tag was already used for this event type")
        self._run_metadata_tags.add(tag)
        tagged = event_pb2.TaggedRunMetadata(tag=tag,
                                             run_metadata=run_metadata.SerializeToString())
        self._event(global_step, tagged_run_metadata=tagged)

    def add_session_log(self, session_log, global_step=None):
        self._event(global_step, session_log=session_log)

    def add_event(self, event):
        self._writer.add_event(event)

    def flush(self):
        if not self._closed:
            self._writer.flush()

    def close(self):
        if not self._closed:
            self._writer.close()
            self._closed = True

    def reopen(self):
        """After ``close()``: continue in a new event file."""
        if self._closed:
            self._open()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

