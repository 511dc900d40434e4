"""Pure parts of the object-storage layer: URL detection, --storage_option parsing, secret
masking, ranged object names and choosing the object that covers an offset."""

from __future__ import annotations

import pytest

from board.loader.discover import Source, parse_logdir_spec, sources_for
from writer import storage
from writer.object_file import (
    Piece,
    covering,
    group_pieces,
    object_url,
    parse_object_url,
)
from writer.storage import ObjectInfo

pytestmark = pytest.mark.unit


def test_which_locations_are_urls():
    assert storage.is_url("s3://b/p") and storage.is_url("gs://b") and storage.is_url("memory://x")
    assert not storage.is_url("logs/run") and not storage.is_url("/abs/path")
    assert not storage.is_url("file:///tmp/x") and storage.local_path("file:///tmp/x") == "/tmp/x"
    assert not storage.is_url("C:\\logs")


def test_storage_options_are_typed_and_bad_ones_name_the_fix():
    assert storage.parse_option("anon=true") == ("anon", True)
    assert storage.parse_option("max_concurrency=4") == ("max_concurrency", 4)
    assert storage.parse_option("endpoint_url=http://h:1/x=y") == ("endpoint_url", "http://h:1/x=y")
    with pytest.raises(ValueError, match="'nonsense'.* is not key=value; write e.g."):
        storage.parse_option("nonsense")


def test_errors_never_show_secrets(monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "very-secret-value")
    storage.set_options({"secret": "option-secret-value"})
    try:
        text = storage.describe(RuntimeError("signed with very-secret-value and "
                                             "option-secret-value"))
    finally:
        storage.set_options({})
    assert "very-secret" not in text and "option-secret" not in text and text.count("***") == 2
    assert storage.redact_url("s3://AKIA:abc@bucket/p") == "s3://bucket/p"


def test_object_names_sort_in_write_order_and_parse_back():
    names = [object_url("s3://b/r/events.out.tfevents.1.h", a, b)
             for a, b in [(0, 10), (10, 2000), (2000, 10_000_000)]]
    assert names == sorted(names)
    assert parse_object_url(names[1]) == ("s3://b/r/events.out.tfevents.1.h", 10, 2000)
    assert parse_object_url("s3://b/r/events.out.tfevents.1.h") is None
    assert parse_object_url("s3://b/r/x.0000000000010-0000000000010") is None  # empty range


def test_pieces_group_by_event_file_and_a_merge_covers_its_parts():
    base = "s3://b/r/events.out.tfevents.1.h"
    objects = [ObjectInfo(object_url(base, 0, 100), 100, "e1"),
               ObjectInfo(object_url(base, 100, 150), 50, "e2"),
               ObjectInfo(object_url(base, 0, 150), 150, "e3"),  # merged, parts not yet gone
               ObjectInfo("s3://b/r/events.out.tfevents.2.other", 70, "e4"),
               ObjectInfo(object_url(base, 150, 999), 3, "bad")]  # size disagrees: not ours
    files = group_pieces(objects)
    assert sorted(files) == [base, object_url(base, 150, 999), "s3://b/r/events.out.tfevents.2.other"]
    assert covering(files[base], 0).end == 150 and covering(files[base], 120).end == 150
    assert covering(files[base], 150) is None
    whole = files["s3://b/r/events.out.tfevents.2.other"][0]
    assert whole == Piece(whole.url, 0, 70, "e4", ranged=False)


def test_logdir_spec_and_logdir_keep_urls_whole():
    assert sources_for("s3://b/p", None) == [Source(None, "s3://b/p")]
    assert parse_logdir_spec("s3://b/p,x:gs://c/q") == [Source(None, "s3://b/p"),
                                                       Source("x", "gs://c/q")]
