"""The HTTP API under bad input (SPEC §5 Errors, §9): no 5xx, no path escapes, no reflected
HTML, bounded answers to huge parameters, many SSE clients coming and going.

One real ``board`` serves a logdir with scalars, images, a histogram and a graph (written by
``writer.SummaryWriter``). Secret files are planted next to the logdir, inside a run folder and
in the repository (``pyproject.toml``) so any file read through a request would show.
"""

from __future__ import annotations

import asyncio
import http.client
import os
import socket
import time
from urllib.parse import quote, urlencode, urlsplit

import httpx
import numpy as np
import psutil
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from relsupport import REPO, BoardProcess, record_figure, total_points, wait_for
from schemathesis import GenerationMode

from writer import SummaryWriter
from writer.proto import graph_pb2

SECRET_OUTSIDE = "S3CRET-OUTSIDE-THE-LOGDIR"
SECRET_INSIDE = "S3CRET-INSIDE-A-RUN-FOLDER"
FILE_MARKERS = ("root:x:0:0", SECRET_OUTSIDE, SECRET_INSIDE, "[build-system]",
                "BEGIN OPENSSH", "# numboard — internal")
TRAVERSALS = [
    "../../etc/passwd", "..%2f..%2fetc%2fpasswd", "/etc/passwd", "....//....//etc/passwd",
    "..\\..\\etc\\passwd", "train/../../secret.txt", "../secret.txt", "train/notes.txt",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "..%c0%af..%c0%afetc/passwd", "/proc/self/environ",
    "train\x00.png", "../" * 30 + "etc/passwd", "~/.ssh/id_rsa", "file:///etc/passwd",
]
RAW_PATHS = [
    "/..%2f..%2fetc/passwd", "/..%2F..%2F..%2Fetc%2Fpasswd", "/static/..%2f..%2f..%2fetc%2fpasswd",
    "/static/../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/js/..%2f..%2fpyproject.toml",
    "/..%2fpyproject.toml", "/%2e%2e%2fpyproject.toml", "/static/%2e%2e/%2e%2e/pyproject.toml",
    "/..;/..;/etc/passwd", "/.%2e/.%2e/etc/passwd", "//etc/passwd", "/./../pyproject.toml",
    "/static/plotly.min.js/../../../../pyproject.toml", "/index.html%00.js",
    "/..\\..\\pyproject.toml", "/%252e%252e/%252e%252e/etc/passwd", "/.git/config",
    "/frontend/index.html", "/../README.md",
]


def make_logdir(root) -> None:
    logdir = root / "logs"
    (root / "secret.txt").write_text(SECRET_OUTSIDE)
    with SummaryWriter(logdir / "train") as w:
        for s in range(50):
            w.add_scalar("loss", 1.0 / (s + 1), s)
            w.add_scalar("nested/acc", s / 50, s)
        w.add_images("samples", np.random.default_rng(0).random((2, 4, 4, 3)), 3)
        w.add_histogram("weights", np.random.default_rng(1).normal(size=200), 3)
        g = graph_pb2.GraphDef()
        for name, op, inputs in (("x", "Placeholder", []), ("layer/w", "VariableV2", []),
                                 ("layer/mm", "MatMul", ["x", "layer/w"]),
                                 ("layer/relu", "Relu", ["layer/mm"])):
            g.node.add(name=name, op=op, input=inputs)
        w.add_graph(g)
    (logdir / "train" / "notes.txt").write_text(SECRET_INSIDE)


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    root = tmp_path_factory.mktemp("abuse")
    make_logdir(root)
    b = BoardProcess(root / "logs", "--reload_interval", "0.2", log_path=root / "board.log")
    wait_for(lambda: total_points(b, "train", "loss") == 50, 30, "the train run")
    wait_for(lambda: b.get("/api/runs").json()["runs"][0]["has_graph"], 30, "the graph")
    yield b
    b.stop()


def assert_no_file_contents(body: bytes | str, where: str) -> None:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    for marker in FILE_MARKERS:
        assert marker not in text, f"{where}: response contains {marker!r}"


