"""Soak: writer processes append while a real ``board`` tails; every flushed point is served
exactly once (SPEC §9 "at the end every point written is served exactly once", §3 flush).

Scenario, in one logdir watched from the start by ``board --reload_interval 0.2``:

- run ``alpha``: process A writes 3 tags with periodic ``flush()``, then writes more points
  without flushing and dies with ``os._exit`` (a crash). Half of one more frame is then
  appended by hand (a torn tail record). Process C (the restarted job) continues ``alpha`` in a
  second event file and closes cleanly.
- run ``beta``: process B writes 2 tags at the same time as A and closes cleanly.
- a client polls the API the whole time (reads race with writes).

At the end, for each (run, tag) the points served by ``/api/scalars?format=csv`` are compared
with what the files hold (read by the independent oracle) and with the writers' ledgers:
every point flushed before a crash is served, each point exactly once, values exact, and the
torn tail is not counted as corruption.
"""

from __future__ import annotations

import collections
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from relsupport import (
    frame,
    record_figure,
    scalar_event,
    scalars_of_file,
    served_csv,
    total_points,
    wait_for,
)

WRITER = Path(__file__).with_name("soak_writer.py")
TAGS_A = ["loss", "acc", "lr/group0"]
TAGS_B = ["train/loss", "train/acc"]


def run_writer(logdir: Path, first: int, n: int, tags: list[str], flush_every: int,
               pause: float, mode: str, ledger: Path, extra: int = 0,
               offset: float = 0.0) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(WRITER), str(logdir), str(first), str(n), ",".join(tags),
         str(flush_every), str(pause), mode, str(ledger), str(extra), str(offset)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def read_ledger(path: Path) -> tuple[list[str], int]:
    files, flushed = [], -1
    for line in path.read_text().splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "file":
            files.append(rest)
        elif kind == "flushed":
            flushed = max(flushed, int(rest))
    return files, flushed


class Poller(threading.Thread):
    """Reads the API while the writers write; counts 5xx answers and transport errors."""

    def __init__(self, board) -> None:
        super().__init__(daemon=True)
        self.board = board
        self.stop = threading.Event()
        self.requests = 0
        self.failures: list[str] = []

    def run(self) -> None:
        with httpx.Client(base_url=self.board.url, timeout=30) as client:
            while not self.stop.is_set():
                for run, tag in (("alpha", "loss"), ("beta", "train/acc")):
                    try:
                        r = client.get("/api/scalars", params={"run": run, "tag": tag,
                                                                "max_points": 500})
                        r2 = client.get("/api/runs")
                    except httpx.HTTPError as exc:
                        self.failures.append(repr(exc))
                        continue
                    self.requests += 2
                    for resp in (r, r2):
                        if resp.status_code >= 500:
                            self.failures.append(f"{resp.status_code} {resp.text[:200]}")
                time.sleep(0.02)


