"""Turn records of one run into store updates (SPEC §5 "Loading").

Records come from `writer.event_file.RecordTail`. Long stretches of plain scalar events
(nearly all of a training logdir) are decoded at once by
`writer.scalar_events.decode_scalar_events` with numpy; the rest
are decoded one by one by `writer.events.parse_event` (protobuf's upb C parser) and
normalised by `writer.events.normalize`, then appended to per-tag Python lists. Either way,
the store's numpy columns grow once per batch, in file order.

Restart purge follows TensorBoard's EventAccumulator._MaybePurgeOrphanedData:
- file_version >= 2 ("brain.Event:2"): a SessionLog.START at step s drops every point of
  the run with step >= s;
- older or unversioned files: a summary event whose step is below the run's most recent
  summary step drops, in the tags of that event, every point with step >= its step.
"""

from __future__ import annotations

import logging

import numpy as np

from writer.events import (
    EventParseError,
    FileVersionItem,
    GraphItem,
    HistogramItem,
    ImageItem,
    ScalarItem,
    SessionStartItem,
    normalize,
    parse_event,
)
from writer.scalar_events import decode_scalar_events

from ..store import ImageSample, ImageStep, RunData, ScalarSeries, Store

log = logging.getLogger("board.loader")


class RunState:
    """Reader-side state of one run that outlives a batch (TensorBoard keeps it per run)."""

    __slots__ = ("name", "file_version", "most_recent_step", "plugins", "graph_from_meta")

    def __init__(self, name: str) -> None:
        self.name = name
        self.file_version: float | None = None
        self.most_recent_step = -1
        self.plugins: dict[str, str] = {}  # tag -> plugin (TF1 sets metadata once per tag)
        self.graph_from_meta = False


def _version_number(version: str) -> float | None:
    """'brain.Event:2' -> 2.0; anything unparseable -> None (TensorBoard does the same)."""
    try:
        return float(version.rsplit(":", 1)[-1])
    except ValueError:
        return None


def file_version_of(data: bytes, default: float | None) -> float | None:
    """The version a file_version record announces, or `default` for any other record."""
    try:
        event = parse_event(data)
    except EventParseError:
        return default
    if event.WhichOneof("what") == "file_version":
        return _version_number(event.file_version)
    return default


class Batch:
    """Pending updates for one run, applied to the store in one locked step."""

    def __init__(self) -> None:
        self.scalars: dict[str, tuple[list, list, list]] = {}
        self.images: dict[str, dict[int, ImageStep]] = {}
        self.histograms: dict[str, dict[int, HistogramItem]] = {}
        self.graph: bytes | None = None
        self.graph_step = 0
        self.corrupt = 0
        self.last_wall_time: float | None = None

    def empty(self) -> bool:
        return not (self.scalars or self.images or self.histograms or self.graph or self.corrupt)


def apply_batch(store: Store, run: str, batch: Batch) -> None:
    """Move a batch into the store and announce what changed. Takes the store lock."""
    if batch.empty():
        return
    with store.lock:
        data = store.run(run)
        for tag, (steps, walls, values) in batch.scalars.items():
            series = data.scalars.get(tag)
            if series is None:
                series = data.scalars[tag] = ScalarSeries()
            series.extend(steps, walls, values)
            store.note_change(run, "scalars", tag, steps[-1])
        for tag, steps in batch.images.items():
            data.images.setdefault(tag, {}).update(steps)
            store.note_change(run, "images", tag, max(steps))
        for tag, steps in batch.histograms.items():
            data.histograms.setdefault(tag, {}).update(steps)
            store.note_change(run, "histograms", tag, max(steps))
        if batch.graph is not None:
            data.graph = batch.graph
            data.graph_version += 1
            store.note_change(run, "graphs", "", batch.graph_step)
        if batch.corrupt:
            data.corrupt_records += batch.corrupt
            store.version += 1
        if batch.last_wall_time is not None:
            data.last_wall_time = max(data.last_wall_time or 0.0, batch.last_wall_time)
        if not (batch.scalars or batch.images or batch.histograms or batch.graph):
            store.note_change(run, "runs", "", 0)


def _purge(store: Store, run: str, batch: Batch, step: int, tags: set[str] | None) -> Batch:
    """Apply what is pending, then drop data with step >= `step`. Returns a fresh batch."""
    apply_batch(store, run, batch)
    with store.lock:
        data: RunData = store.run(run)
        dropped = data.purge_from(step, tags)
        store.note_change(run, "runs", "", step)
    where = "all tags" if tags is None else ", ".join(sorted(tags))
    log.info("run %r: restart at step %d purged %d points (%s)", run, step, dropped, where)
    return Batch()


FAST_MIN_RUN = 32  # shorter stretches of plain scalars are not worth a numpy pass


def ingest(store: Store, state: RunState, path: str, records) -> None:
    """Decode `records` (writer.record.Record list) read from `path` into the store.

    Stretches of plain scalar events go through the vectorised decoder (writer.scalar_events);
    everything else, in order, through the protobuf path.
    """
    if len(records) < FAST_MIN_RUN:
        return _ingest_slow(store, state, path, records)
    ingest_mixed(store, state, path, decode_scalar_events([r.data for r in records]), records)


