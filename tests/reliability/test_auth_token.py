"""``--auth_token``: every route refuses a request without the token (SPEC §9;
reference/tensorboard.md §5: TensorBoard has no authentication at all).

Covered: every OpenAPI route, the frontend and plotly.js, /openapi.json, /docs, /api/stream,
/healthz and unknown paths; wrong tokens of every shape; the ``?token=`` link that sets a
cookie; ``BOARD_AUTH_TOKEN``. Refusal timings of wrong tokens vs. the right one are a
benchmark (benchmarks/auth_timing.py), not a test: the comparison is ``hmac.compare_digest``
and network noise is far larger than any difference it could leak.
"""

from __future__ import annotations

import http.client
import secrets
from urllib.parse import urlsplit

import httpx
import pytest
from relsupport import BoardProcess, record_figure, wait_for

from writer import SummaryWriter

TOKEN = secrets.token_urlsafe(24)  # may start with "-": passed as --auth_token=TOKEN
AUTH = {"Authorization": f"Bearer {TOKEN}"}
EXTRA_PATHS = ["/", "/static/plotly.min.js", "/openapi.json", "/docs", "/api/stream",
               "/healthz", "/no/such/page", "/index.html"]
PARAMS = {"/api/scalars": {"run": "train", "tag": "loss"},
          "/api/scalars/multi": {"run": ["train"], "tag": "loss"},
          "/data/plugin/scalars/scalars": {"run": "train", "tag": "loss"},
          "/api/images": {"run": "train", "tag": "loss"},
          "/api/image": {"run": "train", "tag": "loss"},
          "/api/histograms": {"run": "train", "tag": "loss"},
          "/api/graph": {"run": "train"},
          "/api/text": {"run": "train", "tag": "loss"},
          "/data/plugin/text/text": {"run": "train", "tag": "loss"},
          "/api/graph/run_metadata": {"run": "train", "tag": "step1"},
          "/data/plugin/graphs/run_metadata": {"run": "train", "tag": "step1"}}


def wrong_tokens() -> dict[str, dict]:
    flipped_first = ("A" if TOKEN[0] != "A" else "B") + TOKEN[1:]
    flipped_last = TOKEN[:-1] + ("A" if TOKEN[-1] != "A" else "B")
    return {
        "none": {},
        "empty bearer": {"Authorization": "Bearer "},
        "bearer only": {"Authorization": "Bearer"},
        "same length, first char differs": {"Authorization": f"Bearer {flipped_first}"},
        "same length, last char differs": {"Authorization": f"Bearer {flipped_last}"},
        "prefix": {"Authorization": f"Bearer {TOKEN[:-1]}"},
        "longer": {"Authorization": f"Bearer {TOKEN}x"},
        "upper-cased": {"Authorization": f"Bearer {TOKEN.upper()}"},
        "basic scheme": {"Authorization": f"Basic {TOKEN}"},
        "token scheme": {"Authorization": f"Token {TOKEN}"},
        "other header": {"X-Auth-Token": TOKEN},
        "raw token as cookie": {"Cookie": f"board_token={TOKEN}"},
        "garbage cookie": {"Cookie": "board_token=" + "0" * 64},
        "malformed cookie": {"Cookie": 'board_token="; =; ;;'},
        "null byte": {"Authorization": f"Bearer {TOKEN}\x00"},
    }


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    root = tmp_path_factory.mktemp("auth")
    with SummaryWriter(root / "logs" / "train") as w:
        for s in range(10):
            w.add_scalar("loss", 1.0 / (s + 1), s)
    b = BoardProcess(root / "logs", "--reload_interval", "0.2", f"--auth_token={TOKEN}",
                     log_path=root / "board.log")
    wait_for(lambda: total_points_auth(b) == 10, 30, "the train run (with the token)")
    yield b
    b.stop()


def total_points_auth(b) -> int | None:
    r = b.get("/api/scalars", {"run": "train", "tag": "loss"}, headers=AUTH)
    return r.json().get("total_points") if r.status_code == 200 else None


