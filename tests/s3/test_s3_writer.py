"""SummaryWriter on object storage (a real SeaweedFS S3 server, and fsspec's memory://): each
flush is one new object holding only the new events, names sort in write order, every
object is an event file on its own, merged objects replace their parts, and a reader that
interleaves with the writer sees every point exactly once."""

from __future__ import annotations

import numpy as np
import pytest

import writer
from writer import object_file
from writer.event_file import EventFileError
from writer.events import parse_event
from writer.object_file import ObjectTail, group_pieces, parse_object_url
from writer.record import decode_records
from writer.storage import storage_for

pytestmark = [pytest.mark.s3, pytest.mark.integration]


def _objects(url: str):
    return storage_for(url).list(url)


def _steps(records) -> list[int]:
    out = []
    for rec in records:
        event = parse_event(rec.data)
        if event.HasField("summary"):
            out.append(event.step)
    return out


def _read_all(prefix: str) -> tuple[list[int], int]:
    files = group_pieces(_objects(prefix))
    assert len(files) == 1, sorted(files)
    (url, pieces), = files.items()
    tail = ObjectTail(url)
    tail.pieces = pieces
    dec = tail.read()
    assert dec.error is None and dec.bad_crc == 0
    return _steps(dec.records), dec.offset


def test_each_flush_uploads_only_new_events_as_a_valid_event_file(s3_prefix):
    w = writer.SummaryWriter(s3_prefix + "/run", max_queue=1)
    for flush in range(3):
        for i in range(10):
            w.add_scalar("loss", float(i), flush * 10 + i)
        w.flush()  # durable from here: the objects are listed
    objects = _objects(s3_prefix)
    assert len(objects) == 4  # the version record, then one object per flush
    ranges = [parse_object_url(o.url)[1:] for o in objects]
    assert ranges == sorted(ranges) and all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
    assert [o.size for o in objects] == [end - start for start, end in ranges]
    store = storage_for(s3_prefix)
    for obj in objects[1:]:  # each object alone is whole records: an event file
        dec = decode_records(store.read(obj.url))
        assert dec.error is None and dec.offset == obj.size and len(dec.records) == 10
    assert w._file._objects.uploaded == sum(o.size for o in objects)  # nothing sent twice
    w.close()
    steps, _ = _read_all(s3_prefix)
    assert steps == list(range(30))


def test_close_merges_the_parts_into_one_object(s3_prefix):
    with writer.SummaryWriter(s3_prefix + "/run") as w:
        for i in range(50):
            w.add_scalar("loss", float(i), i)
            w.flush()
    objects = _objects(s3_prefix)
    assert len(objects) == 1
    name, start, end = parse_object_url(objects[0].url)
    assert (start, end) == (0, objects[0].size)
    assert _read_all(s3_prefix)[0] == list(range(50))


def test_large_run_is_sealed_and_joined_on_the_server(s3_prefix):
    """Real sizes: 1 MiB flushes, 5 MiB seals, 8 seals joined with UploadPartCopy; every
    byte is uploaded twice at most and the objects left are few."""
    w = writer.SummaryWriter(s3_prefix + "/run", flush_secs=float("inf"))
    step = 0
    while w._file._objects.offset < 10 * object_file.SEAL_BYTES:
        for _ in range(24_000):
            w.add_scalar("loss", 0.5, step)
            step += 1
        w.flush()
    objects_before_close = len(_objects(s3_prefix))
    w.close()
    appender = w._file._objects
    objects = _objects(s3_prefix)
    assert objects_before_close <= object_file.FANOUT
    sizes = [o.size for o in objects]
    assert len(objects) <= 4 and max(sizes) >= 8 * object_file.SEAL_BYTES, sizes
    assert appender.uploaded <= 2.05 * appender.offset
    steps, offset = _read_all(s3_prefix)
    assert offset == appender.offset
    assert steps == list(range(step))


@pytest.mark.parametrize("where", ["memory", "s3"])
def test_a_reader_interleaved_with_merges_sees_every_point_once(where, s3_prefix, monkeypatch):
    """Small seals so that merges (download + re-upload, and server joins on S3) happen
    between the reader's listings; the reader continues inside whichever object covers its
    offset."""
    monkeypatch.setattr(object_file, "SEAL_BYTES", 600)
    monkeypatch.setattr(object_file, "FANOUT", 3)
    prefix = s3_prefix if where == "s3" else "memory://numboard" + s3_prefix[4:]
    w = writer.SummaryWriter(prefix + "/run")
    seen: list[int] = []
    tail = None
    rng = np.random.default_rng(0)
    step = 0
    for _ in range(60):
        for _ in range(int(rng.integers(1, 12))):
            w.add_scalar("loss", 1.0, step)
            step += 1
        w.flush()
        if rng.random() < 0.5:
            (url, pieces), = group_pieces(_objects(prefix)).items()
            tail = tail or ObjectTail(url)
            tail.pieces = pieces
            seen += _steps(tail.read().records)
    w.close()
    (url, pieces), = group_pieces(_objects(prefix)).items()
    tail.pieces = pieces
    seen += _steps(tail.read().records)
    assert seen == list(range(step))
    assert len(pieces) < 30  # merged: far fewer objects than the 61 flushes


def test_missing_bucket_is_a_clear_error(s3_server):
    with pytest.raises(EventFileError, match="bucket 'no-such-bucket-x1' .* does not exist"):
        writer.SummaryWriter("s3://no-such-bucket-x1/run")


def test_flow_file_writer_writes_to_s3(s3_prefix):
    import flow as tf

    graph = tf.Graph()
    with graph.as_default():
        x = tf.constant(3.0, name="x")
        summary = tf.summary.scalar("x", x)
        with tf.Session() as sess:
            fw = tf.summary.FileWriter(s3_prefix + "/flow", graph=graph)
            for step in range(5):
                fw.add_summary(sess.run(summary), step)
            fw.close()
    assert _read_all(s3_prefix)[0] == list(range(5))
