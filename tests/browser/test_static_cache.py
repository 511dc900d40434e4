"""The page's service worker (frontend/sw.js) in a real browser against the real board: a
repeat visit takes the content-hashed static files from CacheStorage, while the page, the API
and the event stream still come from the board, with and without the auth token."""

from __future__ import annotations

import os
import urllib.error
import urllib.request

import pytest

from .conftest import BOARD, Board, PageRecord
from .helpers import wait_card_drawn
from .logdirs import card_tools

pytestmark = pytest.mark.browser

SW_READY = """() => Promise.race([navigator.serviceWorker.ready.then(() => true),
    new Promise((done) => setTimeout(() => done(false), 20000))])"""
CACHED = """async () => {
    const cache = await caches.open('numboard-static');
    return (await cache.keys()).map((request) => request.url);
}"""


@pytest.fixture
def fresh_context(playwright_browser):
    """A context of its own: the worker it registers serves no other test."""
    context = playwright_browser.new_context(viewport={"width": 1400, "height": 900})
    yield context
    context.close()


def visit(context, url):
    """Open `url` until the scalars are drawn: (page, record, {url: from the worker?})."""
    page = context.new_page()
    record = PageRecord(page, url)
    served = {}
    page.on("response", lambda r: served.__setitem__(r.url, r.from_service_worker))
    page.goto(url)
    wait_card_drawn(page, "loss/train")
    return page, record, served


def check_repeat_visit(context, url, origin):
    first, record, served = visit(context, url)
    assert not any(served.values())  # nothing to serve yet
    assert first.evaluate(SW_READY)
    cached = first.evaluate(CACHED)
    assert any(u.endswith("/static/plotly.min.js") for u in cached)
    assert any(u.endswith("/js/app.js") for u in cached)
    assert all(u.startswith(origin + "h/") for u in cached), cached  # no page, no API answer
    record.assert_clean()

    second, record2, served2 = visit(context, url)
    assert second.evaluate("Boolean(navigator.serviceWorker.controller)")
    plotly = [u for u in served2 if u.endswith("/static/plotly.min.js")]
    assert plotly and all(served2[u] for u in plotly)
    assert all(served2[u] for u in served2 if u.startswith(origin + "h/"))
    api = [u for u in served2 if "/api/" in u]
    assert api and not any(served2[u] for u in api)  # data always from the board
    assert not served2[second.url]  # the page too
    record2.assert_clean()
    return second


def test_a_repeat_visit_takes_the_static_files_from_the_worker(tools_board, fresh_context):
    page = check_repeat_visit(fresh_context, tools_board.url, tools_board.url)
    # a file the cache lost (storage pressure, an older worker) comes from the board again
    page.evaluate("""async () => {
        const cache = await caches.open('numboard-static');
        for (const request of await cache.keys()) {
            if (request.url.endsWith('/js/app.js') || request.url.endsWith('/css/base.css')) {
                await cache.delete(request);
            }
        }
    }""")
    third, record, served = visit(fresh_context, tools_board.url)
    lost = [u for u in served if u.endswith(("/js/app.js", "/css/base.css"))]
    assert len(lost) == 2 and all(u.startswith(tools_board.url + "h/") for u in lost)
    record.assert_clean()


def test_the_worker_works_with_the_auth_token(tmp_path, playwright_browser, fresh_context):
    if not BOARD.exists():
        pytest.skip(f"{BOARD} is missing; install numboard into the venv (pip install -e .)")
    token = "static-cache-token"
    board = Board(card_tools(tmp_path), env={**os.environ, "BOARD_AUTH_TOKEN": token})
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:  # the token is really needed
            urllib.request.urlopen(board.url + "sw.js", timeout=5)
        assert refused.value.code == 401
        page = check_repeat_visit(fresh_context, board.url + f"?token={token}", board.url)
        assert "token" not in page.url
        # the worker answers only what it stored: a request it does not hold still needs the
        # token, and without the cookie the board refuses the page
        fresh_context.clear_cookies()
        refused_page = fresh_context.new_page()
        response = refused_page.goto(board.url)
        assert response.status == 401 and not response.from_service_worker
        assert refused_page.locator("#view-scalars").count() == 0
        refused_page.close()
    finally:
        board.stop()
