"""Shared tools of the reliability tests.

- An independent TFRecord oracle (formats.md §1.3): its own framing and CRC masking on top of
  ``google_crc32c``, so the reader under test is never checked against itself.
- Event builders over the protos (``numboard.Event`` with ``Summary.Value.simple_value``).
- ``BoardProcess``: the real ``board`` console script on a free port, its URL parsed from the
  line it prints (``numboard serving DIR at http://127.0.0.1:PORT/``).
- ``wait_for`` polling, and ``record_figure`` which appends measured figures to a JSON-lines
  file (``$NUMBOARD_FIGURES``, default ``<tmp>/numboard-reliability-figures.jsonl``).
"""

from __future__ import annotations

import json
import os
import re
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import google_crc32c
import httpx

from writer.proto import event_pb2, summary_pb2

REPO = Path(__file__).resolve().parents[2]
BOARD = Path(sys.executable).with_name("board")
FIGURES = Path(os.environ.get("NUMBOARD_FIGURES",
                              Path(tempfile.gettempdir()) / "numboard-reliability-figures.jsonl"))
URL_LINE = re.compile(r"numboard serving .* at (http://127\.0\.0\.1:\d+/)")

_MASK_DELTA = 0xA282EAD8


# -- TFRecord oracle ---------------------------------------------------------------------------


def masked_crc(data: bytes) -> int:
    crc = google_crc32c.value(bytes(data))
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def frame(payload: bytes) -> bytes:
    """One TFRecord frame: u64 length, masked CRC of it, payload, masked CRC of payload."""
    header = struct.pack("<Q", len(payload))
    return header + struct.pack("<I", masked_crc(header)) + payload + struct.pack(
        "<I", masked_crc(payload))


def header_only(length: int) -> bytes:
    """A 12-byte header announcing ``length`` bytes, with a correct length CRC."""
    header = struct.pack("<Q", length)
    return header + struct.pack("<I", masked_crc(header))


MAX_RECORD_BYTES = 256 << 20  # the documented default of --max_record_bytes


def oracle_decode(buf: bytes, max_record_bytes: int = MAX_RECORD_BYTES):
    """Reference decoder: (records [(offset, payload)], stop offset, bad_crc, error_offset).

    A checksummed length above ``max_record_bytes`` is an error at that header."""
    records, pos, bad = [], 0, 0
    while len(buf) - pos >= 12:
        (length,) = struct.unpack_from("<Q", buf, pos)
        (len_crc,) = struct.unpack_from("<I", buf, pos + 8)
        if masked_crc(buf[pos:pos + 8]) != len_crc or length > max_record_bytes:
            return records, pos, bad, pos
        if len(buf) - pos - 16 < length:
            break
        payload = buf[pos + 12:pos + 12 + length]
        (data_crc,) = struct.unpack_from("<I", buf, pos + 12 + length)
        if masked_crc(payload) == data_crc:
            records.append((pos, payload))
        else:
            bad += 1
        pos += 16 + length
    return records, pos, bad, None


# -- events ------------------------------------------------------------------------------------


def file_version_event(wall_time: float = 1.0) -> bytes:
    return event_pb2.Event(wall_time=wall_time, file_version="brain.Event:2").SerializeToString()


def scalar_event(tag: str, step: int, value: float, wall_time: float | None = None) -> bytes:
    ev = event_pb2.Event(wall_time=1_700_000_000.0 + step if wall_time is None else wall_time,
                         step=step)
    ev.summary.value.add(tag=tag, simple_value=value)
    return ev.SerializeToString()


def scalar_file_bytes(points: dict[str, list[tuple[int, float]]], wall0: float = 1.0) -> bytes:
    """A whole event file: the file_version record then every (tag, step, value) point."""
    parts = [frame(file_version_event(wall0))]
    for tag, series in points.items():
        parts.extend(frame(scalar_event(tag, s, v)) for s, v in series)
    return b"".join(parts)


