"""``SummaryWriter``: TensorFlow-compatible event files (SPEC §3; formats.md §2).

One writer owns one event file named
``events.out.tfevents.<10-digit unix time>.<hostname>.<pid>.<counter><suffix>`` whose first
record is ``Event(wall_time, file_version="brain.Event:2")``. Every ``add_*`` builds the whole
framed record first (so a bad argument writes nothing) and then appends it through
:class:`writer.event_file.EventFileWriter`, which is thread-safe and flushes to the OS on
``flush()``, every ``flush_secs``, on ``close()`` and at interpreter exit.

``add_scalar`` is the hot path of training loops. It writes the Event bytes directly (field
order and encoding exactly as protobuf serialises ``Event{wall_time, step, summary{value{tag,
simple_value}}}``; a test compares the two; the encoder lives next to its batch decoder in
:mod:`writer.scalar_events`) because building and serialising three protobuf messages costs
several times more than framing and CRCs.
"""

from __future__ import annotations

import errno
import itertools
import os
import socket
import time
import warnings

from google.protobuf.message import DecodeError, Message

from writer import hparams as hparams_lib
from writer import summary as summary_lib
from writer.event_file import EventFileError, EventFileWriter
from writer.proto import event_pb2, summary_pb2
from writer.record import encode_record
from writer.scalar_events import (
    F32,
    SMALL_STEPS,
    WALL,
    encode_scalar_event,
    float32_bytes,
    scalar_prefix,
    step_field,
    varint,
    wall_field,
)
from writer.storage import StorageError, is_url, local_path, storage_for

__all__ = ["SummaryWriter", "encode_scalar_event"]

FILE_VERSION = "brain.Event:2"
_COUNTER = itertools.count()

_STEP_WARNING = (
    "{what} was called without a step (global_step=None), so the event is written at step 0, "
    "as TensorFlow does. Every point of the tag then sits at x = 0 and TensorBoard draws the "
    "chart as a vertical line. Pass the training step, e.g. "
    "writer.add_summary(summary, global_step=step) or writer.add_scalar(tag, value, step). "
    "This warning is shown once per writer."
)


def _summary_bytes(summary) -> bytes:
    if isinstance(summary, (bytes, bytearray, memoryview)):
        data = bytes(summary)
        try:
            summary_pb2.Summary.FromString(data)
        except DecodeError:
            raise ValueError(
                f"add_summary got {len(data)} bytes that are not a serialized Summary proto "
                f"(starting {data[:16]!r}); pass what sess.run(summary_op) returns or a Summary"
            ) from None
        return data
    if isinstance(summary, Message) and summary.DESCRIPTOR.name == "Summary":
        return summary.SerializeToString()
    raise TypeError(
        f"add_summary needs a Summary proto or its serialized bytes, got {type(summary).__name__}"
    )


def _first_tag(summary_bytes: bytes) -> str:
    values = summary_pb2.Summary.FromString(summary_bytes).value
    return values[0].tag if values else ""


def _one_step(step, global_step, tag):
    if global_step is None:
        return step
    if step is not None:
        raise TypeError(f"tag {tag!r}: pass step={step!r} or global_step={global_step!r}, not both")
    return global_step


def _sub_run(run_name) -> str:
    """A run name that stays below the logdir."""
    if not isinstance(run_name, str) or not run_name.strip("/"):
        raise ValueError(f"run_name must be a non-empty str, got {run_name!r}")
    parts = run_name.replace(os.sep, "/").split("/")
    if os.path.isabs(run_name) or ".." in parts:
        raise ValueError(f"run_name {run_name!r} must be a relative path inside the logdir "
                         "(no leading '/' and no '..')")
    return run_name


