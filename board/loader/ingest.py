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
The rule for restarts without SessionLog.START across files (tensorboardX, torch) lives in
`board.store` (`ScalarSeries.extend`), with the rest of the purge rules.

An image value keeps at most MAX_IMAGE_SAMPLES samples (normalize stops there; the rest are
only counted, in the run's `dropped_image_samples`), so a record of any number of images costs
little more than its parsing.
"""

from __future__ import annotations

import logging
import os

import numpy as np

from writer.events import (
    EventParseError,
    FileVersionItem,
    GraphItem,
    HistogramItem,
    HParamsItem,
    ImageItem,
    RunMetadataItem,
    ScalarItem,
    SessionStartItem,
    TextItem,
    normalize,
    parse_event,
    string_values,
)
from writer.scalar_events import decode_scalar_events

from ..run_metadata import summarize
from ..store import HistogramStep, ImageSample, ImageStep, Store, Update

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


MAX_IMAGE_SAMPLES = 1000  # images kept per image value; the rest are counted, not indexed


def _histogram(item: HistogramItem, path: str) -> HistogramStep:
    """A stored histogram row: bucket edges and counts as float64 arrays."""
    return HistogramStep(item.step, item.wall_time, item.min, item.max, item.num, item.sum,
                         item.sum_squares, np.asarray(item.bucket_limits, np.float64),
                         np.asarray(item.bucket_counts, np.float64), path)


def _purge(store: Store, run: str, update: Update, step: int, tags: set[str] | None) -> Update:
    """Apply what is pending, then drop data with step >= `step`. Returns a fresh update."""
    store.apply(run, update)
    dropped = store.purge(run, step, tags)
    where = "all tags" if tags is None else ", ".join(sorted(tags))
    log.info("run %r: restart at step %d purged %d points (%s)", run, step, dropped, where)
    return Update(update.path)


def _apply(store: Store, run: str, update: Update) -> None:
    dropped = store.apply(run, update)
    if dropped:
        log.info("run %r: %s went back to earlier steps; %d older points replaced", run,
                 os.path.basename(update.path), dropped)


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
    update = Update(path)
    for group in np.split(order, cuts):
        tag = fast.tags[int(tag_id[group[0]])]
        update.scalars[tag] = (steps[group], walls[group], values[group])
    update.last_wall_time = float(walls.max())
    _apply(store, state.name, update)


def _ingest_slow(store: Store, state: RunState, path: str, records) -> None:
    """Decode records one by one with protobuf (writer.events) and apply them in order."""
    run = state.name
    update = Update(path)
    for rec in records:
        try:
            event = parse_event(rec.data)
            items = normalize(event, state.plugins, MAX_IMAGE_SAMPLES)
        except Exception as exc:  # EventParseError is the contract; any other
            # failure on one record's bytes must cost that record only, never the batch.
            update.corrupt += 1
            log.warning("run %r: skipped undecodable record at byte %d of %s (%s)", run,
                        rec.offset, os.path.basename(path), exc)
            continue
        step = event.step
        for item in items:
            kind = type(item)
            if kind is FileVersionItem:
                state.file_version = _version_number(item.version)
            elif kind is SessionStartItem and (state.file_version or 0) >= 2:
                update = _purge(store, run, update, item.step, None)
        if event.HasField("summary"):
            if (state.file_version or 0) < 2 and step < state.most_recent_step:
                update = _purge(store, run, update, step, {v.tag for v in event.summary.value})
            state.most_recent_step = step
        _add_items(store, state, update, items, path, rec.offset, event)
        if event.wall_time:
            update.last_wall_time = event.wall_time
    _apply(store, run, update)


def _add_items(store: Store, state: RunState, update: Update, items, path: str, offset: int,
               event) -> None:
    """Add one record's items to `update` (linear in the number of items)."""
    scalars = update.scalars
    samples: dict[tuple[str, int], list] = {}  # this record's images, per (tag, step)
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
            samples.setdefault((item.tag, item.step), []).append(ImageSample(
                item.index, item.width, item.height, item.content_type, path, offset,
                item.value_index))
        elif kind is HistogramItem:
            update.histograms.setdefault(item.tag, {})[item.step] = _histogram(item, path)
        elif kind is TextItem or kind is HParamsItem:
            update.extras.append(item)
        elif kind is RunMetadataItem:  # reduced at once: only what the Graphs view colours by
            update.run_metadata.append(summarize(item.tag, item.step, item.wall_time,
                                                 item.run_metadata, path, offset))
        elif kind is GraphItem:
            # As TensorBoard: a graph_def wins over the graph inside a meta_graph_def.
            from_meta = event.HasField("meta_graph_def")
            if not from_meta or state.graph_from_meta or update.graph is None and \
                    not store.has_graph(state.name):
                update.graph = item.graph_def
                update.graph_step = item.step
                state.graph_from_meta = from_meta
    dropped = 0
    for (tag, step), kept in samples.items():
        # A later record at the same step replaces the earlier one's samples.
        update.images.setdefault(tag, {})[step] = ImageStep(step, event.wall_time,
                                                            tuple(kept))
        if len(kept) >= MAX_IMAGE_SAMPLES:  # normalize stopped there: count the rest
            tensor = event.summary.value[kept[0].value_index].tensor
            dropped += max(0, len(string_values(tensor)) - 2 - len(kept))
    if dropped:
        update.dropped_samples += dropped
        log.warning("run %r: an image value at byte %d of %s holds more than %d samples; "
                    "%d are not shown", state.name, offset, os.path.basename(path),
                    MAX_IMAGE_SAMPLES, dropped)
