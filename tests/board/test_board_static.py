"""Integration tests of static file caching: ETag, revalidation with 304, gzip once."""

from __future__ import annotations

import os
import re

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


@pytest.fixture
def page_board(board_factory, tmp_path):
    root = tmp_path / "frontend"
    (root / "js").mkdir(parents=True)
    (root / "index.html").write_text(
        '<!doctype html><link rel="preload" href="static/plotly.min.js" as="script">'
        '<script type="module" src="js/app.js"></script><a href="api/runs">runs</a>'
        '<a href="https://example.org/js/app.js">elsewhere</a>')
    (root / "js" / "app.js").write_text('import "./util.js";\n')
    (root / "js" / "util.js").write_text("export const y = 1;\n")
    (tmp_path / "logs").mkdir()
    return board_factory(tmp_path / "logs", frontend_dir=root), root


def hashed_urls(html: str) -> dict[str, str]:
    """path -> /h/<digest>/path for every hashed reference in index.html."""
    return {m.group(2): "/" + m.group(0) for m in re.finditer(r"h/(\w+)/([\w./]+)", html)}


def test_the_page_loads_its_files_under_content_hashed_immutable_urls(page_board):
    b, root = page_board
    page = b.get("/")
    assert page.headers["cache-control"] == "no-cache"
    urls = hashed_urls(page.text)
    assert set(urls) == {"static/plotly.min.js", "js/app.js"}
    assert 'href="api/runs"' in page.text  # API links and other hosts are left alone
    assert 'href="https://example.org/js/app.js"' in page.text
    for path, url in urls.items():
        r = b.get(url)
        assert r.status_code == 200 and r.content == b.get("/" + path).content
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    # a module's relative import resolves into the same hashed folder
    util = urls["js/app.js"].replace("app.js", "util.js")
    assert "immutable" in b.get(util).headers["cache-control"]
    # plotly's digest is its own: a frontend edit leaves its URL alone
    (root / "js" / "util.js").write_text("export const y = 2;\n")
    stat = (root / "js" / "util.js").stat()
    os.utime(root / "js" / "util.js", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    edited = hashed_urls(b.get("/").text)
    assert edited["static/plotly.min.js"] == urls["static/plotly.min.js"]
    assert edited["js/app.js"] != urls["js/app.js"]
    new_util = edited["js/app.js"].replace("app.js", "util.js")
    assert b.get(new_util).text == "export const y = 2;\n"
    # the old digest still answers (a page opened before the edit), but is not cached
    stale = b.get(util)
    assert stale.text == "export const y = 2;\n" and stale.headers["cache-control"] == "no-cache"
    assert b.get("/h/0123/js/nope.js").status_code == 404
