"""Plain scalar events: the one encoder and the one batch decoder of their wire format.

Nearly every record of a training logdir is one scalar: the Event that TF1's FileWriter,
tensorboardX, torch.utils.tensorboard and writer.SummaryWriter all serialise as::

    09 <wall_time f64>  [10 <step varint>]  2a <n1> 0a <n2> 0a <t> <tag: t bytes> 15 <f32>
    Event.wall_time=1    Event.step=2        summary=5 value=1 tag=1            simple_value=2

(protobuf wire format, fields in number order; formats.md §2). :func:`encode_scalar_event`
writes exactly these bytes (``SummaryWriter.add_scalar`` builds them without protobuf; a test
compares the two). :func:`decode_scalar_events` reads a whole batch of them at once, straight
from a file buffer and the record positions :func:`writer.record.frame` found: gathers at
computed offsets, no Python object per record. A payload that differs in any way (other
fields, a tag of 128 bytes or more, images, a missing wall_time, …) is flagged for the general
protobuf path (:mod:`writer.events`). The layout check is strict, so a payload accepted here
decodes to the same (tag, step, wall_time, value) as protobuf would give.
"""

from __future__ import annotations

import numbers
import struct
import time
from typing import NamedTuple

import numpy as np

from writer import summary as summary_lib

__all__ = ["encode_scalar_event", "decode_scalar_events", "Scalars"]

WALL = struct.Struct("<Bd")  # field 1 (wall_time), wire type 1: tag byte 0x09
F32 = struct.Struct("<f")
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
SMALL_STEPS = [b"" if s == 0 else bytes((0x10, s)) for s in range(128)]


def varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def step_field(step) -> bytes:
    """Event.step (field 2, varint) bytes; b"" for 0, as proto3 omits defaults."""
    if type(step) is int and 0 <= step < 128:
        return SMALL_STEPS[step]
    if isinstance(step, bool) or not isinstance(step, numbers.Integral):
        if isinstance(step, float) and step.is_integer():
            step = int(step)
        elif hasattr(step, "item") and getattr(step, "ndim", 0) == 0:
            return step_field(step.item())
        else:
            raise TypeError(f"step must be an integer, got {step!r}")
    step = int(step)
    if not _INT64_MIN <= step <= _INT64_MAX:
        raise ValueError(f"step {step} does not fit in int64")
    return b"" if step == 0 else b"\x10" + varint(step & 0xFFFFFFFFFFFFFFFF)


def wall_field(walltime) -> bytes:
    if walltime is None:
        return WALL.pack(9, time.time())
    try:
        wall = float(walltime)
    except (TypeError, ValueError):
        raise TypeError(f"walltime must be seconds since the epoch (a float), got {walltime!r}") from None
    if wall == 0.0 and struct.pack("<d", wall) == bytes(8):
        return b""  # proto3 omits a default 0.0
    return WALL.pack(9, wall)


def scalar_prefix(tag: str) -> bytes:
    """Bytes of ``summary{value{tag: <tag>, simple_value: `` up to the 4 float bytes."""
    tag_bytes = tag.encode("utf-8")
    value_len = 1 + len(varint(len(tag_bytes))) + len(tag_bytes) + 5
    summary_len = 1 + len(varint(value_len)) + value_len
    return b"".join((
        b"\x2a", varint(summary_len),
        b"\x0a", varint(value_len),
        b"\x0a", varint(len(tag_bytes)), tag_bytes,
        b"\x15",
    ))


def float32_bytes(tag: str, value) -> bytes:
    """Little-endian float32 of ``value``, rounding like protobuf (overflow becomes inf)."""
    v = summary_lib.scalar_value(tag, value)
    try:
        return F32.pack(v)
    except OverflowError:
        return F32.pack(float("inf") if v > 0 else float("-inf"))


def encode_scalar_event(tag: str, value, step=0, walltime=None) -> bytes:
    """Serialized ``Event{wall_time, step, summary{value{tag, simple_value}}}``."""
    summary_lib.check_tag(tag)
    return wall_field(walltime) + step_field(step) + scalar_prefix(tag) + float32_bytes(tag, value)


# -- the batch decoder ---------------------------------------------------------------------

MIN_LEN = 9 + 6 + 1 + 5  # wall, summary/value/tag headers, a 1-byte tag, simple_value; no step
MAX_LEN = 9 + 11 + 6 + 127 + 5
_LOW7 = np.uint64(0x7F)


class Scalars(NamedTuple):
    ok: np.ndarray  # bool per payload: decoded here
    tag_id: np.ndarray  # per ok payload: index into tags
    tags: list[str]
    step: np.ndarray  # int64, per ok payload
    wall_time: np.ndarray  # float64
    value: np.ndarray  # float64 (from float32)


def _view(buf: np.ndarray, dtype: str) -> np.ndarray:
    """``view[i]`` = the little-endian ``dtype`` value at byte i (unaligned, no copy)."""
    size = np.dtype(dtype).itemsize
    n = max(len(buf) - size + 1, 0)
    return np.ndarray((n,), dtype, buf, 0, (1,)) if n else np.empty(0, dtype)


