"""From Event protos to the plain items the board shows (formats.md §2, §4). Pure: no I/O.

:func:`parse_event` turns one record payload into an ``Event``; :func:`normalize` turns an
Event into a list of items, one per thing it carries, whatever wrote it:

- scalars: legacy ``simple_value`` (TF1, tensorboardX, torch) and TF2 tensors under plugin
  ``scalars`` (float/double/int dtypes, in ``*_val`` fields or ``tensor_content``);
- images: legacy ``Summary.Image`` and TF2 string tensors ``[width, height, png, ...]`` under
  plugin ``images`` (one item per image; the bytes are fetched later with :func:`image_bytes`);
- histograms: legacy ``histo`` and TF2 ``[k, 3]`` tensors of (left, right, count) under
  plugin ``histograms``;
- text: DT_STRING tensors of any rank under plugin ``text`` (TF1/TF2 ``tf.summary.text``,
  torch/tensorboardX ``add_text``), decoded as UTF-8 (bad bytes replaced, and said so);
- hparams: the plugin content of values under plugin ``hparams`` (``writer.hparams``);
- graphs (``graph_def`` and the graph inside ``meta_graph_def``), ``tagged_run_metadata``
  (one traced ``Session.run``, its RunMetadata bytes kept as written), SessionLog.START and
  the ``file_version`` record.

TF1's ``FileWriter`` keeps the summary metadata only on the first value of each tag, so
:func:`normalize` can be given a ``plugins`` dict (tag → plugin name) that it consults and
updates, one per run.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

import numpy as np
from google.protobuf.message import DecodeError

from writer import hparams
from writer.proto import event_pb2, meta_graph_pb2, types_pb2

__all__ = [
    "EventParseError", "parse_event", "normalize", "image_bytes",
    "tensor_values", "string_values",
    "ScalarItem", "ImageItem", "HistogramItem", "GraphItem", "SessionStartItem", "FileVersionItem",
    "TextItem", "HParamsItem", "RunMetadataItem",
]


class EventParseError(ValueError):
    """A record payload that is not a serialized Event."""


class ScalarItem(NamedTuple):
    tag: str
    step: int
    wall_time: float
    value: float


class ImageItem(NamedTuple):
    tag: str
    step: int
    wall_time: float
    index: int  # sample index within the value (TF2 tensors hold several images)
    width: int
    height: int
    content_type: str
    value_index: int  # position of the Summary.Value in event.summary.value


class HistogramItem(NamedTuple):
    tag: str
    step: int
    wall_time: float
    min: float
    max: float
    num: float
    sum: float
    sum_squares: float
    bucket_limits: list[float]
    bucket_counts: list[float]


class TextItem(NamedTuple):
    tag: str
    step: int
    wall_time: float
    shape: tuple[int, ...]
    values: tuple[str, ...]  # row-major, len == prod(shape) unless `problem` says otherwise
    problem: str | None  # what is wrong with the bytes in the file, if anything


class HParamsItem(NamedTuple):
    tag: str
    step: int
    wall_time: float
    data: hparams.HParamsData | None  # None when `problem` is set
    problem: str | None


class GraphItem(NamedTuple):
    step: int
    wall_time: float
    graph_def: bytes  # a serialized GraphDef


class RunMetadataItem(NamedTuple):
    step: int
    wall_time: float
    tag: str
    run_metadata: bytes  # a serialized RunMetadata, not decoded here


class SessionStartItem(NamedTuple):
    step: int
    wall_time: float


class FileVersionItem(NamedTuple):
    version: str


def parse_event(data: bytes) -> event_pb2.Event:
    """Parse one record payload; raises :class:`EventParseError` if it is not an Event."""
    try:
        return event_pb2.Event.FromString(data)
    except (DecodeError, RecursionError, ValueError) as exc:
        raise EventParseError(f"record of {len(data)} bytes is not a serialized Event: {exc}") from None


# -- tensors ------------------------------------------------------------------------------

_NUMPY = {
    types_pb2.DT_FLOAT: ("<f4", "float_val"),
    types_pb2.DT_DOUBLE: ("<f8", "double_val"),
    types_pb2.DT_INT32: ("<i4", "int_val"),
    types_pb2.DT_UINT8: ("u1", "int_val"),
    types_pb2.DT_INT16: ("<i2", "int_val"),
    types_pb2.DT_INT8: ("i1", "int_val"),
    types_pb2.DT_UINT16: ("<u2", "int_val"),
    types_pb2.DT_INT64: ("<i8", "int64_val"),
    types_pb2.DT_BOOL: ("?", "bool_val"),
    types_pb2.DT_HALF: ("<f2", "half_val"),
    types_pb2.DT_UINT32: ("<u4", "uint32_val"),
    types_pb2.DT_UINT64: ("<u8", "uint64_val"),
}


def _num_elements(tensor) -> int | None:
    dims = tensor.tensor_shape.dim
    if tensor.tensor_shape.unknown_rank:
        return None
    n = 1
    for d in dims:
        if d.size < 0:
            return None
        n *= d.size
    return n


# TF fills a tensor whose *_val list is shorter than its shape with the last value. A shape
# is only a claim (a corrupt file may say 2**62 elements), so filling is bounded.
_MAX_FILL = 1 << 16


def tensor_values(tensor) -> np.ndarray | None:
    """A numeric TensorProto's values, flat, as numpy (None for dtypes we do not read, or a
    shape that claims more than 65536 elements the proto does not carry)."""
    spec = _NUMPY.get(tensor.dtype)
    if spec is None:
        return None
    dtype, field = spec
    if tensor.tensor_content:
        width = np.dtype(dtype).itemsize
        content = tensor.tensor_content
        return np.frombuffer(content[: len(content) - len(content) % width], dtype=dtype)
    vals = getattr(tensor, field)
    if tensor.dtype == types_pb2.DT_HALF:
        arr = np.array(vals, dtype=np.uint16).view(np.float16)
    else:
        arr = np.array(vals, dtype=dtype)
    n = _num_elements(tensor)
    if n is not None and 0 < len(arr) < n:  # TF repeats the last value to fill the tensor
        if n > _MAX_FILL:
            return None
        arr = np.concatenate([arr, np.repeat(arr[-1:], n - len(arr))])
    return arr


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 35:
            raise ValueError("bad varint in a string tensor")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def string_values(tensor) -> list[bytes]:
    """A DT_STRING tensor's elements, from ``string_val`` or TF's EncodeStringList layout."""
    if tensor.string_val or not tensor.tensor_content:
        return list(tensor.string_val)
    n = _num_elements(tensor)
    content = tensor.tensor_content
    if n is None or n > len(content):  # every element takes at least its length byte
        return []
    try:
        lengths, pos = [], 0
        for _ in range(n):
            length, pos = _read_varint(content, pos)
            lengths.append(length)
        out = []
        for length in lengths:
            if pos + length > len(content):
                return []
            out.append(content[pos : pos + length])
            pos += length
        return out
    except ValueError:
        return []


# -- images ---------------------------------------------------------------------------------

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
    (b"BM", "image/bmp"),
)


def content_type(data: bytes) -> str:
    """MIME type of encoded image bytes, by their magic number."""
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


def _png_size(data: bytes) -> tuple[int, int]:
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24 and data[12:16] == b"IHDR":
        w, h = struct.unpack(">II", data[16:24])
        return w, h
    return 0, 0


def _int_or_zero(b: bytes) -> int:
    try:
        return int(b)
    except ValueError:
        return 0


def image_bytes(event: event_pb2.Event, value_index: int, index: int = 0) -> bytes:
    """The encoded image ``index`` of ``event.summary.value[value_index]`` (see ImageItem)."""
    values = event.summary.value
    if not 0 <= value_index < len(values):
        raise IndexError(f"event has {len(values)} summary values, no value_index {value_index}")
    value = values[value_index]
    if value.HasField("image"):
        if index != 0:
            raise IndexError(f"value {value.tag!r} holds one image, no index {index}")
        return value.image.encoded_image_string
    if value.HasField("tensor"):
        blobs = string_values(value.tensor)
        if 0 <= index < len(blobs) - 2:
            return blobs[2 + index]
        raise IndexError(f"value {value.tag!r} holds {max(len(blobs) - 2, 0)} images, no index {index}")
    raise IndexError(f"value {value.tag!r} is not an image")


# -- normalize ------------------------------------------------------------------------------


def _histogram_from_proto(tag, step, wall, h) -> HistogramItem:
    k = min(len(h.bucket_limit), len(h.bucket))  # a damaged proto may not pair them up
    return HistogramItem(
        tag, step, wall, h.min, h.max, h.num, h.sum, h.sum_squares,
        list(h.bucket_limit[:k]), list(h.bucket[:k]),
    )


def _histogram_from_tensor(tag, step, wall, tensor) -> HistogramItem | None:
    arr = tensor_values(tensor)
    if arr is None or arr.size % 3:
        return None
    rows = arr.astype(np.float64).reshape(-1, 3)
    left, right, count = rows[:, 0], rows[:, 1], rows[:, 2]
    if not len(rows):
        return HistogramItem(tag, step, wall, 0.0, 0.0, 0.0, 0.0, 0.0, [], [])
    # TF2 tensors keep only bucket edges and counts; sum and sum of squares are estimated
    # from bucket centres.
    with np.errstate(over="ignore", invalid="ignore"):  # huge edges: the sums become ±inf
        centre = (left + right) / 2
        total, total_sq = float((count * centre).sum()), float((count * centre * centre).sum())
    return HistogramItem(
        tag, step, wall, float(left[0]), float(right[-1]), float(count.sum()), total, total_sq,
        right.tolist(), count.tolist(),
    )


def _dtype_name(dtype: int) -> str:
    try:
        return types_pb2.DataType.Name(dtype)
    except ValueError:
        return f"dtype {dtype}"


def _text_item(tag, step, wall, tensor) -> TextItem:
    shape = tuple(d.size for d in tensor.tensor_shape.dim)
    problems = []
    if tensor.dtype == types_pb2.DT_STRING:
        raw = string_values(tensor)
        values = []
        for b in raw:
            try:
                values.append(b.decode("utf-8"))
            except UnicodeDecodeError:
                values.append(b.decode("utf-8", errors="replace"))
                if not problems:
                    problems.append("holds bytes that are not UTF-8 (shown as \ufffd)")
    else:
        arr = tensor_values(tensor)
        values = [] if arr is None else [str(x) for x in arr.tolist()]
        problems.append(f"is a {_dtype_name(tensor.dtype)} tensor, not DT_STRING")
    n = _num_elements(tensor)
    if n is None:
        problems.append(f"has no known shape ({list(shape)}); shown as a list")
        shape = (len(values),)
    elif n != len(values) and not (len(values) == 1 and not shape):
        problems.append(f"has shape {list(shape)} but {len(values)} strings")
        shape = (len(values),)
    return TextItem(tag, step, wall, shape, tuple(values), "; ".join(problems) or None)


def _hparams_item(tag, step, wall, content: bytes) -> HParamsItem:
    try:
        return HParamsItem(tag, step, wall, hparams.decode(content), None)
    except hparams.HParamsDataError as exc:
        return HParamsItem(tag, step, wall, None, str(exc))


def _value_items(value, i, step, wall, plugins, max_images=None) -> list:
    tag = value.tag
    kind = value.WhichOneof("value")
    if value.metadata.plugin_data.plugin_name == hparams.PLUGIN_NAME:  # torch sets no tensor
        return [_hparams_item(tag, step, wall, value.metadata.plugin_data.content)]
    if kind == "simple_value":
        return [ScalarItem(tag, step, wall, value.simple_value)]
    if kind == "image":
        img = value.image
        w, h = img.width, img.height
        if not (w and h):
            w, h = _png_size(img.encoded_image_string)
        return [ImageItem(tag, step, wall, 0, w, h, content_type(img.encoded_image_string), i)]
    if kind == "histo":
        return [_histogram_from_proto(tag, step, wall, value.histo)]
    if kind != "tensor":
        return []
    plugin = value.metadata.plugin_data.plugin_name
    if plugins is not None:
        if plugin:
            plugins[tag] = plugin
        else:
            plugin = plugins.get(tag, "")
    tensor = value.tensor
    if plugin == "scalars":
        arr = tensor_values(tensor)
        if arr is not None and arr.size == 1 and tensor.dtype != types_pb2.DT_BOOL:
            return [ScalarItem(tag, step, wall, float(arr[0]))]
        return []
    if plugin == "images" and tensor.dtype == types_pb2.DT_STRING:
        blobs = string_values(tensor)
        if len(blobs) < 2:
            return []
        w, h = _int_or_zero(blobs[0]), _int_or_zero(blobs[1])
        return [
            ImageItem(tag, step, wall, k, w, h, content_type(blob), i)
            for k, blob in enumerate(blobs[2:] if max_images is None else blobs[2:2 + max_images])
        ]
    if plugin == "histograms":
        item = _histogram_from_tensor(tag, step, wall, tensor)
        return [item] if item is not None else []
    if plugin == "text":
        return [_text_item(tag, step, wall, tensor)]
    return []


def normalize(event: event_pb2.Event, plugins: dict[str, str] | None = None,
              max_images: int | None = None) -> list:
    """Items carried by one Event (see the module docstring); unknown content gives [].
    ``max_images`` caps the images taken from one TF2 image tensor (the first ones)."""
    step, wall = event.step, event.wall_time
    kind = event.WhichOneof("what")
    if kind == "summary":
        items = []
        for i, value in enumerate(event.summary.value):
            items.extend(_value_items(value, i, step, wall, plugins, max_images))
        return items
    if kind == "file_version":
        return [FileVersionItem(event.file_version)]
    if kind == "graph_def":
        return [GraphItem(step, wall, event.graph_def)]
    if kind == "meta_graph_def":
        try:
            meta = meta_graph_pb2.MetaGraphDef.FromString(event.meta_graph_def)
        except (DecodeError, RecursionError, ValueError):
            return []
        if meta.HasField("graph_def"):
            return [GraphItem(step, wall, meta.graph_def.SerializeToString())]
        return []
    if kind == "tagged_run_metadata":
        tagged = event.tagged_run_metadata
        return [RunMetadataItem(step, wall, tagged.tag, tagged.run_metadata)]
    if kind == "session_log" and event.session_log.status == event_pb2.SessionLog.START:
        return [SessionStartItem(step, wall)]
    return []
