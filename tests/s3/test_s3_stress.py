"""Stress (make stress): a bucket prefix of KEYS keys — checkpoint files around 100 runs — is
discovered with one paginated listing: one LIST page per 1000 keys, no GET on an idle poll,
and every run served. (Creating the keys is the slow part: SeaweedFS stores about 70 keys a
second here, so 20,000 take ~5 minutes; NUMBOARD_S3_KEYS=100000 runs 100,000 keys.)"""

from __future__ import annotations

import os

import pytest
from boardkit import Board, event, frames, scalar_event

from writer.storage import storage_for

KEYS = int(os.environ.get("NUMBOARD_S3_KEYS", "20000"))

pytestmark = [pytest.mark.s3, pytest.mark.stress]


def test_a_many_key_listing(s3_prefix):
    store = storage_for(s3_prefix)
    fs = store.fs
    data = frames(event(file_version="brain.Event:2"), scalar_event("x", 1.0, 1))
    batch = {}
    for run in range(100):
        base = f"{store.path_of(s3_prefix)}/run{run:03d}"
        batch[f"{base}/events.out.tfevents.1.host"] = data
        for i in range(KEYS // 100 - 1):
            batch[f"{base}/ckpt/model.ckpt-{i}.index"] = b"x"
    fs.pipe(batch)  # concurrent PUTs
    board = Board(s3_prefix).load()
    assert len(board.json("/data/runs")) == 100
    fs.connect()
    calls: list[str] = []
    fs.s3.meta.events.register("before-call.s3", lambda model, **kw: calls.append(model.name))
    board.load()
    assert calls == ["ListObjectsV2"] * (KEYS // 1000)  # one page per 1000 keys
