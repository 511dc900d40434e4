"""Pure builders of ``Summary`` protos (formats.md §3, §4; TF1 semantics tf1-semantics.md §8).

- :func:`scalar` — one ``Value{tag, simple_value}`` (the legacy form every reader accepts).
- :func:`image` — a batch; keeps the **last** ``max_images`` images, tags ``tag/image/i``
  when ``max_images > 1`` else ``tag/image``; float images scaled per image as TF's
  ``ImageSummary`` kernel does, uint8 as is; PNG-encoded with Pillow.
- :func:`image_one` — one image under exactly ``tag`` (as ``torch.utils.tensorboard``).
- :func:`histogram` — ``HistogramProto`` with TF's default bucket layout (``histogram.cc``).
- :func:`text` — a DT_STRING tensor of any rank under plugin ``text`` (TF2's
  ``tf.summary.text``; its metadata is ``TextPluginData`` version 0, empty bytes).

Nothing here does I/O; the results go to :class:`writer.SummaryWriter.add_summary`.
"""

from __future__ import annotations

import io
import numbers
import sys

import numpy as np
from PIL import Image

from writer.proto import histogram_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2

__all__ = ["scalar", "image", "image_one", "histogram", "text", "default_bucket_limits",
           "to_uint8"]

_DBL_MAX = sys.float_info.max
_FORMATS_BATCH = {"NHWC": (0, 1, 2, 3), "NCHW": (0, 2, 3, 1), "NHW": None}
_FORMATS_ONE = {"HWC": (0, 1, 2), "CHW": (1, 2, 0), "HW": None}
_BAD_COLOR = np.array([255, 0, 0, 255], dtype=np.uint8)


def check_tag(tag) -> str:
    if not isinstance(tag, str) or not tag:
        raise TypeError(f"a summary tag must be a non-empty str, got {tag!r}")
    try:
        tag.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"summary tag {tag!r} is not valid text (it holds a lone surrogate)") from None
    return tag


def scalar_value(tag: str, value) -> float:
    """``value`` as a Python float: numbers, numpy/torch scalars or one-element arrays."""
    if isinstance(value, numbers.Real):  # bools too: True is logged as 1.0
        try:
            return float(value)
        except OverflowError:
            raise ValueError(f"scalar {tag!r}: value {value!r} is too large for a float") from None
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"scalar {tag!r}: value must be a real number, got {value!r}")
    if isinstance(value, (list, tuple)):
        value = np.asarray(value)
    size = getattr(value, "size", None)
    if callable(size):  # torch.Tensor.size() is a method; numel() is the count
        size = value.numel() if hasattr(value, "numel") else None
    if size is not None and size != 1:
        shape = tuple(getattr(value, "shape", ()))
        raise ValueError(
            f"scalar {tag!r}: value must be a single number, got an array of shape {shape}; "
            "log one element (e.g. value.mean()) or use add_histogram for many values"
        )
    try:
        item = value.item() if hasattr(value, "item") else value
        if isinstance(item, complex):
            raise TypeError
        return float(item)
    except (TypeError, ValueError):
        raise TypeError(f"scalar {tag!r}: value must be a real number, got {value!r}") from None


def scalar(tag: str, value) -> summary_pb2.Summary:
    """``Summary{value: [{tag, simple_value: float32(value)}]}``."""
    check_tag(tag)
    v = scalar_value(tag, value)
    return summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=v)])


# -- images ---------------------------------------------------------------------------------


def _as_array(tag: str, data) -> np.ndarray:
    if hasattr(data, "detach"):  # a torch tensor
        data = data.detach().cpu().numpy()
    elif hasattr(data, "numpy") and not isinstance(data, np.ndarray):  # a TF eager tensor
        data = data.numpy()
    try:
        arr = np.asarray(data)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"image {tag!r}: cannot make an array of {type(data).__name__}: {exc}") from None
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise TypeError(f"image {tag!r}: pixel values must be numbers, got dtype {arr.dtype}")
    return arr


def _layout(tag: str, arr: np.ndarray, dataformats: str, table: dict) -> np.ndarray:
    fmt = dataformats.upper() if isinstance(dataformats, str) else dataformats
    if fmt not in table:
        raise ValueError(
            f"image {tag!r}: dataformats must be one of {sorted(table)}, got {dataformats!r}"
        )
    if arr.ndim != len(fmt):
        raise ValueError(
            f"image {tag!r}: dataformats {fmt!r} needs a {len(fmt)}-D array, got shape {arr.shape}"
        )
    order = table[fmt]
    arr = arr[..., np.newaxis] if order is None else arr.transpose(order)
    if arr.shape[-1] not in (1, 3, 4):
        raise ValueError(
            f"image {tag!r}: images need 1, 3 or 4 channels, got {arr.shape[-1]} "
            f"(shape {arr.shape} in {fmt}); is dataformats right?"
        )
    if arr.shape[-2] == 0 or arr.shape[-3] == 0:
        raise ValueError(f"image {tag!r}: images must have non-zero height and width, got {arr.shape}")
    return arr


