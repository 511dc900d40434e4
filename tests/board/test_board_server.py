"""Server tier: the real `board` process on a free 127.0.0.1 port, driven over HTTP."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading

import httpx
import psutil
import pytest
from boardkit import BOARD_BIN, WAIT, event, frames, scalar_event, wait_until, write_events
from tensorboardX import SummaryWriter as TBXWriter

from writer import SummaryWriter
from writer.proto import event_pb2, graph_pb2

pytestmark = pytest.mark.server

EV = "events.out.tfevents.1700000000.host"


def _cmd():
    return [str(BOARD_BIN)] if BOARD_BIN.exists() else [sys.executable, "-m", "board"]


def get(url, **kw):
    return httpx.get(url, timeout=WAIT, **kw)


def served_steps(base, run, tag):
    r = get(f"{base}api/scalars", params={"run": run, "tag": tag, "max_points": 100000})
    return r.json()["step"] if r.status_code == 200 else None


@pytest.fixture
def logdir(tmp_path):
    d = tmp_path / "logs"
    w = TBXWriter(str(d / "train"))
    for i in range(50):
        w.add_scalar("loss", 0.5 * i, i)
    w.add_image("img", __import__("numpy").zeros((4, 4, 3), "uint8"), 0, dataformats="HWC")
    w.add_histogram("h", [1.0, 2.0, 3.0], 0)
    w.close()
    g = graph_pb2.GraphDef()
    g.node.add(name="a/x", op="Const")
    g.node.add(name="b", op="Identity", input=["a/x"])
    with SummaryWriter(d / "graph") as sw:
        sw.add_graph(g)
    return d


def test_banner_bind_default_and_every_route(board_process, logdir):
    p = board_process("--logdir", str(logdir), "--port", "0")
    assert p.banner.strip().startswith(f"numboard serving {logdir} at http://127.0.0.1:")
    base = p.url
    port = int(base.rsplit(":", 1)[1].strip("/"))
    listening = [c.laddr for c in psutil.Process(p.proc.pid).net_connections("inet")
                 if c.status == psutil.CONN_LISTEN]
    assert [(a.ip, a.port) for a in listening] == [("127.0.0.1", port)]
    wait_until(lambda: served_steps(base, "train", "loss") == list(range(50)), "the scalars")
    ok = ["healthz", "api/runs", "api/scalars?run=train&tag=loss", "api/images?run=train&tag=img",
          "api/image?run=train&tag=img", "api/histograms?run=train&tag=h", "api/graph?run=graph",
          "api/graph?run=graph&expand=a", "data/runs", "data/plugin/scalars/tags",
          "data/plugin/scalars/scalars?run=train&tag=loss", "data/plugin/images/tags",
          "openapi.json", "docs", "", "static/plotly.min.js",
          "api/scalars?run=train&tag=loss&format=csv"]
    for path in ok:
        r = get(base + path)
        assert r.status_code == 200, (path, r.text[:200])
        assert r.headers["x-content-type-options"] == "nosniff"
    assert get(base + "api/image?run=train&tag=img").headers["content-type"] == "image/png"
    for path, code in [("api/scalars?run=nope&tag=x", 404), ("api/scalars?run=train", 422),
                       ("api/scalars?run=train&tag=loss&x_min=5&x_max=1", 400),
                       ("nope", 404), ("api/graph?run=train", 404)]:
        r = get(base + path)
        assert r.status_code == code and r.json()["error"]["code"] == code, path


def test_live_growth_truncated_tail_corruption_and_restart(board_process, tmp_path):
    path = write_events(tmp_path / "r" / EV, *(scalar_event("x", i, i) for i in range(10)))
    p = board_process("--logdir", str(tmp_path), "--port", "0")
    base = p.url
    wait_until(lambda: served_steps(base, "r", "x") == list(range(10)), "the first points")
    # A torn tail record: nothing new yet, then the rest arrives.
    tail = frames(scalar_event("x", 10.0, 10))
    with open(path, "ab") as f:
        f.write(tail[:9])
    with open(path, "ab") as f:
        f.write(tail[9:])
    wait_until(lambda: served_steps(base, "r", "x") == list(range(11)), "the completed tail")
    # A record with a bad data CRC, then a good one.
    bad = bytearray(frames(scalar_event("x", 11.0, 11)))
    bad[-1] ^= 0xFF
    with open(path, "ab") as f:
        f.write(bytes(bad) + frames(scalar_event("x", 12.0, 12)))
    wait_until(lambda: served_steps(base, "r", "x") == [*range(11), 12], "skipping the bad one")
    runs = get(base + "api/runs").json()["runs"]
    assert runs[0]["corrupt_records"] == 1
    # A restart from step 5.
    start = event(step=5, session_log=event_pb2.SessionLog(status=event_pb2.SessionLog.START))
    with open(path, "ab") as f:
        f.write(frames(start, scalar_event("x", 55.0, 5)))
    wait_until(lambda: served_steps(base, "r", "x") == [0, 1, 2, 3, 4, 5], "the purge")


def test_logdir_that_appears_late_and_run_added(board_process, tmp_path):
    logdir = tmp_path / "not-yet"
    p = board_process("--logdir", str(logdir), "--port", "0", "--reload_interval", "0.2")
    wait_until(lambda: "does not exist yet" in "".join(p.stderr), "the waiting notice")
    assert get(p.url + "api/runs").json()["runs"] == []
    write_events(logdir / "first" / EV, scalar_event("x", 1.0, 1))
    wait_until(lambda: get(p.url + "data/runs").json() == ["first"], "the late logdir")
    write_events(logdir / "second" / "deep" / EV, scalar_event("x", 1.0, 1))
    wait_until(lambda: get(p.url + "data/runs").json() == ["first", "second/deep"], "new run")
    # file events are not worth a log line each (watchfiles says "N changes detected")
    assert not any("changes detected" in line for line in p.stderr), p.stderr


def test_sse_delivers_a_new_point(board_process, tmp_path):
    w = SummaryWriter(tmp_path / "live")
    w.add_scalar("loss", 1.0, 1)
    w.flush()
    p = board_process("--logdir", str(tmp_path), "--port", "0")
    wait_until(lambda: served_steps(p.url, "live", "loss") == [1], "the first point")
    messages = []
    connected = threading.Event()

    def listen():
        with httpx.stream("GET", p.url + "api/stream", timeout=WAIT) as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            for line in r.iter_lines():
                connected.set()
                if line.startswith("data: "):
                    messages.append(json.loads(line[6:]))
                    if messages[-1]["step"] == 7:
                        return

    t = threading.Thread(target=listen, daemon=True)
    t.start()
    assert connected.wait(WAIT)
    w.add_scalar("loss", 2.0, 7)
    w.flush()
    t.join(WAIT)
    assert {"run": "live", "plugin": "scalars", "tag": "loss", "step": 7} in messages
    w.close()


def test_auth_token_everywhere(board_process, logdir):
    token = "t0ken-for-tests"
    p = board_process("--logdir", str(logdir), "--port", "0", env={"BOARD_AUTH_TOKEN": token})
    for path in ["", "healthz", "api/runs", "static/plotly.min.js", "api/stream", "docs",
                 "openapi.json", "data/runs"]:
        r = get(p.url + path)
        assert r.status_code == 401 and r.json()["error"]["code"] == 401, path
    assert get(p.url + "api/runs", headers={"Authorization": f"Bearer {token}"}).status_code \
        == 200
    with httpx.Client(timeout=WAIT, follow_redirects=True) as c:
        r = c.get(p.url + f"?token={token}")
        assert r.status_code == 200 and r.history[0].status_code == 303
        assert "token" not in str(r.url)
        assert c.get(p.url + "api/runs").status_code == 200
        with c.stream("GET", p.url + "api/stream") as s:
            assert s.status_code == 200
    # The flag wins over nothing: --auth_token works the same way.
    q = board_process("--logdir", str(logdir), "--port", "0", "--auth_token", "other")
    assert get(q.url + "api/runs").status_code == 401
    assert get(q.url + "api/runs", headers={"Authorization": "Bearer other"}).status_code == 200


def test_ctrl_c_exits_cleanly(board_process, logdir):
    p = board_process(f"--logdir={logdir}", "--port=0")
    assert get(p.url + "healthz").status_code == 200
    p.proc.send_signal(signal.SIGINT)
    assert p.proc.wait(WAIT) == 0
    assert "Traceback" not in "".join(p.stderr)


def test_cli_version_help_and_bad_arguments(tmp_path):
    run = lambda *a: subprocess.run(_cmd() + list(a), capture_output=True, text=True,  # noqa: E731
                                    timeout=WAIT)
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("numboard ")
    r = run("--help")
    assert r.returncode == 0 and "--logdir" in r.stdout and "--bind_all" in r.stdout
    r = run()
    assert r.returncode == 2 and "--logdir" in r.stderr
    r = run("--logdir", str(tmp_path), "--host", "127.0.0.1", "--bind_all")
    assert r.returncode == 2 and "--bind_all" in r.stderr


def test_busy_port_is_a_clear_error(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = subprocess.run(_cmd() + ["--logdir", str(tmp_path), "--port", str(port)],
                           capture_output=True, text=True, timeout=WAIT)
    assert r.returncode == 1 and "--port 0" in r.stderr
