"""SIGTERM / SIGINT at any moment, the initial load included, end the board and everything
it started (issue: a killed board used to leave its decoding processes running for good).

The fast variants kill a board loading 200k points; the stress variant kills one loading the
1M-point logdir of the benchmarks while `/api/runs` still says it is loading. Each records how
long the exit took (the target, 2 s, is reported, not asserted: timings here are shared-CPU)."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest
from relsupport import BOARD, URL_LINE, event_file_name, frame, record_figure, scalar_event

pytestmark = [pytest.mark.server, pytest.mark.timeout(300)]


def _logdir(root: Path, runs: int, tags: int, steps: int) -> Path:
    """runs × tags × steps scalars, one event file per run (written with the TF protos)."""
    marker = root / f".complete-{runs}x{tags}x{steps}"
    if marker.exists():
        return root
    root.mkdir(parents=True, exist_ok=True)
    for r in range(runs):
        parts = [frame(scalar_event(f"tag{t}", s, float(s % 97)))
                 for s in range(steps) for t in range(tags)]
        (root / f"run{r:02d}").mkdir(exist_ok=True)
        (root / f"run{r:02d}" / event_file_name(r)).write_bytes(b"".join(parts))
    marker.touch()
    return root


def _kill_and_watch(proc: subprocess.Popen, sig: int) -> tuple[float, list[psutil.Process]]:
    """Send ``sig``; return (seconds until the process ended, its processes still alive)."""
    tree = [psutil.Process(proc.pid)]
    tree += tree[0].children(recursive=True)
    t = time.perf_counter()
    proc.send_signal(sig)
    proc.wait(timeout=60)  # a hang guard: the exit time itself is reported
    took = time.perf_counter() - t
    gone, alive = psutil.wait_procs(tree[1:], timeout=5)
    return took, [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]


def _spawn(logdir: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen([str(BOARD), "--logdir", str(logdir), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=log.open("wb"), text=True)


@pytest.fixture(scope="module")
def logdir_200k(tmp_path_factory):
    return _logdir(tmp_path_factory.mktemp("shutdown"), 4, 5, 10_000)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_while_starting_and_loading_ends_everything(logdir_200k, tmp_path, sig):
    proc = _spawn(logdir_200k, tmp_path / "board.log")
    try:
        time.sleep(0.3)  # imports and the first reads are under way
        assert proc.poll() is None, "the board ended on its own"
        took, alive = _kill_and_watch(proc, sig)
    finally:
        if proc.poll() is None:
            proc.kill()
    record_figure("shutdown_while_starting", signal=sig.name, seconds=round(took, 3))
    assert proc.returncode is not None and not alive


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_after_listening_ends_everything(logdir_200k, tmp_path, sig):
    proc = _spawn(logdir_200k, tmp_path / "board.log")
    try:
        for line in proc.stdout:
            if URL_LINE.search(line):
                break
        took, alive = _kill_and_watch(proc, sig)
    finally:
        if proc.poll() is None:
            proc.kill()
    record_figure("shutdown_after_listening", signal=sig.name, seconds=round(took, 3))
    assert proc.returncode is not None and not alive


@pytest.mark.stress
def test_sigterm_mid_load_of_1m_points(tmp_path):
    import httpx

    logdir = _logdir(Path.home() / ".cache" / "numboard-bench" / "protos-20x10x5000", 20, 10,
                     5000)
    proc = _spawn(logdir, tmp_path / "board.log")
    try:
        url = ""
        for line in proc.stdout:
            m = URL_LINE.search(line)
            if m:
                url = m.group(1)
                break
        loading = httpx.get(url + "api/runs", timeout=30).json()["loading"]
        took, alive = _kill_and_watch(proc, signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
    record_figure("shutdown_mid_load_1m", loading=loading, seconds=round(took, 3))
    assert loading, "the load had finished before the signal: nothing was tested"
    assert proc.returncode is not None and not alive