def to_uint8(tag: str, img: np.ndarray) -> np.ndarray:
    """One HWC image as uint8, the way TF's ImageSummary kernel converts it.

    uint8 passes through. Floats are scaled per image: with min/max over the pixels whose
    channels are all finite, ``[0, max]`` maps to ``[0, 255]`` (scale 255/max) or, if any value
    is negative, ``[-m, m]`` to ``[1, 255]`` (scale 127/m, offset 128), with the product
    truncated; pixels with a non-finite channel become opaque red. Integers already in
    0..255 pass through.
    """
    kind = img.dtype.kind
    if img.dtype == np.uint8:
        return img
    if kind in "iub":
        if img.size and (img.min() < 0 or img.max() > 255):
            raise ValueError(
                f"image {tag!r}: integer pixels must lie in 0..255, got {img.min()}..{img.max()}; "
                "pass uint8 or floats"
            )
        return img.astype(np.uint8)
    if img.dtype not in (np.float16, np.float32, np.float64):
        img = img.astype(np.float64)
    t = img.dtype.type
    finite = np.isfinite(img).all(axis=-1)
    good = img[finite]
    lo = np.float32(good.min()) if good.size else np.float32(np.inf)
    hi = np.float32(good.max()) if good.size else np.float32(-np.inf)
    if lo < 0:
        m = max(abs(lo), abs(hi))
        scale, offset = (np.float32(0) if m < 1e-6 else np.float32(127) / m), np.float32(128)
    else:
        scale, offset = (np.float32(0) if hi < 1e-6 else np.float32(255) / hi), np.float32(0)
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = img * t(scale) + t(offset)
        out = np.clip(np.nan_to_num(scaled, nan=0.0), 0, 255).astype(np.uint8)
    if not finite.all():
        out[~finite] = _BAD_COLOR[: img.shape[-1]]
    return out


def encode_png(img: np.ndarray) -> bytes:
    """PNG bytes of an HWC uint8 image with 1, 3 or 4 channels."""
    channels = img.shape[-1]
    mode = {1: "L", 3: "RGB", 4: "RGBA"}[channels]
    pixels = img[..., 0] if channels == 1 else img
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels), mode=mode).save(out, format="PNG", compress_level=1)
    return out.getvalue()


def _image_value(tag: str, img: np.ndarray, value_tag: str) -> summary_pb2.Summary.Value:
    pixels = to_uint8(tag, img)
    h, w, c = pixels.shape
    return summary_pb2.Summary.Value(
        tag=value_tag,
        image=summary_pb2.Summary.Image(
            height=h, width=w, colorspace=c, encoded_image_string=encode_png(pixels)
        ),
    )


def image(tag: str, batch, max_images: int = 3, dataformats: str = "NHWC") -> summary_pb2.Summary:
    """One ``Summary.Value`` per kept image: the **last** ``max_images`` of the batch.

    Tags are ``tag/image/0..n-1`` when ``max_images > 1``, else ``tag/image`` (TF1's naming,
    decided by ``max_images`` and not by how many images the batch has).
    """
    check_tag(tag)
    if isinstance(max_images, bool) or not isinstance(max_images, numbers.Integral) or max_images < 1:
        raise ValueError(f"image {tag!r}: max_images must be an int >= 1, got {max_images!r}")
    arr = _layout(tag, _as_array(tag, batch), dataformats, _FORMATS_BATCH)
    kept = arr[-int(max_images):] if len(arr) else arr
    values = [
        _image_value(tag, img, f"{tag}/image/{i}" if max_images > 1 else f"{tag}/image")
        for i, img in enumerate(kept)
    ]
    return summary_pb2.Summary(value=values)


def image_one(tag: str, img, dataformats: str = "HWC") -> summary_pb2.Summary:
    """One image under exactly ``tag`` (``torch.utils.tensorboard`` ``add_image`` naming)."""
    check_tag(tag)
    arr = _layout(tag, _as_array(tag, img), dataformats, _FORMATS_ONE)
    return summary_pb2.Summary(value=[_image_value(tag, arr, tag)])


# -- histograms ------------------------------------------------------------------------------


def _default_limits() -> np.ndarray:
    # TF histogram.cc InitDefaultBuckets: +-1e-12 growing by 10% up to 1e20, then +-DBL_MAX,
    # with 0 in the middle.
    pos = []
    v = 1.0e-12
    while v < 1.0e20:
        pos.append(v)
        v *= 1.1
    pos.append(_DBL_MAX)
    neg = [-x for x in reversed(pos)]
    return np.array(neg + [0.0] + pos, dtype=np.float64)