class SummaryWriter:
    """Writes Summary events for TensorBoard (and numboard) into ``logdir``.

    Thread-safe. ``flush()`` returns once everything accepted so far is written to the OS
    (visible to readers, safe from a crash of this process; no fsync, see
    ``writer.event_file``); ``close()`` flushes and fsyncs; an interpreter exit flushes
    writers left open. Events also reach the OS when more than ``max_queue`` are waiting and
    every ``flush_secs``. An event that cannot be written (disk full, read-only logdir)
    raises :class:`EventFileError` rather than being dropped. Arguments are checked before
    anything is written, so a bad call writes nothing.

    ``logdir`` may be an object-storage URL (``s3://bucket/prefix/run``; any fsspec
    protocol): each flush then uploads only the new events as one object, and the writer
    merges its older objects (``writer.object_file``); ``flush()`` returns once they are
    stored.
    """

    def __init__(
        self,
        logdir: str | os.PathLike,
        *,
        flush_secs: float = 120,
        max_queue: int = 10,
        filename_suffix: str = "",
    ):
        self.logdir = os.fspath(logdir)
        if not isinstance(filename_suffix, str) or "/" in filename_suffix or os.sep in filename_suffix:
            raise ValueError(f"filename_suffix must be a str without path separators, got {filename_suffix!r}")
        remote = is_url(self.logdir)
        try:
            if remote:  # object stores have no folders; a missing bucket fails here, not later
                storage_for(self.logdir).check_bucket(self.logdir)
            else:
                os.makedirs(local_path(self.logdir), exist_ok=True)
        except StorageError as exc:
            raise EventFileError(exc.errno or errno.EIO, str(exc)) from None
        except OSError as exc:
            raise EventFileError(
                exc.errno,
                f"cannot create logdir {self.logdir!r}: {exc.strerror}; choose a directory you can write to",
            ) from exc
        now = time.time()
        name = (
            f"events.out.tfevents.{int(now):010d}.{socket.gethostname()}.{os.getpid()}."
            f"{next(_COUNTER)}{filename_suffix}"
        )
        self.path = f"{self.logdir.rstrip('/')}/{name}" if remote else os.path.join(self.logdir, name)
        self._file = EventFileWriter(self.path, max_queue=max_queue, flush_secs=flush_secs)
        self._write = self._file.write
        self._prefixes: dict[str, bytes] = {}
        self._warned_step = False
        self._last_step = 0  # where add_hparams puts metric values by default
        first = event_pb2.Event(wall_time=now, file_version=FILE_VERSION)
        self._write(encode_record(first.SerializeToString()))
        self._file.flush()  # as TF does: the file exists with its version record at once

    # -- the fast path ------------------------------------------------------------------

    def add_scalar(self, tag: str, value, step=None, walltime=None, *, global_step=None) -> None:
        """One scalar point: ``Event{wall_time, step, summary{value{tag, simple_value}}}``.

        ``global_step=`` is accepted as another name for ``step`` (torch and tensorboardX
        spell it that way).
        """
        if global_step is not None:
            step = _one_step(step, global_step, tag)
        prefix = self._prefixes.get(tag) if type(tag) is str else None
        if prefix is None:
            prefix = self._prefixes[tag] = scalar_prefix(summary_lib.check_tag(tag))
        if type(value) is float:
            try:
                fbytes = F32.pack(value)
            except OverflowError:
                fbytes = float32_bytes(tag, value)
        else:
            fbytes = float32_bytes(tag, value)
        if type(step) is int and 0 <= step < 128:
            sbytes = SMALL_STEPS[step]
            self._last_step = step
        elif step is None:
            sbytes = b""
            self._warn_no_step(f"add_scalar({tag!r})")
        else:
            sbytes = step_field(step)
            self._last_step = step
        head = WALL.pack(9, time.time()) if walltime is None else wall_field(walltime)
        data = head + sbytes + prefix + fbytes
        self._write(encode_record(data))

    # -- general events -----------------------------------------------------------------

    def add_summary(self, summary, global_step=None, walltime=None) -> None:
        """Write a ``Summary`` proto or its serialized bytes (``sess.run(summary_op)``)."""
        data = _summary_bytes(summary)
        sbytes = step_field(global_step) if global_step is not None else b""
        head = wall_field(walltime)
        if global_step is None:
            self._warn_no_step(f"add_summary (tag {_first_tag(data)!r})")
        else:
            self._last_step = global_step
        self._write(encode_record(head + sbytes + b"\x2a" + varint(len(data)) + data))

    def add_image(
        self, tag: str, img, step=None, walltime=None, dataformats: str = "HWC", *, global_step=None
    ) -> None:
        """One image under ``tag`` (HWC, CHW or HW; uint8 as is, floats scaled as TF)."""
        step = self._step(_one_step(step, global_step, tag), tag)
        self.add_summary(summary_lib.image_one(tag, img, dataformats), step, walltime)

    def add_images(
        self, tag: str, batch, step=None, walltime=None, dataformats: str = "NHWC", max_images: int = 3,
        *, global_step=None,
    ) -> None:
        """The last ``max_images`` images of ``batch`` under ``tag/image/i`` (or ``tag/image``)."""
        summary = summary_lib.image(tag, batch, max_images=max_images, dataformats=dataformats)
        self.add_summary(summary, self._step(_one_step(step, global_step, tag), tag), walltime)

    def add_histogram(
        self, tag: str, values, step=None, bins=None, walltime=None, *, global_step=None
    ) -> None:
        """A histogram of ``values``: TF's default buckets unless ``bins`` (an int, edges or
        a numpy rule) is given. Argument order as in torch's ``add_histogram``."""
        summary = summary_lib.histogram(tag, values, bins)
        self.add_summary(summary, self._step(_one_step(step, global_step, tag), tag), walltime)

    def add_text(self, tag: str, text_string, step=None, walltime=None, *, global_step=None) -> None:
        """Text under ``tag`` (Markdown to the board): a str, or a list / 2-D array of str
        shown as a table. Unlike torch, the tag is kept as given (no ``/text_summary``)."""
        summary = summary_lib.text(tag, text_string)
        self.add_summary(summary, self._step(_one_step(step, global_step, tag), tag), walltime)

    def add_hparams(self, hparam_dict: dict, metric_dict: dict | None = None,
                    hparam_domain_discrete: dict | None = None, run_name: str | None = None,
                    global_step=None) -> None:
        """Record this run's hyperparameters for the Runs table and TensorBoard's HParams tab.

        ``hparam_dict`` maps names to bool, str or number values; ``metric_dict`` maps metric
        tags to values, each written as a scalar under its tag at ``global_step`` (by default
        the last step this writer logged, so a metric that is also a training curve ends it);
        ``hparam_domain_discrete`` lists the values an hparam can take. The signature is
        torch's, but by default everything goes into **this writer's own run** (its logdir);
        no extra timestamp-named run is made, as ``torch.utils.tensorboard`` does.
        ``run_name`` writes into the sub-run ``<logdir>/<run_name>`` instead.
        """
        experiment, start, end = hparams_lib.summaries(hparam_dict, metric_dict,
                                                       hparam_domain_discrete)
        metrics = {tag: summary_lib.scalar_value(tag, v) for tag, v in (metric_dict or {}).items()}
        step = self._last_step if global_step is None else global_step
        if run_name is None:
            return self._write_hparams((experiment, start, end), metrics, step)
        with SummaryWriter(os.path.join(self.logdir, _sub_run(run_name))) as sub:
            sub._write_hparams((experiment, start, end), metrics, step)

    def _write_hparams(self, summaries, metrics: dict, step) -> None:
        for summary in summaries:
            self.add_summary(summary, step)
        for tag, value in metrics.items():
            self.add_scalar(tag, value, step)

    def add_graph(self, graph, global_step=None, walltime=None) -> None:
        """``Event{graph_def}`` from a GraphDef (proto or bytes) or anything with ``as_graph_def()``.

        Written at ``global_step`` (default 0, without a warning: a graph is not a series).
        """
        if hasattr(graph, "as_graph_def"):
            graph = graph.as_graph_def()
        if isinstance(graph, Message) and graph.DESCRIPTOR.name == "GraphDef":
            data = graph.SerializeToString()
        elif isinstance(graph, (bytes, bytearray, memoryview)):
            data = bytes(graph)
        else:
            raise TypeError(
                f"add_graph needs a Graph (with as_graph_def()), a GraphDef proto or its bytes, "
                f"got {type(graph).__name__}"
            )
        sbytes = step_field(global_step) if global_step is not None else b""
        event = event_pb2.Event(graph_def=data)
        self._write(encode_record(wall_field(walltime) + sbytes + event.SerializeToString()))

    def add_event(self, event) -> None:
        """Write an ``Event`` proto (any package's) or its serialized bytes as it is."""
        if isinstance(event, Message) and event.DESCRIPTOR.name == "Event":
            data = event.SerializeToString()
        elif isinstance(event, (bytes, bytearray, memoryview)):
            data = bytes(event)
            try:
                event_pb2.Event.FromString(data)
            except DecodeError:
                raise ValueError(f"add_event got {len(data)} bytes that are not a serialized Event") from None
        else:
            raise TypeError(f"add_event needs an Event proto or its bytes, got {type(event).__name__}")
        self._write(encode_record(data))

    # -- lifecycle ----------------------------------------------------------------------

    def flush(self) -> None:
        """Return once every event accepted so far has been written to the OS."""
        self._file.flush()

    def close(self) -> None:
        """Flush, fsync and close the file. Later ``add_*`` calls raise."""
        self._file.close()

    def get_logdir(self) -> str:
        return self.logdir

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _step(self, step, tag: str):
        if step is None:
            self._warn_no_step(f"tag {tag!r}", stacklevel=4)
            return 0
        return step

    def _warn_no_step(self, what: str, stacklevel: int = 3) -> None:
        if not self._warned_step:
            self._warned_step = True
            warnings.warn(_STEP_WARNING.format(what=what), UserWarning, stacklevel=stacklevel)
