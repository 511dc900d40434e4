"""--max_record_bytes: a record header claiming more stops that file with an error in the
run's `errors` (not a silent stall, not an allocation), and bad values of the flag are refused
with a clear message."""

from __future__ import annotations

import struct
import subprocess
import sys

import pytest
from boardkit import BOARD_BIN, WAIT, frames, scalar_event, write_events

from writer.record import encode_record, length_crc

pytestmark = pytest.mark.integration

EV = "events.out.tfevents.1700000000.host"


def _info(b, name):
    return next(r for r in b.json("/api/runs")["runs"] if r["name"] == name)


def _steps(b, run, tag):
    return b.json("/api/scalars", params={"run": run, "tag": tag})["step"]


@pytest.mark.parametrize("claim", [1 << 63, (256 << 20) + 1])
def test_header_past_the_cap_is_reported_in_errors(board_factory, tmp_path, claim):
    path = write_events(tmp_path / "r" / EV, *(scalar_event("x", i, i) for i in range(5)))
    with open(path, "ab") as f:
        f.write(struct.pack("<QI", claim, length_crc(claim)) + b"\0" * 64)
    write_events(tmp_path / "ok" / EV, scalar_event("y", 1.0, 1))
    b = board_factory(tmp_path).load()
    info = _info(b, "r")
    assert len(info["errors"]) == 1 and "--max_record_bytes" in info["errors"][0]
    assert str(claim) in info["errors"][0]
    assert _steps(b, "r", "x") == [0, 1, 2, 3, 4]
    assert _steps(b, "ok", "y") == [1]


def test_the_cap_is_the_loaders_setting(board_factory, tmp_path):
    big = scalar_event("x" * 100, 9.0, 9)
    write_events(tmp_path / "r" / EV, scalar_event("x", 1.0, 1), big)
    b = board_factory(tmp_path)
    b.app.state.loader.max_record_bytes = len(big.SerializeToString()) - 1
    b.load()
    assert _steps(b, "r", "x") == [1] and "--max_record_bytes" in _info(b, "r")["errors"][0]
    with open(tmp_path / "r" / EV, "ab") as f:  # the file stays stopped
        f.write(frames(scalar_event("x", 2.0, 2)) + encode_record(b""))
    assert _steps(b.load(), "r", "x") == [1]


@pytest.mark.parametrize("value", ["0", "-5"])
def test_bad_flag_values_are_refused(tmp_path, value):
    cmd = [str(BOARD_BIN)] if BOARD_BIN.exists() else [sys.executable, "-m", "board"]
    r = subprocess.run(cmd + ["--logdir", str(tmp_path), "--max_record_bytes", value],
                       capture_output=True, text=True, timeout=WAIT)
    assert r.returncode == 2
    assert f"--max_record_bytes {value}" in r.stderr and "positive" in r.stderr
