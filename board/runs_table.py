"""What the Runs table shows per run, kept current as data arrives (SPEC §5b).

- :class:`TagStats`: a scalar series' last value, smallest and largest finite values (each
  with its step), point count and last wall time. ``board.store.ScalarSeries`` updates it
  on every append (O(new points)) and rebuilds it after a restart purge.
- :class:`RunHParams`: a run's hparams plugin data (experiment, session start and end),
  from ``writer.events.HParamsItem``.
- :func:`run_row`: one run's row as plain data; :func:`columns` the table's columns;
  :func:`experiment` the logdir's experiment (found or inferred).

No locks and no store here: ``board.store`` owns the state, the plugin route
(``board.plugins.runs_table``) asks for rows under the store's lock.
"""

from __future__ import annotations

import math

import numpy as np

from writer import hparams as hparams_lib

# A row's metric values are lists in this order: 20 tags × 1000 runs as dicts would repeat
# these names 20000 times (about half the bytes of the answer).
METRIC_FIELDS = ("last", "last_step", "min", "min_step", "max", "max_step", "count",
                 "last_wall_time")


def _json_number(x: float) -> float | None:
    return x if math.isfinite(x) else None


class TagStats:
    """Summary of one scalar series; ``add`` takes the newly appended points in order."""

    __slots__ = ("count", "last", "last_step", "min", "min_step", "max", "max_step",
                 "last_wall_time")

    def __init__(self) -> None:
        self.count = 0
        self.last = self.min = self.max = math.nan
        self.last_step = self.min_step = self.max_step = None
        self.last_wall_time = None

    @classmethod
    def of(cls, steps: np.ndarray, walls: np.ndarray, values: np.ndarray) -> TagStats:
        stats = cls()
        stats.add(steps, walls, values)
        return stats

    def add(self, steps: np.ndarray, walls: np.ndarray, values: np.ndarray) -> None:
        k = len(values)
        if not k:
            return
        self.count += k
        self.last, self.last_step = float(values[-1]), int(steps[-1])
        wall = float(walls.max())
        if self.last_wall_time is None or wall > self.last_wall_time:
            self.last_wall_time = wall
        finite = np.isfinite(values)
        if k == 1:  # the live-tailing case: no numpy reductions for one point
            if finite[0]:
                self._offer(self.last, self.last_step)
            return
        if not finite.any():
            return
        masked_lo = np.where(finite, values, np.inf)
        masked_hi = np.where(finite, values, -np.inf)
        i, j = int(masked_lo.argmin()), int(masked_hi.argmax())
        if not self.min <= values[i]:  # also true while self.min is NaN (nothing yet)
            self.min, self.min_step = float(values[i]), int(steps[i])
        if not self.max >= values[j]:
            self.max, self.max_step = float(values[j]), int(steps[j])

    def _offer(self, value: float, step: int) -> None:
        if not self.min <= value:
            self.min, self.min_step = value, step
        if not self.max >= value:
            self.max, self.max_step = value, step

    def as_list(self) -> list:
        """The values in the order of :data:`METRIC_FIELDS` (NaN and ±inf as None)."""
        return [_json_number(self.last), self.last_step, _json_number(self.min), self.min_step,
                _json_number(self.max), self.max_step, self.count, self.last_wall_time]


class RunHParams:
    """A run's hparams plugin data; ``version`` changes with every update."""

    __slots__ = ("experiment", "hparams", "group_name", "start_time", "status", "end_time",
                 "version")

    def __init__(self) -> None:
        self.experiment: dict | None = None
        self.hparams: dict | None = None  # None: this run is not an hparams session
        self.group_name = ""
        self.start_time = self.end_time = None
        self.status: str | None = None
        self.version = 0

    def apply(self, data: hparams_lib.HParamsData) -> None:
        """Take one decoded hparams value (a later one of the same kind replaces)."""
        value = data.value
        if data.kind == "experiment":
            self.experiment = value
        elif data.kind == "session_start_info":
            self.hparams = dict(value["hparams"])
            self.group_name = value["group_name"]
            self.start_time = value["start_time_secs"] or None
            self.status = self.status or "running"
        elif data.kind == "session_end_info":
            self.status = value["status"]
            self.end_time = value["end_time_secs"] or None
        self.version += 1


def session_hparams(runs: dict) -> dict[str, dict]:
    """run → hparam values, for every run that is an hparams session."""
    return {name: d.hparams.hparams for name, d in runs.items()
            if d.hparams.hparams is not None}


def run_row(name: str, data, sessions: dict[str, dict]) -> dict:
    """One row: the run's hparams (its own, or its nearest ancestor session's, named in
    ``hparams_from``), its session status and per scalar tag the :class:`TagStats`."""
    source = hparams_lib.session_of(name, sessions)
    own = data.hparams
    return {
        "name": name,
        "hparams": sessions[source] if source is not None else {},
        "hparams_from": source,
        "status": own.status,
        "metrics": {tag: series.stats.as_list() for tag, series in sorted(data.scalars.items())},
        "last_wall_time": data.last_wall_time,
    }


def experiment(runs: dict, sessions: dict[str, dict]) -> tuple[dict | None, bool]:
    """The experiment of the logdir: the first run's (by name) that holds one, else the one
    TensorBoard would infer from the sessions (``inferred`` True), else None."""
    for name in sorted(runs):
        if runs[name].hparams.experiment is not None:
            return runs[name].hparams.experiment, False
    if not sessions:
        return None, False
    tags = {name: list(d.scalars) for name, d in runs.items()}
    return hparams_lib.infer_experiment(sessions, tags), True


def columns(sessions: dict[str, dict], exp: dict | None, tags) -> dict:
    """The table's columns: hparam names (the experiment's order, then any others seen in
    sessions, by name) and `tags`, every scalar tag of any run (sorted)."""
    names = [h["name"] for h in exp["hparams"]] if exp else []
    seen = set(names)
    extra = sorted({k for hp in sessions.values() for k in hp} - seen)
    return {"hparams": names + extra, "metrics": sorted(tags)}