def soak(tmp_path: Path, start_board, *, n_a: int, extra_a: int, n_b: int, n_c: int,
         flush_every: int, pause: float, load_timeout: float) -> None:
    logdir = tmp_path / "logs"
    (logdir / "alpha").mkdir(parents=True)
    (logdir / "beta").mkdir()
    board = start_board(logdir, "--reload_interval", "0.2")
    poller = Poller(board)
    poller.start()

    ledger_a, ledger_b, ledger_c = (tmp_path / f"ledger_{x}.txt" for x in "abc")
    proc_a = run_writer(logdir / "alpha", 0, n_a, TAGS_A, flush_every, pause, "crash",
                        ledger_a, extra_a)
    proc_b = run_writer(logdir / "beta", 0, n_b, TAGS_B, flush_every, pause, "close", ledger_b)
    out_a, _ = proc_a.communicate(timeout=load_timeout)
    assert proc_a.returncode == 3, f"writer A should die by os._exit(3): {out_a}"
    files_a, flushed_a = read_ledger(ledger_a)
    assert flushed_a == n_a - 1, ledger_a.read_text()[-300:]

    # The torn tail: the first 20 bytes of a frame, as a crash inside write() leaves.
    torn = frame(scalar_event("loss", 10**9, 1.0))[:20]
    with open(files_a[0], "ab") as f:
        f.write(torn)

    time.sleep(1.1)  # the restarted job's file gets a later timestamp in its name
    first_c = n_a + extra_a
    proc_c = run_writer(logdir / "alpha", first_c, n_c, TAGS_A, flush_every, pause, "close",
                        ledger_c)
    for proc in (proc_b, proc_c):
        out, _ = proc.communicate(timeout=load_timeout)
        assert proc.returncode == 0, out

    # What each run holds on disk, by the oracle (A's unflushed tail may or may not be there).
    on_disk: dict[tuple[str, str], collections.Counter] = collections.defaultdict(
        collections.Counter)
    for run in ("alpha", "beta"):
        for path in sorted((logdir / run).iterdir()):
            for tag, step, value in scalars_of_file(path):
                on_disk[(run, tag)][(step, value)] += 1
    assert len(list((logdir / "alpha").iterdir())) == 2, "alpha has two event files"

    def all_loaded():
        return all(total_points(board, run, tag) == sum(c.values())
                   for (run, tag), c in on_disk.items())

    t0 = time.monotonic()
    wait_for(all_loaded, load_timeout, "the board to serve every point on disk", interval=0.25)
    catch_up = time.monotonic() - t0
    time.sleep(1.0)  # and nothing more arrives later (no re-read of a file)
    poller.stop.set()
    poller.join(30)

    written = served = 0
    for (run, tag), expected in sorted(on_disk.items()):
        points = served_csv(board, run, tag)
        served += len(points)
        got = collections.Counter((s, v) for s, _, v in points)
        dupes = [p for p, c in got.items() if c > 1]
        assert not dupes, f"{run}/{tag}: points served more than once: {dupes[:5]}"
        assert got == expected, (f"{run}/{tag}: served {len(points)} points, files hold "
                                 f"{sum(expected.values())}; missing "
                                 f"{sorted(expected - got)[:5]}, extra {sorted(got - expected)[:5]}")
        steps = [s for s, _, _ in points]
        assert steps == sorted(steps), f"{run}/{tag}: points out of step order"
        body = board.get("/api/scalars", {"run": run, "tag": tag, "format": "json"}).json()
        assert body["step"] == steps and body["value"] == [v for _, _, v in points], (
            f"{run}/{tag}: format=json and format=csv disagree")
        k = (TAGS_A if run == "alpha" else TAGS_B).index(tag)
        assert all(v == s + 0.25 * k for s, _, v in points), f"{run}/{tag}: a value changed"
        # Every point flushed before the crash (or before close) is there.
        last = {"alpha": (flushed_a, n_a + extra_a + n_c - 1), "beta": (n_b - 1, n_b - 1)}[run]
        required = set(range(0, last[0] + 1))
        if run == "alpha":
            required |= set(range(first_c, first_c + n_c))
        missing = required - set(steps)
        assert not missing, f"{run}/{tag}: flushed steps not served: {sorted(missing)[:10]}"
        written += len(required)
    runs = {r["name"]: r for r in board.get("/api/runs").json()["runs"]}
    assert runs["alpha"]["corrupt_records"] == 0, "a torn tail record is not corruption"
    assert runs["beta"]["corrupt_records"] == 0
    assert not poller.failures, f"API errors while tailing: {poller.failures[:5]}"
    assert board.get("/healthz").json() == {"status": "ok"}
    record_figure("soak", points_flushed=written, points_on_disk=sum(
        sum(c.values()) for c in on_disk.values()), points_served=served,
        unflushed_written_by_crashed_writer=extra_a * len(TAGS_A),
        api_requests_during_soak=poller.requests, seconds_to_catch_up_after_last_write=round(
            catch_up, 2))


@pytest.mark.server
@pytest.mark.timeout(180)
def test_soak_short(tmp_path, start_board):
    """~20k points over 2 runs, 3 files, a crash and a torn tail."""
    soak(tmp_path, start_board, n_a=2500, extra_a=400, n_b=3000, n_c=1500, flush_every=100,
         pause=0.05, load_timeout=90)


@pytest.mark.server
@pytest.mark.stress
@pytest.mark.timeout(1200)
def test_soak_long(tmp_path, start_board):
    """~330k points: the same scenario at 15x."""
    soak(tmp_path, start_board, n_a=40_000, extra_a=5_000, n_b=50_000, n_c=30_000,
         flush_every=500, pause=0.01, load_timeout=600)


@pytest.mark.server
@pytest.mark.timeout(180)
def test_restart_from_checkpoint_serves_each_step_once(tmp_path, start_board):
    """A job crashes at step ~3000 and resumes from its step-2000 checkpoint, announcing it
    with SessionLog.START (file_version 2): the board drops the orphaned steps >= 2000 of the
    first process (flushed or not) and serves the resumed job's points, each step once."""
    logdir = tmp_path / "logs"
    (logdir / "delta").mkdir(parents=True)
    board = start_board(logdir, "--reload_interval", "0.2")
    tags = ["loss", "acc"]
    proc = run_writer(logdir / "delta", 0, 3000, tags, 100, 0.02, "crash",
                      tmp_path / "ledger_a.txt", 300)
    proc.communicate(timeout=120)
    assert proc.returncode == 3
    _, flushed = read_ledger(tmp_path / "ledger_a.txt")
    assert flushed == 2999
    # Wait until the first job's points are in, so the restart really has to purge.
    wait_for(lambda: (total_points(board, "delta", "acc") or 0) >= 3000, 60,
             "the first job's points")
    time.sleep(1.1)
    proc = run_writer(logdir / "delta", 2000, 2000, tags, 100, 0.02, "restart",
                      tmp_path / "ledger_c.txt", offset=0.125)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    wait_for(lambda: total_points(board, "delta", "acc") == 4000, 60,
             "4000 points: steps 0..1999 of the first job, 2000..3999 of the resumed one")
    time.sleep(1.0)
    for k, tag in enumerate(tags):
        points = served_csv(board, "delta", tag)
        steps = [s for s, _, _ in points]
        assert steps == list(range(4000)), f"{tag}: steps not each served once, in order"
        for s, _, v in points:
            expected = s + 0.25 * k + (0.125 if s >= 2000 else 0.0)
            assert v == expected, f"{tag} step {s}: served {v}, expected {expected}"
    record_figure("soak_restart", first_job_points=(3000 + 300) * len(tags),
                  served=4000 * len(tags))