def event_file_name(n: int = 0, stamp: int = 1_700_000_000) -> str:
    return f"events.out.tfevents.{stamp + n}.testhost.4242.{n}"


def scalars_of_file(path: Path) -> list[tuple[str, int, float]]:
    """Every (tag, step, value) of simple_value scalars in a file, read by the oracle."""
    records, _, _, _ = oracle_decode(Path(path).read_bytes())
    out = []
    for _, payload in records:
        ev = event_pb2.Event.FromString(payload)
        for v in ev.summary.value:
            if v.WhichOneof("value") == "simple_value":
                out.append((v.tag, ev.step, v.simple_value))
    return out


def summary_proto(tag: str, value: float) -> summary_pb2.Summary:
    return summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)])


# -- the board process --------------------------------------------------------------------------


class BoardProcess:
    """``board --logdir D --port 0`` as a child process; ``.url`` once it listens."""

    def __init__(self, logdir: Path | str, *args: str, log_path: Path, env: dict | None = None,
                 prefix: tuple[str, ...] = (), start_timeout: float = 30.0) -> None:
        cmd = [*prefix, str(BOARD), "--logdir", str(logdir), "--port", "0", *args]
        self.logdir = Path(logdir)
        self._client: httpx.Client | None = None
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._log,
                                     stdin=subprocess.DEVNULL, text=True,
                                     env={**os.environ, **(env or {})})
        self.pid = self.proc.pid
        self.stdout: list[str] = []
        self._url = threading.Event()
        self.url = ""
        threading.Thread(target=self._drain, daemon=True).start()
        if not self._url.wait(start_timeout):
            self.stop()
            raise AssertionError(f"board did not print its URL within {start_timeout}s; "
                                 f"stdout={self.stdout!r} log={self.log_text()[-2000:]!r}")

    def _drain(self) -> None:
        for line in self.proc.stdout:
            self.stdout.append(line)
            m = URL_LINE.search(line)
            if m and not self.url:
                self.url = m.group(1)
                self._url.set()

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.proc.poll() is None

    def get(self, path: str, params: dict | None = None, timeout: float = 30.0,
            headers: dict | None = None, **kw) -> httpx.Response:
        """GET on a keep-alive client reused for this board (creating an httpx.Client costs
        ~40 ms: it loads CA certificates)."""
        if self._client is None:
            self._client = httpx.Client(timeout=timeout)
        return self._client.get(self.url.rstrip("/") + path, params=params, timeout=timeout,
                                headers=headers, **kw)

    def stop(self) -> None:
        if self._client is not None:
            self._client.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):
    """Poll ``predicate()`` until it returns a truthy value; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = predicate()
        except (httpx.HTTPError, OSError) as exc:  # the server may be busy or restarting
            last = exc
        else:
            if last:
                return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")
        time.sleep(interval)


def served_csv(board: BoardProcess, run: str, tag: str) -> list[tuple[int, float, float]]:
    """Every point of (run, tag) from ``/api/scalars?format=csv`` as (step, wall_time, value)."""
    r = board.get("/api/scalars", {"run": run, "tag": tag, "format": "csv"})
    r.raise_for_status()
    lines = r.text.strip().splitlines()
    assert lines[0].replace(" ", "") == "step,wall_time,value", lines[0]
    out = []
    for line in lines[1:]:
        step, wall, value = line.split(",")
        out.append((int(step), float(wall), float(value)))
    return out


def total_points(board: BoardProcess, run: str, tag: str) -> int | None:
    r = board.get("/api/scalars", {"run": run, "tag": tag, "max_points": 4})
    if r.status_code == 404:
        return None
    r.raise_for_status()
    return r.json()["total_points"]


def record_figure(name: str, **values) -> None:
    """Append measured figures (for the report) to FIGURES and echo them to stdout."""
    line = json.dumps({"figure": name, "time": time.strftime("%H:%M:%S"), **values})
    print(line)
    with open(FIGURES, "a") as f:
        f.write(line + "\n")
