"""Integration tests of static file caching: ETag, revalidation with 304, gzip once."""

from __future__ import annotations

import os

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def board(board_factory, tmp_path):
    root = tmp_path / "frontend"
    (root / "js").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>numboard</title>")
    (root / "js" / "app.js").write_text("export const x = 1;\n" * 200)
    (tmp_path / "logs").mkdir()
    return board_factory(tmp_path / "logs", frontend_dir=root), root


@pytest.mark.parametrize("path", ["/", "/js/app.js", "/static/plotly.min.js"])
def test_revalidation_with_the_etag_is_a_304(board, path):
    b, _ = board
    first = b.get(path)
    assert first.status_code == 200
    assert first.headers["cache-control"] == "no-cache"
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = b.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert b.get(path, headers={"If-None-Match": 'W/"other", ' + etag}).status_code == 304
    other = b.get(path, headers={"If-None-Match": '"stale"'})
    assert other.status_code == 200 and other.content == first.content


def test_plotly_is_sent_gzipped_and_whole(board):
    b, _ = board
    r = b.get("/static/plotly.min.js", headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    assert int(r.headers["content-length"]) < len(r.content) // 2  # decoded by httpx
    plain = b.client.get("/static/plotly.min.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == r.content
    assert plain.headers["content-type"].startswith("text/javascript")


def test_a_file_edited_on_disk_is_served_with_a_new_etag(board):
    b, root = board
    first = b.get("/js/app.js")
    app_js = root / "js" / "app.js"
    app_js.write_text("export const x = 2;\n")
    stat = app_js.stat()
    os.utime(app_js, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # a later mtime
    second = b.get("/js/app.js", headers={"If-None-Match": first.headers["etag"]})
    assert second.status_code == 200 and second.text == "export const x = 2;\n"
    assert second.headers["etag"] != first.headers["etag"]
    assert b.get("/nope.js").status_code == 404