def ingest_mixed(store: Store, state: RunState, path: str, fast, records=None,
                 slow=None) -> None:
    """Apply a decode_scalar_events result in file order, interleaved with the other records.

    Either `records` (every record, in order) or `slow` (only the records that fast
    refused, in order — what parallel.decode_window returns) is given. Without
    `records`, short stretches of scalars cannot be sent to the protobuf path, and a legacy
    out-of-order purge could not be replayed: callers use `slow` only for files whose
    file_version is >= 2.
    """
    ok = fast.ok
    bounds = [0, *(np.flatnonzero(np.diff(ok.astype(np.int8))) + 1).tolist(), len(ok)]
    slow_iter = iter(slow if slow is not None else ())
    row = 0  # position in fast's columns (which hold only the ok payloads)
    pending: list = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        if ok[a] and (b - a >= FAST_MIN_RUN or records is None):
            if pending:
                _ingest_slow(store, state, path, pending)
                pending = []
            _ingest_fast(store, state, path, fast, row, row + b - a,
                         records[a:b] if records is not None else None)
        elif records is not None:
            pending.extend(records[a:b])
        else:
            pending.extend(next(slow_iter) for _ in range(b - a))
        if ok[a]:
            row += b - a
    if pending:
        _ingest_slow(store, state, path, pending)


def _ingest_fast(store: Store, state: RunState, path: str, fast, lo: int, hi: int,
                 records) -> None:
    """Store rows lo:hi of a decode_scalar_events result (all plain scalar events, in file order)."""
    steps = fast.step[lo:hi]
    if (state.file_version or 0) < 2 and records is not None:
        prev = np.concatenate(([state.most_recent_step], steps[:-1]))
        if (steps < prev).any():  # a legacy out-of-order purge: the careful path
            return _ingest_slow(store, state, path, records)
    state.most_recent_step = int(steps[-1])
    walls, values, tag_id = fast.wall_time[lo:hi], fast.value[lo:hi], fast.tag_id[lo:hi]
    order = np.argsort(tag_id, kind="stable")
    cuts = np.flatnonzero(np.diff(tag_id[order])) + 1
    batch = Batch()
    for group in np.split(order, cuts):
        tag = fast.tags[int(tag_id[group[0]])]
        batch.scalars[tag] = (steps[group], walls[group], values[group])
    batch.last_wall_time = float(walls.max())
    apply_batch(store, state.name, batch)


def _ingest_slow(store: Store, state: RunState, path: str, records) -> None:
    """Decode records one by one with protobuf (writer.events) and apply them in order."""
    run = state.name
    batch = Batch()
    scalars = batch.scalars
    for rec in records:
        try:
            event = parse_event(rec.data)
            items = normalize(event, state.plugins)
        except Exception as exc:  # EventParseError is the contract; any other
            # failure on one record's bytes must cost that record only, never the batch.
            batch.corrupt += 1
            log.warning("run %r: skipped undecodable record at %s:%d (%s)", run, path,
                        rec.offset, exc)
            continue
        step = event.step
        for item in items:
            kind = type(item)
            if kind is FileVersionItem:
                state.file_version = _version_number(item.version)
            elif kind is SessionStartItem and (state.file_version or 0) >= 2:
                batch = _purge(store, run, batch, item.step, None)
                scalars = batch.scalars
        if event.HasField("summary"):
            if (state.file_version or 0) < 2 and step < state.most_recent_step:
                batch = _purge(store, run, batch, step, {v.tag for v in event.summary.value})
                scalars = batch.scalars
            state.most_recent_step = step
        for item in items:
            kind = type(item)
            if kind is ScalarItem:
                cols = scalars.get(item.tag)
                if cols is None:
                    cols = scalars[item.tag] = ([], [], [])
                cols[0].append(item.step)
                cols[1].append(item.wall_time)
                cols[2].append(item.value)
            elif kind is ImageItem:
                sample = ImageSample(item.index, item.width, item.height, item.content_type,
                                     path, rec.offset, item.value_index)
                by_step = batch.images.setdefault(item.tag, {})
                prev = by_step.get(item.step)
                # Samples of one event accumulate; a later event at the same step replaces.
                same_event = prev is not None and prev.samples[0].offset == rec.offset \
                    and prev.samples[0].path == path
                samples = (prev.samples if same_event else ()) + (sample,)
                by_step[item.step] = ImageStep(item.step, item.wall_time, samples)
            elif kind is HistogramItem:
                batch.histograms.setdefault(item.tag, {})[item.step] = item
            elif kind is GraphItem:
                # As TensorBoard: a graph_def wins over the graph inside a meta_graph_def.
                from_meta = event.HasField("meta_graph_def")
                if not from_meta or state.graph_from_meta or batch.graph is None and \
                        not _has_graph(store, run):
                    batch.graph = item.graph_def
                    batch.graph_step = item.step
                    state.graph_from_meta = from_meta
        if event.wall_time:
            batch.last_wall_time = event.wall_time
    apply_batch(store, run, batch)



def _has_graph(store: Store, run: str) -> bool:
    with store.lock:
        data = store.runs.get(run)
        return data is not None and data.graph is not None
