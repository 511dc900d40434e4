"""Resource bounds with 1000 runs (reference/tensorboard.md §6: RustBoard's "Too many open
files", memory growing to tens of GB; SPEC §5 Storage, §8 memory target).

- Open file handles: the board runs under ``prlimit --nofile=256`` (so keeping one handle per
  event file would fail) and its descriptor count is read with psutil after the load and
  again after every one of the 1000 files grew.
- Memory: RSS of an empty board vs. a board holding every point; figures are recorded. The
  long variant (1M points) also bounds the bytes per point.
"""

from __future__ import annotations

import shutil

import psutil
import pytest
from relsupport import (
    event_file_name,
    frame,
    record_figure,
    scalar_event,
    scalar_file_bytes,
    total_points,
    wait_for,
)

RUNS = 1000
FD_LIMIT = 256


def make_runs(logdir, runs: int, points: int, tags=("loss", "acc")) -> list:
    paths = []
    per_tag = points // len(tags)
    for r in range(runs):
        d = logdir / f"run{r:04d}"
        d.mkdir(parents=True)
        path = d / event_file_name()
        path.write_bytes(scalar_file_bytes(
            {tag: [(s, float(s + k)) for s in range(per_tag)] for k, tag in enumerate(tags)}))
        paths.append(path)
    return paths


def limited() -> tuple[str, ...]:
    prlimit = shutil.which("prlimit")
    return (prlimit, f"--nofile={FD_LIMIT}:{FD_LIMIT}") if prlimit else ()


def run_count(board) -> int:
    return len(board.get("/data/runs").json())


def all_loaded(board, runs: int, per_tag: int) -> bool:
    if run_count(board) < runs:
        return False
    tags = board.get("/data/plugin/scalars/tags").json()
    if len(tags) < runs or any(len(t) < 2 for t in tags.values()):
        return False
    sample = [f"run{r:04d}" for r in range(0, runs, max(1, runs // 25))] + [f"run{runs - 1:04d}"]
    return all(total_points(board, run, "acc") == per_tag for run in sample)


def measure(tmp_path, start_board, points: int, timeout: float) -> dict:
    empty = tmp_path / "empty"
    empty.mkdir()
    base = start_board(empty, "--reload_interval", "0.5")
    wait_for(lambda: base.get("/api/runs").status_code == 200, 20, "the empty board")
    rss_empty = psutil.Process(base.pid).memory_info().rss
    fds_empty = psutil.Process(base.pid).num_fds()
    base.stop()

    logdir = tmp_path / "logs"
    paths = make_runs(logdir, RUNS, points)
    prefix = limited()
    board = start_board(logdir, "--reload_interval", "0.5", prefix=prefix)
    per_tag = points // 2
    wait_for(lambda: all_loaded(board, RUNS, per_tag), timeout, f"{RUNS} runs to load",
             interval=0.5)
    proc = psutil.Process(board.pid)
    fds_loaded = proc.num_fds()
    rss_loaded = proc.memory_info().rss

    # Every file grows by one point: the loader must revisit all 1000 within its fd budget.
    for path in paths:
        with open(path, "ab") as f:
            f.write(frame(scalar_event("acc", per_tag, -1.0)))
    wait_for(lambda: all_loaded(board, RUNS, per_tag + 1), timeout, "the appended points",
             interval=0.5)
    fds_after = proc.num_fds()
    assert board.alive()
    assert board.get("/healthz").json() == {"status": "ok"}
    figures = dict(runs=RUNS, points=RUNS * (points + 1), fd_limit=FD_LIMIT if prefix else None,
                   fds_empty=fds_empty, fds_loaded=fds_loaded, fds_after_append=fds_after,
                   rss_empty_mb=round(rss_empty / 2**20, 1),
                   rss_loaded_mb=round(rss_loaded / 2**20, 1),
                   rss_after_append_mb=round(proc.memory_info().rss / 2**20, 1),
                   bytes_per_point_above_empty=round((rss_loaded - rss_empty)
                                                     / (RUNS * points), 1))
    record_figure(f"resources_{RUNS}_runs_{points}_points_each", **figures)
    for name in ("fds_loaded", "fds_after_append"):
        assert figures[name] < RUNS // 4, f"{figures[name]} descriptors open for {RUNS} runs"
    return figures


@pytest.mark.server
@pytest.mark.timeout(240)
def test_thousand_runs_bounded_handles_and_memory(tmp_path, start_board):
    figures = measure(tmp_path, start_board, points=20, timeout=120)
    assert figures["rss_loaded_mb"] < 500, figures


@pytest.mark.server
@pytest.mark.stress
@pytest.mark.timeout(1200)
def test_thousand_runs_million_points_memory_per_point(tmp_path, start_board):
    figures = measure(tmp_path, start_board, points=1000, timeout=600)
    # SPEC §8 targets <= 40 bytes/point above an empty board; this bound is generous.
    assert figures["bytes_per_point_above_empty"] < 150, figures
