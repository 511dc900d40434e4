"""An S3 endpoint that goes down mid-run and comes back (its own SeaweedFS, stopped and
restarted): the board keeps serving what it has, says why in /api/runs, and recovers on its
own; a writer's flush raises, keeps its events, and a later flush stores each exactly once."""

from __future__ import annotations

import pytest
import s3kit
from boardkit import Board

import writer
from writer import storage
from writer.event_file import EventFileError

pytestmark = [pytest.mark.s3, pytest.mark.integration]


@pytest.fixture
def own_server(s3_server):
    """A second server this test may stop; clients reach it through --storage_option."""
    server = s3kit.SeaweedS3()
    try:
        server.make_bucket("faults")
        # Fewer retries than the default five, so the down phase is short.
        storage.set_options({"endpoint_url": server.endpoint,
                             "config_kwargs": {"retries": {"max_attempts": 1}}})
        yield server
    finally:
        storage.set_options({})
        server.close()


def _steps(board: Board) -> list[int]:
    r = board.get("/api/scalars", params={"run": "run", "tag": "x", "max_points": 100_000})
    return r.json()["step"] if r.status_code == 200 else []


def test_endpoint_down_mid_run_then_back(own_server):
    prefix = "s3://faults/logs"
    w = writer.SummaryWriter(prefix + "/run")
    for step in range(10):
        w.add_scalar("x", float(step), step)
    w.flush()
    board = Board(prefix).load()
    assert _steps(board) == list(range(10))

    own_server.stop()
    for step in range(10, 20):
        w.add_scalar("x", float(step), step)
    with pytest.raises(EventFileError, match="stay in memory"):
        w.flush()
    board.load()
    body = board.json("/api/runs")
    assert len(body["errors"]) == 1 and "logdir s3://faults/logs" in body["errors"][0]
    assert s3kit.SECRET_KEY not in str(body)
    assert _steps(board) == list(range(10))  # what was loaded is still served

    own_server.start()
    w.flush()  # the kept events, uploaded once
    w.close()
    board.load()
    assert board.json("/api/runs")["errors"] == []
    assert _steps(board) == list(range(20))