def decode_scalar_events(buf, starts=None, lengths=None) -> Scalars:
    """Decode every plain scalar event among the payloads ``buf[s:s + n]``.

    ``buf`` is a 1-D ``uint8`` array (a file window) with ``starts``/``lengths`` arrays, or a
    list of payloads (``bytes``), which is joined first. ``Scalars.ok`` flags, per payload, the
    ones decoded here; the columns hold those, in order.
    """
    if starts is None:
        payloads = list(buf)
        lengths = np.fromiter(map(len, payloads), np.int64, count=len(payloads))
        starts = np.cumsum(lengths) - lengths
        buf = np.frombuffer(b"".join(payloads), np.uint8)
    starts = np.asarray(starts, np.int64)
    lengths = np.asarray(lengths, np.int64)
    ok = (lengths >= MIN_LEN) & (lengths <= MAX_LEN)
    if len(buf) == 0 or not ok.any():
        return _empty(ok)
    idx = np.flatnonzero(ok)
    start, end = starts[idx], starts[idx] + lengths[idx]  # every byte read is < end
    good = buf[start] == 0x09
    p = start + 9
    has_step = buf[p] == 0x10
    step = np.zeros(len(idx), np.uint64)
    # The step varint (at most 10 bytes) after its 0x10 key, a byte at a time for the rows
    # still going: steps below 2**21 take three passes.
    going = np.flatnonzero(has_step)
    p[going] += 1
    for k in range(10):
        if not len(going):
            break
        byte = buf[p[going]]
        step[going] |= (byte.astype(np.uint64) & _LOW7) << np.uint64(7 * k)
        p[going] += 1
        going = going[byte >= 0x80]
    good[going] = False  # a varint longer than 10 bytes
    good &= has_step | (buf[p] == 0x2A)
    tlen = buf[p + 5].astype(np.int64)
    good &= (buf[p] == 0x2A) & (buf[p + 2] == 0x0A) & (buf[p + 4] == 0x0A)
    good &= (tlen > 0) & (tlen < 0x80)
    good &= (buf[p + 1].astype(np.int64) == tlen + 9) & (buf[p + 3].astype(np.int64) == tlen + 7)
    q = p + 6 + tlen  # the simple_value key
    good &= q + 5 == end
    good &= buf[np.minimum(q, end - 1)] == 0x15
    keep = np.flatnonzero(good)
    if not len(keep):
        return _empty(np.zeros(len(ok), bool))
    ok[:] = False
    ok[idx[keep]] = True
    start, p, q, tlen = start[keep], p[keep], q[keep], tlen[keep]
    wall = _view(buf, "<f8")[start + 1]
    value = _view(buf, "<f4")[q + 1].astype(np.float64)
    tag_id, tags, bad = _tags(buf, p + 6, tlen)
    step = step[keep].view(np.int64)
    if bad is not None:  # undecodable (non-UTF-8) tags: protobuf rejects those events
        ok[idx[keep[bad]]] = False
        good_rows = ~bad
        tag_id, step, wall, value = tag_id[good_rows], step[good_rows], wall[good_rows], \
            value[good_rows]
        tag_id, tags = _compact(tag_id, tags)
    return Scalars(ok, tag_id, tags, step, wall, value)


def _empty(ok: np.ndarray) -> Scalars:
    ok = np.zeros(len(ok), bool)
    return Scalars(ok, np.empty(0, np.int64), [], np.empty(0, np.int64), np.empty(0),
                   np.empty(0))


_TAIL_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [(1 << 64) - 1], np.uint64)
_MIX = np.uint64(0x9E3779B97F4A7C15)


def _tags(buf: np.ndarray, at: np.ndarray, tlen: np.ndarray):
    """Group tag byte strings: (tag_id per row, tag strings, rows with invalid UTF-8 or None).

    Each tag is read as 8-byte words (the bytes past its end masked off); rows are grouped by
    a hash of the words, and the words of every row are then compared with those of its
    group's first row, so the grouping is exact (a hash collision falls back to a sort of
    the words themselves).
    """
    words8 = _view(buf, "<u8")
    last = len(words8) - 1
    nwords = (int(tlen.max()) + 7) // 8
    words = np.empty((len(at), nwords + 1), np.uint64)
    words[:, 0] = tlen.astype(np.uint64)
    hashed = words[:, 0] * _MIX
    for w in range(nwords):
        # a word that would run past the buffer is read from earlier and shifted into place
        pos = at + 8 * w
        room = np.clip(tlen - 8 * w, 0, 8)
        back = np.maximum(pos + 8 - (last + 8), 0)
        word = words8[np.minimum(pos, last)] >> (np.minimum(back, 7).astype(np.uint64) * 8)
        words[:, w + 1] = word & _TAIL_MASKS[room]
        hashed = (hashed ^ words[:, w + 1]) * _MIX
    first, inverse = _group(hashed)
    if not np.array_equal(words, words[first][inverse]):
        keyed = np.ascontiguousarray(words).view(np.dtype((np.void, words.itemsize * (nwords + 1))))
        _, first, inverse = np.unique(keyed.ravel(), return_index=True, return_inverse=True)
    tags: list[str | None] = []
    for row in first.tolist():
        raw = buf[at[row] : at[row] + tlen[row]].tobytes()
        try:
            tags.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            tags.append(None)
    inverse = inverse.ravel().astype(np.int64)
    invalid = [i for i, t in enumerate(tags) if t is None]
    bad = np.isin(inverse, invalid) if invalid else None
    return inverse, tags, bad


def _group(hashed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first row of each distinct value, group index per row) — tags repeat in cycles, so
    the distinct values of the first rows usually cover all and a search replaces a sort."""
    head = hashed[:4096]
    uniq, first = np.unique(head, return_index=True)
    at = np.minimum(np.searchsorted(uniq, hashed), len(uniq) - 1)
    if np.array_equal(uniq[at], hashed):
        return first, at
    uniq, first, inverse = np.unique(hashed, return_index=True, return_inverse=True)
    return first, inverse


def _compact(tag_id: np.ndarray, tags: list):
    used = np.unique(tag_id)
    remap = np.full(len(tags), -1, np.int64)
    remap[used] = np.arange(len(used))
    return remap[tag_id], [tags[i] for i in used]