def raw_get(url: str, raw_path: str, headers: dict | None = None) -> tuple[int, bytes, dict]:
    """GET with the path sent byte for byte (no client-side normalisation of '..')."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.putrequest("GET", raw_path, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.read(), {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()


def operations(board) -> list[tuple[str, list[dict]]]:
    spec = board.get("/openapi.json").json()
    return [(path, op.get("parameters", [])) for path, ops in spec["paths"].items()
            for method, op in ops.items() if method == "get"]


VALID = {"run": "train", "tag": "loss", "step": "3", "index": "0"}
TAG_FOR = {"/api/images": "samples/image/0", "/api/image": "samples/image/0",
           "/api/histograms": "weights"}


def valid_params(path: str, params: list[dict]) -> dict:
    out = {}
    for p in params:
        if p.get("required"):
            out[p["name"]] = TAG_FOR.get(path, "loss") if p["name"] == "tag" else \
                VALID.get(p["name"], "1")
    return out


# -- schemathesis ------------------------------------------------------------------------------


@pytest.mark.server
@pytest.mark.timeout(600)
def test_schemathesis_finds_no_server_error(board):
    schema = schemathesis.openapi.from_url(board.url + "openapi.json")
    base_url = board.url.rstrip("/")
    counts: dict[str, int] = {}
    failures: list[str] = []

    def fuzz_operation(op) -> None:
        names = {p.name for p in op.query}
        fixed = {"run": "train"} if "run" in names else {}
        if "tag" in names:
            fixed["tag"] = TAG_FOR.get(op.path, "loss")
        strategy = st.one_of(op.as_strategy(GenerationMode.POSITIVE),
                             op.as_strategy(GenerationMode.NEGATIVE),
                             op.as_strategy(GenerationMode.POSITIVE, query=fixed))

        @settings(max_examples=50, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def run(case):
            counts[op.path] = counts.get(op.path, 0) + 1
            try:
                resp = case.call(base_url=base_url, timeout=30)
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
                # Over ~100 kB the HTTP layer refuses the request line and closes.
                if len(urlencode(case.query or {}, doseq=True)) > 100_000:
                    return
                raise
            if resp.status_code >= 500:
                failures.append(f"{resp.status_code} {op.path} {case.query!r}: "
                                f"{resp.content[:200]!r}")
            assert_no_file_contents(resp.content, f"{op.path} {case.query!r}")

        run()

    for result in schema.get_all_operations():
        op = result.ok()
        if op.path != "/api/stream":  # an endless stream: covered by the SSE tests below
            fuzz_operation(op)
    record_figure("schemathesis", requests=sum(counts.values()), per_operation=counts)
    assert sum(counts.values()) > 100, counts
    assert not failures, failures[:10]
    assert board.get("/healthz").json() == {"status": "ok"}


# -- path traversal ----------------------------------------------------------------------------


@pytest.mark.server
@pytest.mark.timeout(120)
def test_path_traversal_in_every_parameter(board):
    tried = 0
    for path, params in operations(board):
        if path == "/api/stream":
            continue
        for p in params:
            for value in TRAVERSALS:
                query = valid_params(path, params) | {p["name"]: value}
                r = board.get(path, query)
                tried += 1
                assert_no_file_contents(r.content, f"{path}?{p['name']}={value!r}")
                assert r.status_code < 500, f"{path}?{p['name']}={value!r}: {r.status_code}"
                if p["name"] in ("run", "tag"):
                    assert r.status_code in (400, 404, 422), (
                        f"{path}?{p['name']}={value!r} answered {r.status_code}")
    record_figure("path_traversal_parameters", requests=tried)


@pytest.mark.server
@pytest.mark.timeout(120)
@pytest.mark.parametrize("raw_path", RAW_PATHS)
def test_path_traversal_in_static_paths(board, raw_path):
    status, body, headers = raw_get(board.url, raw_path)
    assert_no_file_contents(body, raw_path)
    assert status in (400, 404, 405), f"{raw_path} answered {status}: {body[:200]!r}"


@pytest.mark.server
@pytest.mark.timeout(60)
def test_static_files_are_served_and_are_exactly_the_frontend(board):
    """The whitelist serves the frontend and plotly (so the 404s above are not vacuous)."""
    r = board.get("/static/plotly.min.js")
    assert r.status_code == 200 and len(r.content) > 100_000
    r = board.get("/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "content-security-policy" in r.headers
    frontend = REPO / "frontend"
    if frontend.is_dir():
        for path in sorted(p for p in frontend.rglob("*") if p.is_file())[:20]:
            rel = path.relative_to(frontend).as_posix()
            if any(part.startswith(".") for part in rel.split("/")):
                continue
            r = board.get("/" + quote(rel))
            assert r.status_code == 200 and r.content == path.read_bytes(), rel


# -- huge and hostile parameters ---------------------------------------------------------------


HUGE = [
    ("/api/scalars", {"run": "r" * 100_000, "tag": "loss"}),
    ("/api/scalars", {"run": "train", "tag": "t" * 100_000}),
    ("/api/scalars", {"run": "train", "tag": "loss", "max_points": str(10**12)}),
    ("/api/scalars", {"run": "train", "tag": "loss", "max_points": str(10**30)}),
    ("/api/scalars", {"run": "train", "tag": "loss", "max_points": "-1"}),
    ("/api/scalars", {"run": "train", "tag": "loss", "max_points": "9" * 5000}),
    ("/api/scalars", {"run": "train", "tag": "loss", "x_min": "1e999", "x_max": "-1e999"}),
    ("/api/scalars", {"run": "train", "tag": "loss", "x_min": "nan", "x_max": "nan"}),
    ("/api/scalars", {"run": "train", "tag": "loss", "x_min": "9" * 5000}),
    ("/api/scalars", {"run": "train", "tag": "loss", "smoothing": "1e-320"}),
    ("/api/scalars", {"run": "train", "tag": "loss", "smoothing": "0.9999999999999999"}),
    ("/api/scalars", {"run": "train", "tag": "loss", "format": "x" * 10_000}),
    ("/data/plugin/scalars/scalars", {"run": "train", "tag": "loss", "format": "csv"}),
    ("/api/image", {"run": "train", "tag": "samples/image/0", "step": str(10**30)}),
    ("/api/image", {"run": "train", "tag": "samples/image/0", "step": str(-(2**63) - 1)}),
    ("/api/image", {"run": "train", "tag": "samples/image/0", "step": "3",
                    "index": str(10**30)}),
    ("/api/image", {"run": "train", "tag": "samples/image/0", "step": "9" * 5000}),
    ("/api/graph", {"run": "train", "expand": ",".join(["layer"] * 20_000)}),
    ("/api/graph", {"run": "train", "expand": "/" * 90_000}),
    ("/api/graph", {"run": "train", "expand": "e" * 200_000}),
    ("/api/runs", {"run": ["a"] * 5000}),
]


@pytest.mark.server
@pytest.mark.timeout(120)
@pytest.mark.parametrize("path,params", HUGE, ids=[f"{p}-{i}" for i, (p, _) in enumerate(HUGE)])
def test_huge_parameters_get_4xx_not_5xx(board, path, params):
    """Over ~100 kB the request line itself is refused by the HTTP layer (uvicorn/h11 answers
    400 and closes, which the client may see as a reset): that is a refusal, not a 5xx."""
    target = path + "?" + urlencode(params, doseq=True)
    try:
        status, body, headers = raw_get(board.url, target)
    except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected):
        assert len(target) > 100_000, f"{len(target)}-byte request was dropped"
        assert board.get("/healthz").json() == {"status": "ok"}
        return
    assert status < 500, f"{path} {str(params)[:120]}: {status} {body[:300]!r}"
    if any(isinstance(params.get(k), str) and len(params[k]) >= 5000
           for k in ("run", "tag", "step", "format", "max_points")):
        assert 400 <= status < 500, f"{path}: {status}"
    if len(str(params.get("max_points", ""))) > 7:
        assert status in (400, 422), f"max_points={params['max_points'][:20]}: {status}"
    assert "application/json" in headers.get("content-type", "") or status == 200
    assert len(body) < 1_000_000, f"{len(body)} bytes answered"


@pytest.mark.server
@pytest.mark.timeout(60)
@pytest.mark.parametrize("value", ["9" * 5000, "\u00b2", "-1", "1" * 30, "12abc", ""])
def test_last_event_id_header_is_not_a_server_error(board, value):
    """An EventSource sends back the id it saw last; a forged one must not be a 500."""
    status = None
    with httpx.stream("GET", board.url + "api/stream", timeout=10,
                      headers={"Last-Event-ID": value.encode("latin-1")}) as r:
        status = r.status_code
    assert status is not None and status < 500, f"Last-Event-ID {value[:20]!r}: {status}"


@pytest.mark.server
@pytest.mark.timeout(60)
def test_no_reflected_html(board):
    script = "<script>alert(1)</script>"
    for path, params in (("/api/scalars", {"run": script, "tag": script}),
                         ("/api/graph", {"run": "train", "expand": script}),
                         ("/api/image", {"run": script, "tag": "x"}),
                         ("/" + quote(script), None)):
        r = board.get(path, params)
        ctype = r.headers.get("content-type", "")
        assert r.headers.get("x-content-type-options") == "nosniff", path
        if script in r.text:
            assert ctype.startswith("application/json"), f"{path}: {script} echoed as {ctype}"


@pytest.mark.server
@pytest.mark.timeout(60)
def test_oversized_headers_and_garbage_requests(board):
    parts = urlsplit(board.url)
    for payload in (b"GET / HTTP/1.1\r\nHost: x\r\nCookie: " + b"a" * 200_000 + b"\r\n\r\n",
                    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(300),
                    b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                    b"POST /api/runs HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\nab",
                    b"GET /api/runs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"):
        with socket.create_connection((parts.hostname, parts.port), timeout=10) as s:
            try:  # the server may answer and close before reading everything
                s.sendall(payload)
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            try:
                reply = s.recv(200)
            except OSError:
                reply = b""
        assert not reply.startswith(b"HTTP/1.1 5"), f"{payload[:40]!r} -> {reply[:80]!r}"
    assert board.get("/healthz").json() == {"status": "ok"}


# -- server-sent events ------------------------------------------------------------------------


async def sse_clients(board, n: int, run_dir) -> tuple[int, float]:
    """n clients subscribe; one new run is written; each must hear of it, then all leave."""
    ready = asyncio.Event()
    connected = 0

    async def client(client_id: int) -> bool:
        nonlocal connected
        async with httpx.AsyncClient(timeout=30) as c, \
                c.stream("GET", board.url + "api/stream") as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            connected += 1
            if connected == n:
                ready.set()
            async for line in r.aiter_lines():
                if line.startswith("data:") and "sse_probe" in line:
                    return True
        return False

    tasks = [asyncio.create_task(client(i)) for i in range(n)]
    await asyncio.wait_for(ready.wait(), 30)
    t0 = time.monotonic()
    with SummaryWriter(run_dir) as w:
        w.add_scalar("sse_probe", 1.0, 1)
    results = await asyncio.wait_for(asyncio.gather(*tasks), 60)
    return sum(results), time.monotonic() - t0


@pytest.mark.server
@pytest.mark.timeout(120)
def test_fifty_sse_clients_connect_hear_and_leave(board):
    proc = psutil.Process(board.pid)
    fds_before = proc.num_fds()
    heard, seconds = asyncio.run(sse_clients(board, 50, board.logdir / "sse_run"))
    assert heard == 50, f"only {heard} of 50 SSE clients heard of the new data"
    # Clients that connect and vanish without reading anything.
    parts = urlsplit(board.url)
    for _ in range(50):
        s = socket.create_connection((parts.hostname, parts.port), timeout=5)
        s.sendall(b"GET /api/stream HTTP/1.1\r\nHost: x\r\n\r\n")
        s.close()
    assert board.get("/healthz").json() == {"status": "ok"}
    fds_after = wait_for(lambda: (n := proc.num_fds()) <= fds_before + 5 and n or None, 30,
                         "SSE connections to be released")
    record_figure("sse_clients", clients=50, heard=heard, seconds_to_hear=round(seconds, 2),
                  fds_before=fds_before, fds_after=fds_after)


def pathological_graph(kind: str) -> graph_pb2.GraphDef:
    g = graph_pb2.GraphDef()
    if kind == "deep":  # 2000 nested name scopes
        name = "/".join(f"s{i}" for i in range(2000))
        g.node.add(name=name + "/op", op="Relu")
        g.node.add(name="x", op="Placeholder", input=[name + "/op"])
    elif kind == "cycle":  # self loops, a 2-cycle, control and missing inputs
        g.node.add(name="a", op="Add", input=["b", "a", "^a", "missing:3"])
        g.node.add(name="b", op="Add", input=["a"])
    elif kind == "long_chain":
        for i in range(5000):
            g.node.add(name=f"n{i}", op="Relu", input=[f"n{i - 1}"] if i else [])
    elif kind == "odd_names":
        for name in ["", "/", "//", "a//b", "a/", "^x", "x:0", "../..", "<script>", "a" * 10000]:
            g.node.add(name=name, op="NoOp", input=[name, "", ":", "^"])
    return g


@pytest.mark.server
@pytest.mark.timeout(120)
def test_pathological_graphs_do_not_break_the_layout(tmp_path, start_board):
    """Graphs from event files are data too: deep scopes, cycles, odd names, long chains."""
    kinds = ["deep", "cycle", "long_chain", "odd_names"]
    for kind in kinds:
        with SummaryWriter(tmp_path / "logs" / kind) as w:
            w.add_graph(pathological_graph(kind))
    b = start_board(tmp_path / "logs", "--reload_interval", "0.2")
    wait_for(lambda: sum(r["has_graph"] for r in b.get("/api/runs").json()["runs"]) == 4, 30,
             "the four graphs")
    deep_scopes = ",".join("/".join(f"s{i}" for i in range(k)) for k in range(1, 60))
    for kind, expand in [(k, None) for k in kinds] + [("deep", deep_scopes),
                                                      ("odd_names", "/,//,a,..,<script>")]:
        r = b.get("/api/graph", {"run": kind, "expand": expand} if expand else {"run": kind})
        assert r.status_code == 200, f"{kind} expand={str(expand)[:40]}: {r.status_code}"
        body = r.json()
        assert body["nodes"], kind
        ids = {n["id"] for n in body["nodes"]}
        dangling = [e for e in body["edges"] if e["source"] not in ids or e["target"] not in ids]
        assert not dangling, f"{kind}: edges to nodes not in the answer: {dangling[:3]}"
    assert b.get("/healthz").json() == {"status": "ok"}
