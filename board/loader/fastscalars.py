"""Vectorised decoding of plain scalar events — the load hot path (SPEC §8 "load").

Nearly every record of a training logdir is one scalar: the Event that TF1's FileWriter,
tensorboardX, torch.utils.tensorboard and writer.SummaryWriter all serialise as

    09 <wall_time f64>  [10 <step varint>]  2a <n1> 0a <n2> 0a <t> <tag: t bytes> 15 <f32>
    Event.wall_time=1    Event.step=2        summary=5 value=1 tag=1            simple_value=2

(protobuf wire format, fields in number order, every length < 128). `decode` recognises
that exact byte layout for a whole batch of payloads at once with numpy (gathers at computed
offsets, no Python per record) and returns the decoded columns; payloads that differ in any
way (other fields, long tags, images, a missing wall_time, …) are flagged for the general
protobuf path (writer.events). The layout check is strict, so a payload accepted here
decodes to the same (tag, step, wall_time, value) as protobuf would give.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

MIN_LEN = 9 + 2 + 6 + 5  # wall + summary/value/tag headers + simple_value, no step, empty tag
MAX_LEN = 9 + 11 + 6 + 127 + 5
_PAD = 160


class Scalars(NamedTuple):
    ok: np.ndarray  # bool per payload: decoded here
    tag_id: np.ndarray  # per ok payload: index into tags
    tags: list[str]
    step: np.ndarray  # int64, per ok payload
    wall_time: np.ndarray  # float64
    value: np.ndarray  # float64 (from float32)


def decode(payloads: list[bytes]) -> Scalars:
    """Decode every plain scalar event in `payloads`; see the module docstring."""
    n = len(payloads)
    lens = np.fromiter(map(len, payloads), np.int64, count=n)
    buf = np.frombuffer(b"".join(payloads) + bytes(_PAD), np.uint8)
    start = np.cumsum(lens) - lens
    ok = (lens >= MIN_LEN) & (lens <= MAX_LEN)
    ok &= buf[start] == 0x09
    has_step = buf[start + 9] == 0x10
    ok &= has_step | (buf[start + 9] == 0x2A)
    # The step varint (at most 10 bytes) right after its 0x10 key.
    raw = buf[(start + 10)[:, None] + np.arange(10)]
    more = raw >= 0x80
    vlen = np.where(more.all(axis=1), 11, more.argmin(axis=1) + 1)
    ok &= ~has_step | (vlen <= 10)
    k = np.arange(10)
    parts = (raw & 0x7F).astype(np.uint64) << (7 * k).astype(np.uint64)
    step = np.where(k[None, :] < vlen[:, None], parts, 0).sum(axis=1, dtype=np.uint64)
    step = np.where(has_step, step.view(np.int64), 0)
    p = np.where(has_step, start + 10 + np.minimum(vlen, 10), start + 9)
    n1, n2, tlen = buf[p + 1], buf[p + 3], buf[p + 5].astype(np.int64)
    ok &= (buf[p] == 0x2A) & (buf[p + 2] == 0x0A) & (buf[p + 4] == 0x0A)
    ok &= (n1 < 0x80) & (n2 < 0x80) & (tlen < 0x80) & (tlen > 0)
    q = p + 6 + tlen
    ok &= (n2.astype(np.int64) == tlen + 7) & (n1.astype(np.int64) == tlen + 9)
    ok &= (q + 5 == start + lens) & (buf[np.minimum(q, len(buf) - 1)] == 0x15)
    idx = np.flatnonzero(ok)
    if len(idx) == 0:
        empty = np.empty(0)
        return Scalars(ok, empty.astype(np.int64), [], empty.astype(np.int64), empty, empty)
    start, p, q, tlen, step = start[idx], p[idx], q[idx], tlen[idx], step[idx]
    wall = buf[(start + 1)[:, None] + np.arange(8)].copy().view("<f8").ravel()
    value = buf[(q + 1)[:, None] + np.arange(4)].copy().view("<f4").ravel().astype(np.float64)
    tag_id, tags, bad = _tags(buf, p + 6, tlen)
    if bad is not None:  # undecodable (non-UTF-8) tags: protobuf rejects those events
        ok[idx[bad]] = False
        keep = ~bad
        tag_id, step, wall, value = tag_id[keep], step[keep], wall[keep], value[keep]
        tag_id, tags = _compact(tag_id, tags)
    return Scalars(ok, tag_id, tags, step, wall, value)


def _tags(buf: np.ndarray, at: np.ndarray, tlen: np.ndarray):
    """Group tag byte strings: (tag_id per row, tag strings, rows with invalid UTF-8)."""
    width = int(tlen.max())
    cols = np.arange(width)
    grid = buf[at[:, None] + cols]
    grid = np.where(cols[None, :] < tlen[:, None], grid, 0).astype(np.uint8)
    keyed = np.concatenate([tlen[:, None].astype(np.uint8), grid], axis=1)
    key = np.ascontiguousarray(keyed).view(np.dtype((np.void, width + 1))).ravel()
    # Consecutive rows usually cycle over a few tags: unique over a hash is cheap, and a
    # byte-for-byte comparison then proves every row equals its group's representative.
    weights = (np.arange(width + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)) \
        | np.uint64(1)
    hashed = (keyed.astype(np.uint64) * weights).sum(axis=1, dtype=np.uint64)
    uniq, first, inverse = np.unique(hashed, return_index=True, return_inverse=True)
    if not np.array_equal(key, key[first][inverse]):
        uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    tags: list[str | None] = []
    for row in first:
        raw = bytes(grid[row, : tlen[row]])
        try:
            tags.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            tags.append(None)
    inverse = inverse.ravel().astype(np.int64)
    invalid = [i for i, t in enumerate(tags) if t is None]
    bad = np.isin(inverse, invalid) if invalid else None
    return inverse, tags, bad


def _compact(tag_id: np.ndarray, tags: list):
    used = np.unique(tag_id)
    remap = np.full(len(tags), -1, np.int64)
    remap[used] = np.arange(len(used))
    return remap[tag_id], [tags[i] for i in used]
