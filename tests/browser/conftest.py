"""Fixtures for the browser tier: the real `board` process on a free port and headless
Debian chromium driven by Playwright's Python API (SPEC §10).

Every page opened through `open_page` records console errors, page errors and the host
of every request, so a test can check that nothing failed and nothing left the board.
"""

from __future__ import annotations

import io
import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
import urllib.request
import warnings
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .logdirs import XSS_RUN, XSS_TAG, card_tools, many_runs, realistic

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BOARD = Path(sys.executable).with_name("board")
URL_LINE = re.compile(r"numboard serving .* at (http://127\.0\.0\.1:\d+/)")
LONG_STEPS = 6000
LONG_T0 = 1_764_200_000.0  # the long run writes one point every 2 s from here


class Board:
    """A running `board --logdir DIR --port 0`; `.url` is the URL it printed. `executable`
    is another installation's `board` (the wheel test), started with `cwd` and `env`."""

    START_TIMEOUT = 30.0

    def __init__(self, logdir: Path, executable: Path = BOARD, cwd=None, env=None):
        self.logdir = logdir
        self.proc = subprocess.Popen(
            [str(executable), "--logdir", str(logdir), "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=cwd,
            env=env,
        )
        self.output: list[str] = []
        self._lines: queue.Queue = queue.Queue()
        # keep draining stdout so the board never blocks on a full pipe
        threading.Thread(target=self._drain, daemon=True).start()
        self.url = self._wait_for_url()

    def _drain(self) -> None:
        for line in self.proc.stdout:
            self.output.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def _wait_for_url(self) -> str:
        deadline = time.monotonic() + self.START_TIMEOUT
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                raise RuntimeError("board exited before printing its URL:\n" + "".join(self.output))
            match = URL_LINE.search(line)
            if match:
                return match.group(1)
        self.stop()
        raise RuntimeError(
            f"board printed no URL within {self.START_TIMEOUT:.0f} s:\n" + "".join(self.output)
        )

    def wait_loaded(self, timeout: float = 60.0) -> Board:
        """Block until /api/runs says the first read of the logdir is done."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with urllib.request.urlopen(self.url + "api/runs", timeout=5) as response:
                if not json.load(response).get("loading"):
                    return self
            time.sleep(0.05)
        raise RuntimeError(f"board still loading {self.logdir} after {timeout:.0f} s")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class PageRecord:
    """What a page did: console errors, uncaught exceptions, hosts it requested."""

    def __init__(self, page, board_url: str):
        self.errors: list[str] = []
        self.foreign: list[str] = []
        self.requests: list[str] = []
        self.board_netloc = urlsplit(board_url).netloc
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("request", self._request)

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def _request(self, request) -> None:
        self.requests.append(request.url)
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob"):
            return
        if parts.netloc != self.board_netloc:
            self.foreign.append(request.url)

    def assert_clean(self) -> None:
        assert self.errors == [], f"console errors: {self.errors}"
        assert self.foreign == [], f"requests to other hosts: {self.foreign}"


def tf2_images(tag: str, step: int, samples: int = 3):
    """A TF2 `tf.summary.image` value: one tag, a string tensor [w, h, png_0, png_1, …]."""
    from PIL import Image

    from writer.proto import summary_pb2, types_pb2

    summary = summary_pb2.Summary()
    value = summary.value.add(tag=tag)
    value.metadata.plugin_data.plugin_name = "images"
    value.tensor.dtype = types_pb2.DT_STRING
    value.tensor.tensor_shape.dim.add(size=2 + samples)
    value.tensor.string_val.extend([b"6", b"4"])
    for k in range(samples):
        buf = io.BytesIO()
        Image.new("RGB", (6, 4), (40 * k, 100, step * 10)).save(buf, format="PNG")
        value.tensor.string_val.append(buf.getvalue())
    return summary


def _demo_logdir(root: Path) -> Path:
    """The realistic logdir plus edge cases: an XSS tag, a run without global_step,
    and a long series that the overview has to downsample."""
    from writer import SummaryWriter, summary

    realistic(root, steps=200)
    with SummaryWriter(str(root / "edge")) as w:
        w.add_scalar(XSS_TAG, 1.0, 0)
        w.add_scalar(XSS_TAG, 2.0, 1)
        with warnings.catch_warnings():  # the writer's one-time "no global_step" warning
            warnings.simplefilter("ignore", UserWarning)
            for value in (3.0, 2.5, 2.0, 1.8, 1.5):
                w.add_summary(summary.scalar("nostep/loss", value))  # global_step left out
    with SummaryWriter(str(root / XSS_RUN)) as w:
        for step in range(3):
            w.add_scalar("xss/run", float(step), step)
    with SummaryWriter(str(root / "tf2")) as w:
        for step in (0, 10):
            w.add_summary(tf2_images("tf2/samples", step), global_step=step)
    with SummaryWriter(str(root / "long")) as w:
        for step in range(LONG_STEPS):
            value = float((step * 7919) % 1000) / 1000.0
            w.add_scalar("long/value", value, step, walltime=LONG_T0 + 2.0 * step)
    return root


# Package scope, not session: Playwright's sync API keeps an event loop running in this
# thread until it stops, and later folders call asyncio.run().
@pytest.fixture(scope="package")
def playwright_browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing; install Debian's chromium (apt install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.skip(f"playwright is not installed ({exc}); pip install -e '.[test]'")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="package")
def demo_board(tmp_path_factory, playwright_browser):
    if not BOARD.exists():
        pytest.skip(f"{BOARD} is missing; install numboard into the venv (pip install -e .)")
    board = Board(_demo_logdir(tmp_path_factory.mktemp("demo"))).wait_loaded()
    yield board
    board.stop()


@pytest.fixture(scope="package")
def tools_board(tmp_path_factory, playwright_browser):
    """A board on logdirs.card_tools(): three small runs with a spike, for the card tools."""
    if not BOARD.exists():
        pytest.skip(f"{BOARD} is missing; install numboard into the venv (pip install -e .)")
    board = Board(card_tools(tmp_path_factory.mktemp("tools"))).wait_loaded()
    yield board
    board.stop()


@pytest.fixture(scope="package")
def million_points_board(tmp_path_factory, playwright_browser):
    """The 1M-point logdir users have: 20 runs × 10 tags × 5000 steps."""
    board = Board(many_runs(tmp_path_factory.mktemp("million"), steps=5000)).wait_loaded(120)
    yield board
    board.stop()


@pytest.fixture(scope="package")
def thousand_runs_board(tmp_path_factory, playwright_browser):
    """1000 runs × 10 tags × 100 steps."""
    board = Board(many_runs(tmp_path_factory.mktemp("thousand"), runs=1000, steps=100))
    yield board.wait_loaded(180)
    board.stop()


@pytest.fixture
def start_board():
    """Start extra boards on other logdirs; all are stopped after the test."""
    boards: list[Board] = []

    def start(logdir: Path) -> Board:
        board = Board(logdir)
        boards.append(board)
        return board

    yield start
    for board in boards:
        board.stop()


@pytest.fixture(scope="package")
def shared_context(playwright_browser):
    """One light 1400×900 context for the session: pages share its HTTP and code cache,
    so plotly.js is compiled once rather than once per test."""
    context = playwright_browser.new_context(viewport={"width": 1400, "height": 900})
    yield context
    context.close()


@pytest.fixture
def open_page(playwright_browser, shared_context):
    """open_page(url, color_scheme="light") -> (page, record); pages close after the test."""
    opened = []

    def open_(url: str, color_scheme: str = "light"):
        if color_scheme == "light":
            page = shared_context.new_page()
        else:
            context = playwright_browser.new_context(
                viewport={"width": 1400, "height": 900}, color_scheme=color_scheme
            )
            opened.append(context)
            page = context.new_page()
        opened.append(page)
        record = PageRecord(page, url)
        page.goto(url)
        return page, record

    yield open_
    for item in reversed(opened):
        item.close()
