"""docker/healthcheck.py against the real `board` process (SPEC §7, §9): healthy when /healthz
answers, also behind BOARD_AUTH_TOKEN; unhealthy when the token is wrong or nothing listens."""

from __future__ import annotations

import os
import re
import select
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.server

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "docker" / "healthcheck.py"


@pytest.fixture(scope="module")
def board_url(tmp_path_factory):
    """A real board with an auth token on a free port; yields its base URL."""
    logdir = tmp_path_factory.mktemp("logs")
    env = {**os.environ, "BOARD_AUTH_TOKEN": "s3cret"}
    log = open(logdir.parent / "board.log", "w")  # a file: an unread pipe could fill up
    proc = subprocess.Popen([sys.executable, "-m", "board", "--logdir", str(logdir), "--port",
                             "0"], stdout=subprocess.PIPE, stderr=log, text=True, env=env,
                            cwd=REPO)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 60)  # never block the suite forever
        line = proc.stdout.readline() if ready else ""  # printed once the socket listens
        match = re.search(r"http://[^:/]+:(\d+)/", line)
        assert match, f"no URL line from board: {line!r}; see {log.name}"
        yield f"http://127.0.0.1:{match.group(1)}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def check(url: str, token: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "BOARD_AUTH_TOKEN"}
    env["BOARD_HEALTHCHECK_URL"] = url
    if token is not None:
        env["BOARD_AUTH_TOKEN"] = token
    return subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True,
                          text=True, timeout=30)


def test_healthy_with_the_token(board_url):
    done = check(board_url + "/healthz", "s3cret")
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("token", [None, "wrong"])
def test_unhealthy_without_the_right_token(board_url, token):
    done = check(board_url + "/healthz", token)
    assert done.returncode == 1 and "401" in done.stderr, done.stderr


def test_unhealthy_when_nothing_listens():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound but not listening: connections are refused
        done = check(f"http://127.0.0.1:{port}/healthz", None)
    assert done.returncode == 1 and "unhealthy" in done.stderr
