"""Integration tests of headers, static files and the auth token (SPEC §9)."""

from __future__ import annotations

import pytest
from boardkit import scalar_event, write_events

from board.security import COOKIE

pytestmark = pytest.mark.integration

EV = "events.out.tfevents.1700000000.host"
TOKEN = "s3cret-Tok;en=x"


@pytest.fixture
def frontend(tmp_path):
    root = tmp_path / "frontend"
    (root / "js").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>numboard</title>")
    (root / "js" / "app.js").write_text("export const x = 1;\n")
    (root / "css").mkdir()
    (root / "css" / "app.css").write_text("body{}\n")
    return root


@pytest.fixture
def logdir(tmp_path):
    write_events(tmp_path / "logs" / "r" / EV, *(scalar_event("x", i, i) for i in range(3000)))
    return tmp_path / "logs"


def test_static_files_from_the_whitelist(board_factory, logdir, frontend):
    b = board_factory(logdir, frontend_dir=frontend)
    r = b.get("/")
    assert r.status_code == 200 and "numboard" in r.text
    assert r.headers["content-type"].startswith("text/html")
    r = b.get("/js/app.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert b.get("/css/app.css").headers["content-type"].startswith("text/css")
    r = b.get("/static/plotly.min.js")
    assert r.status_code == 200 and len(r.content) > 1_000_000
    (frontend / "late.js").write_text("1")  # not in the whitelist built at start-up
    assert b.get("/late.js").status_code == 404


@pytest.mark.parametrize("path", ["/js/%2e%2e/index.html", "/..%2findex.html",
                                  "/js/../../logs/r/" + EV, "/%2e%2e/%2e%2e/etc/passwd",
                                  "/js", "/js/"])
def test_no_path_escapes(board_factory, logdir, frontend, path):
    b = board_factory(logdir, frontend_dir=frontend)
    r = b.get(path)
    assert r.status_code == 404 and r.json()["error"]["code"] == 404


def test_security_headers_everywhere(board_factory, logdir, frontend):
    b = board_factory(logdir, frontend_dir=frontend).load()
    for url in ["/", "/js/app.js", "/api/runs", "/api/scalars?run=r&tag=x", "/nope",
                "/api/scalars?run=r", "/docs", "/openapi.json"]:
        r = b.get(url)
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp, url
        assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert r.headers["x-content-type-options"] == "nosniff", url


def test_large_json_is_gzipped(board_factory, logdir):
    b = board_factory(logdir).load()
    r = b.get("/api/scalars?run=r&tag=x", headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    assert len(r.json()["step"]) == 2000
    small = b.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers


ROUTES = ["/", "/js/app.js", "/static/plotly.min.js", "/healthz", "/api/runs",
          "/api/scalars?run=r&tag=x", "/api/stream", "/openapi.json", "/docs", "/data/runs",
          "/nope"]


@pytest.mark.parametrize("url", ROUTES)
def test_token_refuses_every_route_without_it(board_factory, logdir, frontend, url):
    b = board_factory(logdir, frontend_dir=frontend, auth_token=TOKEN)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN},
                    {"Cookie": f"{COOKIE}=wrong"}):
        r = b.client.get(url, headers=headers)
        assert r.status_code == 401, (url, headers)
        assert r.json()["error"]["code"] == 401
        assert r.headers["x-content-type-options"] == "nosniff"
    sep = "&" if "?" in url else "?"
    assert b.client.get(f"{url}{sep}token=wrong").status_code == 401


def test_token_by_header(board_factory, logdir, frontend):
    b = board_factory(logdir, frontend_dir=frontend, auth_token=TOKEN).load()
    ok = {"Authorization": f"Bearer {TOKEN}"}
    assert b.get("/api/runs", headers=ok).status_code == 200
    assert b.get("/js/app.js", headers=ok).status_code == 200


def test_token_link_sets_a_cookie_and_redirects_without_it(board_factory, logdir, frontend):
    b = board_factory(logdir, frontend_dir=frontend, auth_token=TOKEN).load()
    from urllib.parse import quote

    r = b.get(f"/api/scalars?run=r&token={quote(TOKEN)}&tag=x", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/api/scalars?run=r&tag=x"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie
    assert TOKEN not in cookie  # the cookie holds a digest, not the token
    # The test client keeps the cookie: every route now answers.
    assert b.get("/api/scalars?run=r&tag=x").status_code == 200
    assert b.get("/").status_code == 200
    assert b.get("/static/plotly.min.js").status_code == 200
    b.client.cookies.clear()
    assert b.get("/api/runs").status_code == 401


def test_token_link_on_a_unicode_path(board_factory, logdir, frontend):
    b = board_factory(logdir, frontend_dir=frontend, auth_token=TOKEN)
    from urllib.parse import quote

    r = b.get(f"/caf%C3%A9?token={quote(TOKEN)}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/caf%C3%A9"
    assert b.get("/café").status_code == 404  # authorised now: an ordinary 404


@pytest.mark.parametrize("path", ["//evil.example/", "/\\evil.example/", "///x/../"])
def test_token_redirect_stays_on_this_origin(board_factory, logdir, path):
    from urllib.parse import quote

    b = board_factory(logdir, auth_token=TOKEN)
    r = b.client.get(f"http://127.0.0.1{path}?token={quote(TOKEN)}", follow_redirects=False)
    location = r.headers["location"]
    assert r.status_code == 303 and location.startswith("/")
    assert not location.startswith(("//", "/\\"))
