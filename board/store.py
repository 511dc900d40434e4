"""In-memory store of everything the loader has read (SPEC §5 "Storage").

- Scalars: every point kept, in growable columnar numpy arrays per (run, tag):
  step int64, wall_time float64, value float64 (24 bytes/point, ~30 with growth slack),
  plus a short list of file segments (which event file each stretch of points came from).
- Images: an index of where each encoded image lives (file, record offset, value index,
  sample index, size, content type) per (run, tag, step); the bytes are read on demand.
- Histograms: one row per (run, tag, step), bucket edges and counts as numpy arrays.
- Graphs: the latest serialized GraphDef per run, and per traced Session.run (tagged run
  metadata) only what the Graphs view colours by (board.run_metadata.RunStats).
- Text: one row per (run, tag, step); hparams: a run's plugin data (board.runs_table).
- Each scalar series keeps its Runs-table summary (board.runs_table.TagStats) current.

The Store owns its state: the loader hands it `Update`s and restart/deletion events, the
request handlers read snapshots. The rules that drop points live here, in one place:
- `purge(run, step, tags)`: a restart (SessionLog.START, or a legacy out-of-order step)
  drops data with step >= `step`;
- a newer file going back to an earlier step (a restart without SessionLog.START, as
  tensorboardX and torch write): per tag, points of *older* files from that step on go,
  so each step is served once, with the newer value (`apply`);
- `drop_file(run, path)`: the points of an event file that was deleted or replaced go.

Writers (the loader thread) and readers (request handlers) share one lock. Readers get
snapshots: array views up to the current length, which later appends never touch (a purge
or a growth copies into new arrays instead of editing in place).

`version` increases with every change; `changes_since(seq)` lists what changed for the
server-sent event stream.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from contextlib import contextmanager
from types import MappingProxyType
from typing import NamedTuple

import numpy as np

from writer.events import TextItem

from .run_metadata import RunStats
from .runs_table import RunHParams, TagStats

_GROWTH = 1.5
_EVENT_LOG = 4096
_GENERATION = itertools.count(1)  # a fresh number for every change to any series
PLUGINS = ("scalars", "images", "histograms")
MAX_RUN_METADATA_TAGS = 1000  # traced runs kept per run; later new tags get a note
MAX_RUN_METADATA_OPS = 1_000_000  # op entries kept per run over all its traced runs


class ScalarSnapshot(NamedTuple):
    step: np.ndarray
    wall_time: np.ndarray
    value: np.ndarray
    generation: int  # changes whenever the series does (a key for response caches)


class TextStep(NamedTuple):
    """One step of a text tag as stored: the TextItem's fields and the event file it came
    from (so deleting that file drops it, as with images and histograms)."""

    tag: str
    step: int
    wall_time: float
    shape: tuple[int, ...]
    values: tuple[str, ...]
    problem: str | None
    path: str


class ImageSample(NamedTuple):
    index: int
    width: int
    height: int
    content_type: str
    path: str
    offset: int
    value_index: int


class ImageStep(NamedTuple):
    step: int
    wall_time: float
    samples: tuple[ImageSample, ...]  # never empty; every sample comes from one record

    @property
    def path(self) -> str:
        return self.samples[0].path


class HistogramStep(NamedTuple):
    step: int
    wall_time: float
    min: float
    max: float
    num: float
    sum: float
    sum_squares: float
    bucket_limits: np.ndarray  # float64
    bucket_counts: np.ndarray  # float64
    path: str  # the event file it came from


class Change(NamedTuple):
    seq: int
    run: str
    plugin: str
    tag: str
    step: int


class Update:
    """What one read of one event file adds to a run; `Store.apply` takes it in one step."""

    __slots__ = ("path", "scalars", "images", "histograms", "graph", "graph_step", "corrupt",
                 "dropped_samples", "last_wall_time", "extras", "run_metadata")

    def __init__(self, path: str) -> None:
        self.path = path
        self.scalars: dict[str, tuple] = {}  # tag -> (steps, wall_times, values), file order
        self.images: dict[str, dict[int, ImageStep]] = {}
        self.histograms: dict[str, dict[int, HistogramStep]] = {}
        self.graph: bytes | None = None
        self.graph_step = 0
        self.corrupt = 0
        self.dropped_samples = 0  # image samples beyond the per-record cap
        self.last_wall_time: float | None = None
        self.extras: list = []  # TextItem / HParamsItem, in file order
        self.run_metadata: list[RunStats] = []  # in file order

    def empty(self) -> bool:
        return not (self.scalars or self.images or self.histograms or self.graph is not None
                    or self.corrupt or self.dropped_samples or self.extras
                    or self.run_metadata)


class ScalarSeries:
    """Growable columns for one (run, tag). Not thread-safe on its own: the Store locks.

    `seg_start[i]` is the index of the first point that came from `seg_path[i]` (points are
    kept in arrival order, so a file's points form few stretches)."""

    __slots__ = ("step", "wall_time", "value", "n", "generation", "seg_path", "seg_start",
                 "stats")

    def __init__(self) -> None:
        self.step = np.empty(0, np.int64)  # sized by the first batch: a run of one point
        self.wall_time = np.empty(0, np.float64)  # costs 24 bytes, not a preset capacity
        self.value = np.empty(0, np.float64)
        self.n = 0
        self.generation = next(_GENERATION)
        self.seg_path: list[str] = []
        self.seg_start: list[int] = []
        self.stats = TagStats()  # the Runs table's summary, kept current (board.runs_table)

    def extend(self, steps, walls, values, path: str) -> int:
        """Append points read from `path`, as a restart across files wants: a newer file
        wins from its first step on. So points of files that sort before `path` with a step
        >= the lowest new step are dropped first, and new points at or past the first step
        of a newer file are not added. Returns how many points this dropped or refused."""
        dropped = 0
        if len(steps) and self.seg_path and self.seg_path[-1] != path:
            if any(p < path for p in self.seg_path):
                dropped += self.drop((self._paths() < path)
                                     & (self.step[: self.n] >= np.min(steps)))
            if any(p > path for p in self.seg_path):  # an older file read (again) late
                return dropped + self._insert_older(steps, walls, values, path)
        k = len(steps)
        if not k:
            return dropped
        end = self.n + k
        if end > len(self.step):
            cap = max(end, int(len(self.step) * _GROWTH))
            for name in ("step", "wall_time", "value"):
                old = getattr(self, name)
                new = np.empty(cap, old.dtype)
                new[: self.n] = old[: self.n]
                setattr(self, name, new)
        self.step[self.n : end] = steps
        self.wall_time[self.n : end] = walls
        self.value[self.n : end] = values
        self.stats.add(self.step[self.n : end], self.wall_time[self.n : end],
                       self.value[self.n : end])
        if not self.seg_path or self.seg_path[-1] != path:
            self.seg_path.append(path)
            self.seg_start.append(self.n)
        self.n = end
        self.generation = next(_GENERATION)
        return dropped

    def _insert_older(self, steps, walls, values, path: str) -> int:
        """Add points of a file older than some already stored: only those before the
        newer files' first step, placed before the newer files' points (steps stay in
        order). Returns how many were refused."""
        paths = self._paths()
        newer = paths > path
        steps, walls, values = (np.asarray(c) for c in (steps, walls, values))
        keep = steps < self.step[: self.n][newer].min()
        n = self.n
        self._set_columns(
            *(np.concatenate((col[:n][~newer], new[keep], col[:n][newer]))
              for col, new in ((self.step, steps), (self.wall_time, walls),
                               (self.value, values))),
            np.concatenate((paths[~newer], np.full(int(keep.sum()), path, dtype=object),
                            paths[newer])))
        return int((~keep).sum())

    def _set_columns(self, step, wall_time, value, paths) -> None:
        """Replace every column (fresh arrays, so earlier snapshots stay as they were)."""
        self.step, self.wall_time, self.value = step, wall_time, value
        self.n = len(step)
        self.seg_path, self.seg_start = [], []
        if self.n:
            starts = np.flatnonzero(np.r_[True, paths[1:] != paths[:-1]])
            self.seg_path = paths[starts].tolist()
            self.seg_start = starts.tolist()
        self.generation = next(_GENERATION)
        self.stats = TagStats.of(step, wall_time, value)

    def _paths(self) -> np.ndarray:
        """The source path of every point (an object array, built for a purge only)."""
        bounds = [*self.seg_start[1:], self.n]
        counts = np.diff([0, *bounds]) if self.seg_start else []
        return np.repeat(np.array(self.seg_path, dtype=object), counts)

    def drop(self, mask: np.ndarray) -> int:
        """Drop the points where `mask` is true; returns how many went."""
        dropped = int(mask.sum())
        if not dropped:
            return 0
        keep, n = ~mask, self.n
        self._set_columns(self.step[:n][keep], self.wall_time[:n][keep],
                          self.value[:n][keep], self._paths()[keep])
        return dropped

    def purge_from(self, step: int) -> int:
        """Drop every point with step >= `step` (a restart). Returns how many went."""
        return self.drop(self.step[: self.n] >= step)

    def drop_path(self, path: str) -> int:
        if path not in self.seg_path:
            return 0
        return self.drop(self._paths() == path)

    def snapshot(self) -> ScalarSnapshot:
        n = self.n
        return ScalarSnapshot(self.step[:n], self.wall_time[:n], self.value[:n], self.generation)

    def nbytes(self) -> int:
        return self.step.nbytes + self.wall_time.nbytes + self.value.nbytes


def _drop_steps(by_step: dict, keep) -> int:
    """Remove the entries of a step-keyed table for which `keep(entry)` is false."""
    stale = [s for s, entry in by_step.items() if not keep(entry)]
    for s in stale:
        del by_step[s]
    return len(stale)


class RunData:
    """Everything stored for one run. Only the Store touches it (under its lock)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.scalars: dict[str, ScalarSeries] = {}
        self.images: dict[str, dict[int, ImageStep]] = {}
        self.histograms: dict[str, dict[int, HistogramStep]] = {}
        self.texts: dict[str, dict[int, TextStep]] = {}
        self.hparams = RunHParams()
        self.last_path: dict[tuple[str, str], str] = {}  # (plugin, tag) -> last writer
        self.graph: bytes | None = None
        self.graph_path: str | None = None
        self.graph_version = 0
        self.run_metadata: dict[str, RunStats] = {}  # tag -> the traced run it names
        self.corrupt_records = 0
        self.dropped_samples = 0
        self.errors: list[str] = []
        self.last_wall_time: float | None = None
        self.entry: dict | None = None  # the cached /api/runs entry (None: rebuild)

    def listing(self) -> dict:
        if self.entry is None:
            self.entry = {
                "name": self.name,
                "tags": {"scalars": sorted(t for t, s in self.scalars.items() if s.n),
                         "images": sorted(t for t, s in self.images.items() if s),
                         "histograms": sorted(t for t, s in self.histograms.items() if s),
                         "text": sorted(t for t, s in self.texts.items() if s)},
                "has_graph": self.graph is not None,
                "run_metadata": self.run_metadata_tags(),
                "corrupt_records": self.corrupt_records,
                "dropped_image_samples": self.dropped_samples,
                "errors": list(self.errors),
                "last_wall_time": self.last_wall_time,
            }
        return self.entry

    def run_metadata_tags(self) -> list[str]:
        """Tags of the traced runs, by step (then tag): "step9" before "step10"."""
        return [s.tag for s in sorted(self.run_metadata.values(), key=lambda s: (s.step, s.tag))]

    def add_run_metadata(self, items: list[RunStats]) -> list[tuple[str, str, int]]:
        """Keep the traced runs `items` (a later one under a tag replaces the earlier); bad
        bytes and tags past MAX_RUN_METADATA_TAGS become notes in `errors`."""
        changes = []
        errors = len(self.errors)
        for stats in items:
            if stats.problem:
                self.note_error(stats.problem)
            if stats.problem and not stats.nodes and not stats.devices:
                continue  # undecodable: nothing to show
            old = self.run_metadata.get(stats.tag)
            if old is None and len(self.run_metadata) >= MAX_RUN_METADATA_TAGS:
                self.note_error(f"more than {MAX_RUN_METADATA_TAGS} run metadata tags; "
                                "later ones are not shown")
                continue
            kept = sum(len(s.nodes) for s in self.run_metadata.values())
            if kept - (len(old.nodes) if old else 0) + len(stats.nodes) > MAX_RUN_METADATA_OPS:
                self.note_error(f"run metadata holds more than {MAX_RUN_METADATA_OPS} op "
                                "timings in all; later tags are not shown")
                continue
            self.run_metadata[stats.tag] = stats
            changes.append(("graphs", stats.tag, stats.step))
        if len(self.errors) != errors:  # the run's listing changed: say so
            changes.append(("runs", "", 0))
        return changes

    def tags(self, plugin: str) -> list[str]:
        if plugin == "scalars":
            return sorted(t for t, s in self.scalars.items() if s.n)
        table = {"images": self.images, "histograms": self.histograms, "text": self.texts}
        return sorted(t for t, s in table[plugin].items() if s)

    def note_error(self, message: str) -> None:
        """One line in the run's `errors`, once."""
        if message not in self.errors:
            self.errors.append(message)

    def add_extras(self, items: list, path: str) -> list[tuple[str, str, int]]:
        """Take TextItem / HParamsItem `items` read from `path` (SPEC §5b): every text step
        is kept (with its file), hparams
        data updates the run's RunHParams; what is wrong with the bytes becomes one line in
        `errors` per tag and problem. Returns the (plugin, tag, step) changes to announce."""
        text_steps: dict[str, int] = {}
        changes = []
        for item in items:
            if type(item) is TextItem:
                self.texts.setdefault(item.tag, {})[item.step] = TextStep(*item, path)
                text_steps[item.tag] = max(item.step, text_steps.get(item.tag, item.step))
                if item.problem:
                    self.note_error(f"text {item.tag!r}: {item.problem}")
            elif item.problem:
                self.note_error(f"{item.tag}: {item.problem}")
            else:
                self.hparams.apply(item.data)
                changes.append(("hparams", "", 0))
                for message in item.data.notes:
                    self.note_error(f"{item.tag}: {message}")
        changes.extend(("text", tag, step) for tag, step in text_steps.items())
        return changes

    def purge_from(self, step: int, tags: set[str] | None = None) -> int:
        """Drop data with step >= `step`, in every tag or only in `tags`."""
        dropped = 0
        for tag, series in self.scalars.items():
            if tags is None or tag in tags:
                dropped += series.purge_from(step)
        for table in (self.images, self.histograms, self.texts):
            for tag, by_step in table.items():
                if tags is None or tag in tags:
                    dropped += _drop_steps(by_step, lambda e: e.step < step)
        if tags is None:
            dropped += _drop_steps(self.run_metadata, lambda e: e.step < step)
        return dropped

    def drop_path(self, path: str) -> int:
        """Drop everything that came from the event file `path`."""
        dropped = sum(series.drop_path(path) for series in self.scalars.values())
        for table in (self.images, self.histograms, self.texts):
            for by_step in table.values():
                dropped += _drop_steps(by_step, lambda e: e.path != path)
        dropped += _drop_steps(self.run_metadata, lambda e: e.path != path)
        if self.graph_path == path:
            self.graph, self.graph_path = None, None
            self.graph_version += 1
        return dropped

    def add_steps(self, plugin: str, table: dict, tag: str, steps: dict, path: str) -> int:
        """Merge step-keyed entries read from `path`; a newer file going back to an earlier
        step drops the older files' entries from that step on (as ScalarSeries.extend)."""
        by_step = table.setdefault(tag, {})
        dropped = 0
        last = self.last_path.get((plugin, tag))
        if last is not None and last != path:
            lo = min(steps)
            dropped = _drop_steps(by_step, lambda e: e.step < lo or e.path >= path)
        self.last_path[(plugin, tag)] = path
        by_step.update(steps)
        return dropped


class Store:
    """Thread-safe container of all runs; the only state the API reads."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._runs: dict[str, RunData] = {}
        self._sorted: list[str] | None = []  # run names, sorted (None: sort again)
        self._version = 0
        self._changes: deque[Change] = deque(maxlen=_EVENT_LOG)
        self.loading = True
        self._logdir_errors: dict[str, str] = {}  # logdir -> why it cannot be read now

    @property
    def version(self) -> int:
        return self._version

    # -- writes (loader thread) -------------------------------------------------------
    def _run(self, name: str) -> RunData:
        data = self._runs.get(name)
        if data is None:
            data = self._runs[name] = RunData(name)
            self._sorted = None
            self._note(name, "runs", "", 0)
        return data

    def _note(self, run: str, plugin: str, tag: str, step: int) -> None:
        self._version += 1
        self._changes.append(Change(self._version, run, plugin, tag, int(step)))
        data = self._runs.get(run)
        if data is not None:
            data.entry = None

    def add_run(self, name: str) -> None:
        """Make `name` known (a run whose files hold nothing yet is listed too)."""
        with self._lock:
            self._run(name)

    def remove_run(self, name: str) -> None:
        """Forget a run whose event files are all gone."""
        with self._lock:
            if self._runs.pop(name, None) is not None:
                self._sorted = None
                self._note(name, "runs", "", 0)

    def apply(self, run: str, update: Update) -> int:
        """Add what one read of one file found, announce it, and return how many older
        points a newer file's earlier steps replaced (see the module docstring)."""
        if update.empty():
            return 0
        path = update.path
        dropped = 0
        with self._lock:
            data = self._run(run)
            for tag, (steps, walls, values) in update.scalars.items():
                series = data.scalars.get(tag)
                if series is None:
                    series = data.scalars[tag] = ScalarSeries()
                dropped += series.extend(steps, walls, values, path)
                self._note(run, "scalars", tag, steps[-1])
            for plugin, table in (("images", data.images), ("histograms", data.histograms)):
                for tag, steps in getattr(update, plugin).items():
                    dropped += data.add_steps(plugin, table, tag, steps, path)
                    self._note(run, plugin, tag, max(steps))
            if update.graph is not None:
                data.graph, data.graph_path = update.graph, path
                data.graph_version += 1
                self._note(run, "graphs", "", update.graph_step)
            for plugin, tag, step in data.add_extras(update.extras, path):
                self._note(run, plugin, tag, step)
            for plugin, tag, step in data.add_run_metadata(update.run_metadata):
                self._note(run, plugin, tag, step)
            data.corrupt_records += update.corrupt
            data.dropped_samples += update.dropped_samples
            if update.last_wall_time is not None:
                data.last_wall_time = max(data.last_wall_time or 0.0, update.last_wall_time)
            if not (update.scalars or update.images or update.histograms
                    or update.graph is not None or update.extras or update.run_metadata):
                self._note(run, "runs", "", 0)
        return dropped

    def purge(self, run: str, step: int, tags: set[str] | None = None) -> int:
        """A restart at `step`: drop data with step >= `step` (every tag, or only `tags`)."""
        with self._lock:
            dropped = self._run(run).purge_from(step, tags)
            self._note(run, "runs", "", step)
        return dropped

    def drop_file(self, run: str, path: str) -> int:
        """The event file `path` was deleted or replaced: its points go."""
        with self._lock:
            data = self._runs.get(run)
            if data is None:
                return 0
            dropped = data.drop_path(path)
            for key in [k for k, p in data.last_path.items() if p == path]:
                del data.last_path[key]
            self._note(run, "runs", "", 0)
        return dropped

    def add_error(self, run: str, message: str) -> None:
        with self._lock:
            self._run(run).errors.append(message)
            self._note(run, "runs", "", 0)

    def set_logdir_error(self, logdir: str, message: str | None) -> bool:
        """Say why a logdir cannot be read now (None: it can again). True if that changed."""
        with self._lock:
            if self._logdir_errors.get(logdir) == message:
                return False
            if message is None:
                del self._logdir_errors[logdir]
            else:
                self._logdir_errors[logdir] = message
            self._version += 1
            return True

    def logdir_errors(self) -> list[str]:
        with self._lock:
            return sorted(self._logdir_errors.values())

    def has_graph(self, run: str) -> bool:
        with self._lock:
            data = self._runs.get(run)
            return data is not None and data.graph is not None

    # -- reads (request handlers) ------------------------------------------------------
    def _names(self) -> list[str]:
        if self._sorted is None:
            self._sorted = sorted(self._runs)
        return self._sorted

    def run_names(self) -> list[str]:
        with self._lock:
            return list(self._names())

    def has_run(self, name: str) -> bool:
        with self._lock:
            return name in self._runs

    def tags(self, run: str, plugin: str) -> list[str]:
        """The tags of one plugin ("scalars", "images", "histograms") in `run`, sorted."""
        with self._lock:
            data = self._runs.get(run)
            return [] if data is None else data.tags(plugin)

    def listing(self, offset: int = 0, limit: int | None = None) -> tuple[list[dict], int]:
        """(/api/runs entries of the runs sorted by name, from `offset`, at most `limit`;
        how many runs there are). Entries are cached per run until it changes."""
        with self._lock:
            names = self._names()
            page = names[offset: None if limit is None else offset + limit]
            return [self._runs[n].listing() for n in page], len(names)

    def tag_listing(self, plugin: str) -> dict[str, dict[str, int]]:
        """{run: {tag: samples}} for one plugin, runs and tags sorted; `samples` is the most
        samples of any step (images) or 1."""
        with self._lock:
            out = {}
            for name in self._names():
                data = self._runs[name]
                if plugin == "images":
                    out[name] = {t: max(len(s.samples) for s in data.images[t].values())
                                 for t in data.tags("images")}
                else:
                    out[name] = dict.fromkeys(data.tags(plugin), 1)
            return out

    def scalars(self, run: str, tag: str) -> ScalarSnapshot | None:
        with self._lock:
            data = self._runs.get(run)
            series = data.scalars.get(tag) if data else None
            return series.snapshot() if series is not None and series.n else None

    def scalar_generation(self, run: str, tag: str) -> int | None:
        with self._lock:
            data = self._runs.get(run)
            series = data.scalars.get(tag) if data else None
            return None if series is None or not series.n else series.generation

    def images(self, run: str, tag: str) -> list[ImageStep] | None:
        with self._lock:
            data = self._runs.get(run)
            by_step = data.images.get(tag) if data else None
            if not by_step:
                return None
            return [by_step[s] for s in sorted(by_step)]

    def histograms(self, run: str, tag: str) -> list[HistogramStep] | None:
        with self._lock:
            data = self._runs.get(run)
            by_step = data.histograms.get(tag) if data else None
            if not by_step:
                return None
            return [by_step[s] for s in sorted(by_step)]

    def texts(self, run: str, tag: str) -> list[TextStep] | None:
        with self._lock:
            data = self._runs.get(run)
            by_step = data.texts.get(tag) if data else None
            if not by_step:
                return None
            return [by_step[s] for s in sorted(by_step)]

    @contextmanager
    def reading(self):
        """The runs ({name: RunData}, read-only) with the lock held, for a reader that
        summarises every run at one version (the Runs table). Change nothing through it."""
        with self._lock:
            yield MappingProxyType(self._runs)

    def graph(self, run: str) -> tuple[bytes | None, int] | None:
        with self._lock:
            data = self._runs.get(run)
            return None if data is None else (data.graph, data.graph_version)

    def run_metadata(self, run: str, tag: str) -> RunStats | None:
        with self._lock:
            data = self._runs.get(run)
            return None if data is None else data.run_metadata.get(tag)

    def run_metadata_tags(self, run: str) -> list[str]:
        with self._lock:
            data = self._runs.get(run)
            return [] if data is None else data.run_metadata_tags()

    def changes_since(self, seq: int) -> list[Change]:
        """Changes with seq > `seq` still in the log (oldest first)."""
        with self._lock:
            if not self._changes or self._changes[-1].seq <= seq:
                return []
            return [c for c in self._changes if c.seq > seq]

    def scalar_bytes(self) -> int:
        with self._lock:
            return sum(s.nbytes() for r in self._runs.values() for s in r.scalars.values())
