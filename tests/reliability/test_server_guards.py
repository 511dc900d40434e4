"""Guards in front of every route (SPEC §9): the Host check against DNS rebinding, and the
auth token's one rule for its three carriers and its refusal when empty. In-process over
TestClient; the CLI checks run the real `board` command."""

from __future__ import annotations

import os
import subprocess
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from relsupport import BOARD

from board.app import create_app
from writer import SummaryWriter

TOKEN = "pässwörd-ключ"  # non-ASCII on purpose


@pytest.fixture
def logdir(tmp_path):
    with SummaryWriter(tmp_path / "logs" / "train") as w:
        w.add_scalar("loss", 1.0, 0)
    return tmp_path / "logs"


def client(logdir, **kwargs) -> TestClient:
    app = create_app(logdir, watch=False, **kwargs)
    app.state.loader.cycle()
    return TestClient(app, base_url="http://127.0.0.1")


def json_error(r, code: int) -> str:
    assert r.status_code == code, r.text[:300]
    assert r.headers["content-type"].startswith("application/json")
    assert set(r.json()) == {"error"} and r.json()["error"]["code"] == code
    return r.json()["error"]["message"]


# -- item 8: Host header (DNS rebinding) -----------------------------------------------------


@pytest.mark.integration
def test_only_known_host_names_are_answered(logdir):
    c = client(logdir)
    for host in ("evil.example", "evil.example:6006", "localhost.evil.example", "127.0.0.1.nip.io"):
        says = json_error(c.get("/api/runs", headers={"Host": host}), 400)
        assert "does not answer to the host name" in says and "--allowed_hosts" in says
        assert json_error(c.get("/healthz", headers={"Host": host}), 400)
    for host in ("localhost", "localhost:6006", "LOCALHOST.", "127.0.0.1:1", "[::1]:6006",
                 "10.1.2.3:6006", "[fe80::1]"):
        assert c.get("/api/runs", headers={"Host": host}).status_code == 200, host


@pytest.mark.integration
def test_allowed_hosts_add_names(logdir):
    c = client(logdir, allowed_hosts=["board.example"])
    assert c.get("/api/runs", headers={"Host": "board.example:8080"}).status_code == 200
    assert c.get("/api/runs", headers={"Host": "other.example"}).status_code == 400
    c = client(logdir, allowed_hosts=["*"])
    assert c.get("/api/runs", headers={"Host": "other.example"}).status_code == 200


@pytest.mark.server
@pytest.mark.timeout(60)
def test_cli_allowed_hosts_flag(logdir, start_board):
    b = start_board(logdir, "--allowed_hosts", "board.example, second.example")
    assert b.get("/api/runs", headers={"Host": "second.example"}).status_code == 200
    r = b.get("/api/runs", headers={"Host": "rebound.example"})
    assert r.status_code == 400 and "rebound.example" in r.json()["error"]["message"]
    assert b.get("/api/runs").status_code == 200  # 127.0.0.1:PORT


# -- items 10 and 13: the auth token ----------------------------------------------------------


@pytest.mark.integration
@pytest.mark.timeout(60)
@pytest.mark.parametrize("args,env", [(["--auth_token", ""], {}), (["--auth_token", "  \t"], {}),
                                      ([], {"BOARD_AUTH_TOKEN": ""}),
                                      ([], {"BOARD_AUTH_TOKEN": " "})])
def test_empty_token_is_refused_at_start_up(tmp_path, args, env):
    r = subprocess.run([str(BOARD), "--logdir", str(tmp_path), "--port", "0", *args],
                       env={**os.environ, **env}, capture_output=True, text=True, timeout=30)
    assert r.returncode == 2, r.stderr
    assert "empty token" in r.stderr and "numboard serving" not in r.stdout


@pytest.mark.integration
def test_empty_token_is_refused_by_create_app(logdir):
    with pytest.raises(ValueError, match="empty or whitespace"):
        create_app(logdir, auth_token=" \n")


@pytest.mark.integration
def test_one_token_rule_for_header_query_and_cookie(logdir):
    c = client(logdir, auth_token=f"  {TOKEN} ")  # surrounding spaces are not part of it
    raw = TOKEN.encode()
    for value in (b"Bearer " + raw, b"bearer  " + raw + b" ", b"Bearer \t" + raw):
        assert c.get("/api/runs", headers={"Authorization": value}).status_code == 200, value
    for wrong in (b"Bearer " + raw[:-1], b"Bearer " + TOKEN.encode("latin-1", "replace")):
        assert c.get("/api/runs", headers={"Authorization": wrong}).status_code == 401
    for offered in (quote(TOKEN), quote(f" {TOKEN} "), quote(TOKEN).replace("%20", "+")):
        c.cookies.clear()
        r = c.get(f"/api/runs?token={offered}", follow_redirects=False)
        assert r.status_code == 303, offered
        assert c.get("/api/runs").status_code == 200  # the cookie it set
    c.cookies.clear()
    assert c.get("/api/runs").status_code == 401