_DEFAULT_LIMITS = _default_limits()


def default_bucket_limits() -> list[float]:
    """TF's default histogram bucket right edges (1551 of them)."""
    return _DEFAULT_LIMITS.tolist()


def _values_array(tag: str, values) -> np.ndarray:
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    try:
        arr = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError) as exc:
        raise TypeError(f"histogram {tag!r}: values must be numbers: {exc}") from None
    if not np.isfinite(arr).all():
        bad = arr[~np.isfinite(arr)][0]
        raise ValueError(
            f"histogram {tag!r}: values contain {bad!r} (NaN or infinity); TensorFlow rejects "
            "these too ('Nan in summary histogram'). Filter them out first"
        )
    return arr


def histogram(tag: str, values, bins=None) -> summary_pb2.Summary:
    """``Summary.Value{tag, histo}`` over ``values`` (any shape, flattened).

    ``bins=None`` (or ``"tensorflow"``) uses TF's default exponential buckets, counting each
    value in the first bucket whose limit is strictly greater (``std::upper_bound``) and
    collapsing each run of empty buckets into its last one, exactly as ``Histogram::
    EncodeToProto``. An int or a sequence of edges uses ``numpy.histogram`` instead.
    """
    check_tag(tag)
    arr = _values_array(tag, values)
    proto = histogram_pb2.HistogramProto()
    if arr.size:
        proto.min = float(arr.min())
        proto.max = float(arr.max())
        proto.num = float(arr.size)
        proto.sum = float(np.cumsum(arr)[-1])  # sequential, as TF adds
        proto.sum_squares = float(np.cumsum(arr * arr)[-1])
    else:
        proto.min, proto.max = _DBL_MAX, -_DBL_MAX
    if bins is None or (isinstance(bins, str) and bins == "tensorflow"):
        limits, counts = _tf_buckets(arr)
    else:
        try:
            counts, edges = np.histogram(arr, bins=bins)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"histogram {tag!r}: bad bins {bins!r}: {exc}") from None
        limits, counts = edges[1:].tolist(), counts.astype(np.float64).tolist()
    proto.bucket_limit.extend(limits)
    proto.bucket.extend(counts)
    return summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, histo=proto)])


def _tf_buckets(arr: np.ndarray) -> tuple[list[float], list[float]]:
    counts = np.bincount(
        np.searchsorted(_DEFAULT_LIMITS, arr, side="right").clip(max=len(_DEFAULT_LIMITS) - 1),
        minlength=len(_DEFAULT_LIMITS),
    ).astype(np.float64)
    nonzero = np.flatnonzero(counts)
    limits, out = [], []
    prev = -1
    for i in nonzero:
        if i - prev > 1:  # a run of empty buckets prev+1 .. i-1 collapses into its last one
            limits.append(float(_DEFAULT_LIMITS[i - 1]))
            out.append(0.0)
        limits.append(float(_DEFAULT_LIMITS[i]))
        out.append(float(counts[i]))
        prev = i
    if prev < len(_DEFAULT_LIMITS) - 1:
        limits.append(float(_DEFAULT_LIMITS[-1]))
        out.append(0.0)
    return limits, out


# -- text -------------------------------------------------------------------------------------

_TEXT_METADATA = summary_pb2.SummaryMetadata(
    plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="text"))


def _text_bytes(tag: str, item) -> bytes:
    if isinstance(item, bytes):
        return item
    if isinstance(item, (str, np.str_)):
        try:
            return str(item).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"text {tag!r}: {item!r} is not valid text (a lone surrogate)") from None
    raise TypeError(f"text {tag!r}: every element must be a str (or bytes), got {item!r}")


def text(tag: str, data) -> summary_pb2.Summary:
    """``Value{tag, tensor: DT_STRING}`` under plugin ``text``: a str (rank 0) or a nested
    list / numpy array of str of any rank (TensorBoard shows rank 1 and 2 as tables).
    Strings are Markdown to TensorBoard and numboard."""
    check_tag(tag)
    if hasattr(data, "numpy") and not isinstance(data, np.ndarray):  # a TF eager tensor
        data = data.numpy()
    if isinstance(data, (str, bytes)):
        shape, flat = (), [data]
    else:
        arr = np.asarray(data, dtype=object)
        shape, flat = arr.shape, arr.ravel().tolist()
    tensor = tensor_pb2.TensorProto(
        dtype=types_pb2.DT_STRING,
        tensor_shape=tensor_shape_pb2.TensorShapeProto(
            dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=n) for n in shape]),
        string_val=[_text_bytes(tag, item) for item in flat],
    )
    return summary_pb2.Summary(value=[summary_pb2.Summary.Value(
        tag=tag, tensor=tensor, metadata=_TEXT_METADATA)])
