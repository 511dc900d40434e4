"""The Graphs view of a traced step: examples/lstm_digits.py writes one Session.run with
FULL_TRACE; the page offers it as a session run, colours the nodes by compute time or memory
(a collapsed scope sums its ops) and shows the numbers in the details panel."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from google.protobuf import text_format

import flow as tf

from .helpers import TIMEOUT

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
RUN, TAG = "lstm_digits", "step5"
HOT = {"compute": "rgb(203, 24, 29)", "memory": "rgb(33, 113, 181)"}  # the scales' ends


@pytest.fixture(scope="module")
def lstm_logdir(tmp_path_factory) -> Path:
    logdir = tmp_path_factory.mktemp("trace")
    subprocess.run([sys.executable, str(ROOT / "examples" / "lstm_digits.py"), "--logdir",
                    str(logdir / RUN), "--steps", "12", "--trace_step", "5"],
                   check=True, capture_output=True, timeout=300)
    return logdir


def api(board, path: str, **params):
    url = f"{board.url.rstrip('/')}/{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def hottest(board, field: str) -> str:
    """The top-level node with the most `field`, summed as the page should sum it."""
    kinds = {n["id"]: n["kind"] for n in api(board, "api/graph", run=RUN)["nodes"]}
    totals: dict[str, float] = {}
    for op in api(board, "api/graph/run_metadata", run=RUN, tag=TAG)["nodes"]:
        head = op["name"].split("/")[0]
        node = head if kinds.get(head) == "scope" else op["name"]
        if node in kinds:
            totals[node] = totals.get(node, 0.0) + op[field]
    return max(totals, key=totals.get)


def fill_of(page, node_id: str) -> str:
    return page.eval_on_selector(f'.node[data-id="{node_id}"] > :first-child',
                                 "e => e.style.fill")


def test_session_run_colours_nodes_by_compute_time_and_memory(lstm_logdir, start_board,
                                                              open_page):
    board = start_board(lstm_logdir).wait_loaded()
    page, record = open_page(board.url + f"#tab=graphs&grun={RUN}")
    page.wait_for_selector('.node-scope[data-id="rnn"]', timeout=TIMEOUT)
    page.wait_for_selector("#graph-session-field:not([hidden])", timeout=TIMEOUT)
    assert page.eval_on_selector_all("#graph-session option", "os => os.map(o => o.value)") \
        == [TAG]
    page.select_option("#graph-session", TAG)
    assert page.locator(".node.stat-filled").count() == 0  # structure colours by default

    page.select_option("#graph-color", "compute")
    page.wait_for_selector(".node.stat-filled", timeout=TIMEOUT)
    legend = page.locator(".stats-legend").text_content()
    assert "Compute time" in legend and TAG in legend and "ops timed" in legend
    hot = hottest(board, "compute_micros")
    assert fill_of(page, hot) == HOT["compute"]  # the slowest node has the scale's end
    assert fill_of(page, "rnn").startswith("rgb(")  # a scope: the sum of its ops
    title = page.text_content('.node[data-id="rnn"] > title')
    assert re.search(rf"^rnn \(\d+ ops\)\n{TAG}: [\d.]+ (µs|ms|s), [\d.]+ (B|kB|MB) \(\d+ ops\)$",
                     title), title
    others = page.eval_on_selector_all(
        ".node.stat-filled > :first-child", "es => es.map(e => e.style.fill)")
    assert len(set(others)) > 2  # a scale, not one colour

    page.click('.node[data-id="strided_slice"]')  # an op: its own numbers
    panel = page.locator(".graph-panel")
    panel.locator("h3", has_text="strided_slice").wait_for(timeout=TIMEOUT)
    text = panel.text_content()
    assert re.search(r"Compute time\s*[\d.]+ (µs|ms|s)", text), text
    assert re.search(r"Memory\s*[\d.]+ (B|kB|MB)", text), text
    assert f"{TAG} (step 5)" in text

    page.select_option("#graph-color", "memory")
    page.wait_for_function("() => document.querySelector('.stats-legend')"
                           "?.textContent.includes('Memory')", timeout=TIMEOUT)
    assert fill_of(page, hottest(board, "memory_bytes")) == HOT["memory"]

    page.select_option("#graph-color", "structure")
    page.wait_for_function("() => !document.querySelector('.node.stat-filled')",
                           timeout=TIMEOUT)
    assert page.locator(".stats-legend").count() == 0

    # a step traced later, by another writer in the same run: the picker gets it live
    url = f"{board.url.rstrip('/')}/data/plugin/graphs/run_metadata?run={RUN}&tag={TAG}"
    with urllib.request.urlopen(url, timeout=30) as response:
        meta = text_format.Parse(response.read().decode(), tf.RunMetadata())
    writer = tf.summary.FileWriter(str(lstm_logdir / RUN))
    writer.add_run_metadata(meta, "step9", 9)
    writer.close()
    page.wait_for_function(
        "() => [...document.querySelectorAll('#graph-session option')].length === 2",
        timeout=TIMEOUT)
    assert page.eval_on_selector_all("#graph-session option", "os => os.map(o => o.value)") \
        == [TAG, "step9"]
    record.assert_clean()
