"""Helpers for the board tests: real event files in tmp dirs, the in-process app driven by
hand, and the real `board` process on a free 127.0.0.1 port. (A uniquely named module, so
the whole suite's other conftest.py files cannot shadow it.)"""

from __future__ import annotations

import math
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
from fastapi.testclient import TestClient

from board.app import create_app
from writer.proto import event_pb2
from writer.record import encode_record

REPO = Path(__file__).resolve().parents[2]
BOARD_BIN = Path(sys.executable).parent / "board"
WAIT = 30.0  # generous upper bound for anything asynchronous; never a pass criterion


def event(step=0, wall_time=1.0, **fields) -> event_pb2.Event:
    return event_pb2.Event(step=step, wall_time=wall_time, **fields)


def scalar_event(tag: str, value: float, step: int, wall_time: float | None = None):
    ev = event(step=step, wall_time=1_700_000_000.0 + step if wall_time is None else wall_time)
    v = ev.summary.value.add()
    v.tag = tag
    v.simple_value = value
    return ev


def ema_oracle(values, weight: float) -> np.ndarray:
    """TensorBoard's debiased EMA from its closed form, not its recurrence: the n-th finite
    point becomes (1-w)·Σ_k w^(n-k)·y_k / (1 - w^n) (w = 1: 0), summed exactly with fsum.
    Non-finite points pass through and are not counted; a constant series is unchanged."""
    y = np.asarray(values, dtype=np.float64)
    out = y.copy()
    if len(y) == 0 or np.all(y == y[0]):
        return out
    w = min(max(float(weight), 0.0), 1.0)
    where = np.flatnonzero(np.isfinite(y))
    finite = y[where]
    for n in range(1, len(finite) + 1):
        if w == 1.0:
            out[where[n - 1]] = 0.0
            continue
        powers = w ** np.arange(n - 1, -1, -1, dtype=np.float64)
        out[where[n - 1]] = (1 - w) * math.fsum(powers * finite[:n]) / (1 - w**n)
    return out


def frames(*events) -> bytes:
    return b"".join(encode_record(e.SerializeToString()) for e in events)


def write_events(path: Path, *events, version: str | None = "brain.Event:2",
                 mode: str = "ab") -> Path:
    """Append framed events to `path` (with a file_version record first when new)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    head = b""
    if version is not None and not path.exists():
        head = frames(event(file_version=version))
    with open(path, mode) as f:
        f.write(head + frames(*events))
    return path


class Board:
    """The in-process app with its loader driven by hand: `load()` runs one read cycle."""

    def __init__(self, logdir, **kwargs) -> None:
        kwargs.setdefault("watch", False)
        self.app = create_app(logdir, **kwargs)
        self.client = TestClient(self.app, base_url="http://127.0.0.1",
                                 raise_server_exceptions=False)

    def load(self) -> Board:
        self.app.state.loader.cycle()
        return self

    def get(self, url: str, **kw) -> httpx.Response:
        return self.client.get(url, **kw)

    def json(self, url: str, **kw):
        r = self.get(url, **kw)
        assert r.status_code == 200, (url, r.status_code, r.text)
        return r.json()


class BoardProcess:
    """The real `board` command on a free port; `url` comes from its printed line."""

    def __init__(self, args: list[str], env: dict | None = None) -> None:
        cmd = [str(BOARD_BIN)] if BOARD_BIN.exists() else [sys.executable, "-m", "board"]
        self.proc = subprocess.Popen(cmd + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env={**os.environ, **(env or {})}, cwd=REPO)
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.stderr: list[str] = []
        threading.Thread(target=self._pump_err, daemon=True).start()
        try:
            self.banner = self.lines.get(timeout=WAIT)
        except queue.Empty:
            self.stop()
            raise AssertionError(f"board printed no URL; stderr: {''.join(self.stderr)}") \
                from None
        assert self.banner.startswith("numboard serving "), self.banner
        self.url = self.banner.rsplit(" at ", 1)[1].strip()

    def _pump(self) -> None:
        with self.proc.stdout:  # closed at EOF, when the board has exited
            for line in self.proc.stdout:
                self.lines.put(line)

    def _pump_err(self) -> None:
        with self.proc.stderr:
            for line in self.proc.stderr:
                self.stderr.append(line)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def wait_until(predicate, what: str, timeout: float = WAIT, interval: float = 0.05):
    """Poll `predicate` until it returns a truthy value (a wait, not a timed assertion)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
        except (httpx.HTTPError, KeyError, IndexError, ValueError):
            last = None
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"gave up waiting for {what}")