def all_paths(b) -> list[str]:
    spec = b.get("/openapi.json", headers=AUTH).json()
    return sorted(set(spec["paths"]) | set(EXTRA_PATHS))


_CLIENT = httpx.Client(timeout=15, follow_redirects=False)


def fetch(b, path: str, headers: dict, params: dict | None = None) -> httpx.Response:
    """GET without following redirects; a stream is read only up to its headers."""
    with _CLIENT.stream("GET", b.url.rstrip("/") + path, params=params, headers=headers) as r:
        if path != "/api/stream" or r.status_code != 200:
            r.read()
        return r


@pytest.mark.server
@pytest.mark.timeout(180)
def test_every_route_refuses_missing_or_wrong_tokens(board):
    refused = 0
    for path in all_paths(board):
        for name, headers in wrong_tokens().items():
            try:
                r = fetch(board, path, headers, PARAMS.get(path))
            except httpx.LocalProtocolError:
                continue  # the client itself refuses to send e.g. a NUL in a header
            assert r.status_code == 401, f"{path} with {name}: {r.status_code}"
            assert "set-cookie" not in r.headers, f"{path} with {name} set a cookie"
            assert b"loss" not in r.content and b"train" not in r.content, path
            refused += 1
    record_figure("auth_refusals", requests=refused)


@pytest.mark.server
@pytest.mark.timeout(120)
def test_every_route_accepts_the_token(board):
    """So the refusals above are refusals of the token, not of the route."""
    for path in all_paths(board):
        r = fetch(board, path, AUTH, PARAMS.get(path))
        if path in ("/no/such/page", "/index.html", "/api/image", "/api/images",
                    "/api/histograms", "/api/graph", "/api/text", "/data/plugin/text/text",
                    "/api/graph/run_metadata", "/data/plugin/graphs/run_metadata"):
            assert r.status_code in (200, 404), f"{path}: {r.status_code}"
        else:
            assert r.status_code == 200, f"{path}: {r.status_code} {r.content[:200]!r}"


@pytest.mark.server
@pytest.mark.timeout(60)
def test_token_link_sets_a_cookie_that_works(board):
    with httpx.Client(base_url=board.url, timeout=15, follow_redirects=False) as c:
        r = c.get("/api/runs", params={"token": "wrong"})
        assert r.status_code == 401 and "set-cookie" not in r.headers
        r = c.get("/api/runs", params={"token": TOKEN, "x": "1"})
        assert r.status_code in (302, 303, 307), r.status_code
        assert TOKEN not in r.headers["location"], "the token must not stay in the URL"
        assert "HttpOnly" in r.headers["set-cookie"]
        assert TOKEN not in r.headers["set-cookie"], "the cookie must not hold the token"
        r = c.get("/api/runs")  # the cookie jar now holds the cookie
        assert r.status_code == 200 and r.json()["runs"][0]["name"] == "train"


@pytest.mark.server
@pytest.mark.timeout(60)
@pytest.mark.parametrize("path", ["//evil.example/", "//evil.example/%2e%2e/", "/\\evil.example/"])
def test_token_link_redirect_stays_on_this_origin(board, path):
    """The redirect after ?token= must be a same-origin path, not '//host' (open redirect)."""
    parts = urlsplit(board.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.putrequest("GET", f"{path}?token={TOKEN}")
        conn.endheaders()
        resp = conn.getresponse()
        resp.read()
        location = resp.getheader("location") or ""
    finally:
        conn.close()
    if resp.status in (301, 302, 303, 307, 308):
        assert location.startswith("/") and not location.startswith(("//", "/\\")), (
            f"GET {path}?token=… redirects to {location!r}, which a browser resolves to "
            "another host")


@pytest.mark.server
@pytest.mark.timeout(60)
def test_token_from_environment(tmp_path, start_board):
    (tmp_path / "logs").mkdir()
    b = start_board(tmp_path / "logs", env={"BOARD_AUTH_TOKEN": "env-secret-123"})
    assert b.get("/api/runs").status_code == 401
    assert b.get("/healthz").status_code == 401
    ok = b.get("/api/runs", headers={"Authorization": "Bearer env-secret-123"})
    assert ok.status_code == 200
