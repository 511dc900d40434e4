"""Compat: TensorBoard's own loader (EventAccumulator over its S3 gfile, boto3) reads a
finished run that writer.SummaryWriter left in a real S3 bucket as several objects: every
point once, in order, and the images and histograms too."""

from __future__ import annotations

import os

import numpy as np
import pytest

import writer
from writer import object_file
from writer.storage import storage_for

pytestmark = [pytest.mark.s3, pytest.mark.compat]


def test_tensorboard_reads_a_finished_run_from_the_bucket(s3_prefix, s3_server, monkeypatch):
    pytest.importorskip("boto3", reason="TensorBoard's S3 support needs boto3 (test extra)")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    monkeypatch.setattr(object_file, "SEAL_BYTES", 4000)  # leave several sealed objects
    rng = np.random.default_rng(3)
    with writer.SummaryWriter(s3_prefix + "/run") as w:
        for step in range(500):
            w.add_scalar("loss", 1.0 / (step + 1), step)
            if step % 100 == 0:
                w.add_histogram("weights", rng.normal(size=100), step)
                w.add_image("sample", rng.integers(0, 255, (4, 4, 3), dtype=np.uint8), step)
            if step % 20 == 19:
                w.flush()
    objects = storage_for(s3_prefix).list(s3_prefix)
    assert len(objects) > 3  # TensorBoard has to stitch several objects

    monkeypatch.setenv("S3_ENDPOINT", os.environ["AWS_ENDPOINT_URL"])  # TensorBoard's name
    acc = EventAccumulator(s3_prefix + "/run",
                           size_guidance={"scalars": 0, "images": 0, "histograms": 0})
    acc.Reload()
    loss = acc.Scalars("loss")
    assert [e.step for e in loss] == list(range(500))
    assert loss[-1].value == pytest.approx(1 / 500)
    assert [e.step for e in acc.Histograms("weights")] == [0, 100, 200, 300, 400]
    assert [e.step for e in acc.Images("sample")] == [0, 100, 200, 300, 400]
