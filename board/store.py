"""In-memory store of everything the loader has read (SPEC §5 "Storage").

- Scalars: every point kept, in growable columnar numpy arrays per (run, tag):
  step int64, wall_time float64, value float64 (24 bytes/point, ~30 with growth slack).
- Images: an index of where each encoded image lives (file, record offset, value index,
  sample index, size, content type) per (run, tag, step); the bytes are read on demand.
- Histograms: one row per (run, tag, step).
- Graphs: the latest serialized GraphDef per run.

Writers (the loader thread) and readers (request handlers) share one lock. Readers get
snapshots: array views up to the current length, which later appends never touch (a purge
or a growth copies into new arrays instead of editing in place).

`version` increases with every change; `events_since(seq)` lists what changed for the
server-sent event stream.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict, deque
from typing import NamedTuple

import numpy as np

from writer.events import HistogramItem

_GROWTH = 1.5
_MIN_CAPACITY = 64
_EVENT_LOG = 4096
_GENERATION = itertools.count(1)  # a fresh number for every change to any series


class ScalarSnapshot(NamedTuple):
    step: np.ndarray
    wall_time: np.ndarray
    value: np.ndarray
    generation: int  # changes whenever the series does (a key for response caches)


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
    samples: tuple[ImageSample, ...]


class Change(NamedTuple):
    seq: int
    run: str
    plugin: str
    tag: str
    step: int


class ScalarSeries:
    """Growable columns for one (run, tag). Not thread-safe on its own: the Store locks."""

    __slots__ = ("step", "wall_time", "value", "n", "generation")

    def __init__(self) -> None:
        self.step = np.empty(_MIN_CAPACITY, np.int64)
        self.wall_time = np.empty(_MIN_CAPACITY, np.float64)
        self.value = np.empty(_MIN_CAPACITY, np.float64)
        self.n = 0
        self.generation = next(_GENERATION)

    def extend(self, steps: list, walls: list, values: list) -> None:
        k = len(steps)
        end = self.n + k
        if end > len(self.step):
            cap = max(end, int(len(self.step) * _GROWTH), _MIN_CAPACITY)
            for name in ("step", "wall_time", "value"):
                old = getattr(self, name)
                new = np.empty(cap, old.dtype)
                new[: self.n] = old[: self.n]
                setattr(self, name, new)
        self.step[self.n : end] = steps
        self.wall_time[self.n : end] = walls
        self.value[self.n : end] = values
        self.n = end
        self.generation = next(_GENERATION)

    def purge_from(self, step: int) -> int:
        """Drop every point with step >= `step` (a restart). Returns how many went."""
        keep = self.step[: self.n] < step
        dropped = int(self.n - keep.sum())
        if dropped:
            self.step = self.step[: self.n][keep].copy()
            self.wall_time = self.wall_time[: self.n][keep].copy()
            self.value = self.value[: self.n][keep].copy()
            self.n = len(self.step)
            self.generation = next(_GENERATION)
        return dropped

    def snapshot(self) -> ScalarSnapshot:
        n = self.n
        return ScalarSnapshot(self.step[:n], self.wall_time[:n], self.value[:n], self.generation)

    def nbytes(self) -> int:
        return self.step.nbytes + self.wall_time.nbytes + self.value.nbytes


class RunData:
    """Everything stored for one run."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.scalars: dict[str, ScalarSeries] = {}
        self.images: dict[str, dict[int, ImageStep]] = {}
        self.histograms: dict[str, dict[int, HistogramItem]] = {}
        self.graph: bytes | None = None
        self.graph_version = 0
        self.corrupt_records = 0
        self.errors: list[str] = []
        self.last_wall_time: float | None = None

    def purge_from(self, step: int, tags: set[str] | None = None) -> int:
        """Drop data with step >= `step`, in every tag or only in `tags`."""
        dropped = 0
        for tag, series in self.scalars.items():
            if tags is None or tag in tags:
                dropped += series.purge_from(step)
        for table in (self.images, self.histograms):
            for tag, by_step in table.items():
                if tags is None or tag in tags:
                    stale = [s for s in by_step if s >= step]
                    for s in stale:
                        del by_step[s]
                    dropped += len(stale)
        return dropped


class Store:
    """Thread-safe container of all runs; the only state the API reads."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.runs: dict[str, RunData] = {}
        self.version = 0
        self._changes: deque[Change] = deque(maxlen=_EVENT_LOG)
        self.loading = True
        self.logdir_errors: dict[str, str] = {}  # logdir -> why it cannot be read now
        self.layout_cache: OrderedDict = OrderedDict()  # board.plugins.graphs' layouts

    # -- writes (loader thread) -------------------------------------------------------
    def run(self, name: str) -> RunData:
        """The RunData for `name`, created if new. Caller holds the lock."""
        data = self.runs.get(name)
        if data is None:
            data = self.runs[name] = RunData(name)
        return data

    def note_change(self, run: str, plugin: str, tag: str, step: int) -> None:
        """Record one change for the stream. Caller holds the lock."""
        self.version += 1
        self._changes.append(Change(self.version, run, plugin, tag, int(step)))

    # -- reads (request handlers) ------------------------------------------------------
    def run_names(self) -> list[str]:
        with self.lock:
            return sorted(self.runs)

    def get_run(self, name: str) -> RunData | None:
        with self.lock:
            return self.runs.get(name)

    def scalars(self, run: str, tag: str) -> ScalarSnapshot | None:
        with self.lock:
            data = self.runs.get(run)
            series = data.scalars.get(tag) if data else None
            return series.snapshot() if series is not None else None

    def scalar_generation(self, run: str, tag: str) -> int | None:
        with self.lock:
            data = self.runs.get(run)
            series = data.scalars.get(tag) if data else None
            return None if series is None else series.generation

    def images(self, run: str, tag: str) -> list[ImageStep] | None:
        with self.lock:
            data = self.runs.get(run)
            by_step = data.images.get(tag) if data else None
            if by_step is None:
                return None
            return [by_step[s] for s in sorted(by_step)]

    def histograms(self, run: str, tag: str) -> list[HistogramItem] | None:
        with self.lock:
            data = self.runs.get(run)
            by_step = data.histograms.get(tag) if data else None
            if by_step is None:
                return None
            return [by_step[s] for s in sorted(by_step)]

    def graph(self, run: str) -> tuple[bytes | None, int] | None:
        with self.lock:
            data = self.runs.get(run)
            return None if data is None else (data.graph, data.graph_version)

    def changes_since(self, seq: int) -> list[Change]:
        """Changes with seq > `seq` still in the log (oldest first)."""
        with self.lock:
            if not self._changes or self._changes[-1].seq <= seq:
                return []
            return [c for c in self._changes if c.seq > seq]

    def scalar_bytes(self) -> int:
        with self.lock:
            return sum(s.nbytes() for r in self.runs.values() for s in r.scalars.values())
