"""Scalars view in a real browser against the real board (SPEC §6)."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from .conftest import LONG_STEPS, LONG_T0
from .helpers import (
    TIMEOUT,
    card_selector,
    set_range,
    tb_smooth,
    traces,
    wait_card_drawn,
    wait_scalars_ready,
)
from .logdirs import XSS_RUN, XSS_TAG

pytestmark = pytest.mark.browser

MLP_RUNS = {"mlp/lr=0.1", "mlp/lr=0.03", "mlp/lr=0.01"}


def test_every_selected_run_is_a_trace(demo_board, open_page):
    page, record = open_page(demo_board.url)
    wait_scalars_ready(page)
    wait_card_drawn(page, "loss/train")
    shown = traces(page, "loss/train")
    assert {t["run"] for t in shown if t["kind"] == "smoothed"} == MLP_RUNS
    assert {t["run"] for t in shown if t["kind"] == "raw"} == MLP_RUNS
    groups = page.eval_on_selector_all(
        "details.group > summary > span:first-child", "els => els.map(e => e.textContent)"
    )
    assert {"loss", "accuracy", "learning_rate", "long", "nostep"} <= set(groups)
    record.assert_clean()


def test_smoothing_slider_recomputes_tensorboards_ema(demo_board, open_page):
    page, record = open_page(demo_board.url)
    wait_card_drawn(page, "loss/train")
    before = {t["run"]: t for t in traces(page, "loss/train") if t["kind"] == "smoothed"}
    raw = {t["run"]: t["y"] for t in traces(page, "loss/train") if t["kind"] == "raw"}
    run = "mlp/lr=0.1"
    assert before[run]["y"] == pytest.approx(tb_smooth(raw[run], 0.6), rel=1e-9)

    set_range(page, "#smoothing", 0.95)
    page.wait_for_function(
        """([sel, y0]) => {
            const t = document.querySelector(sel + ' .plot').data.find(
                (d) => d.meta.kind === 'smoothed');
            return t && t.y[5] !== y0;
        }""",
        arg=[card_selector("loss/train"), before[sorted(before)[0]]["y"][5]],
        timeout=TIMEOUT,
    )
    after = {t["run"]: t for t in traces(page, "loss/train") if t["kind"] == "smoothed"}
    assert after[run]["y"] != before[run]["y"]
    assert after[run]["y"] == pytest.approx(tb_smooth(raw[run], 0.95), rel=1e-9)
    assert "smoothing=0.95" in page.evaluate("location.hash")
    record.assert_clean()


def test_unchecking_a_run_removes_its_trace(demo_board, open_page):
    page, record = open_page(demo_board.url)
    wait_card_drawn(page, "loss/train")
    page.get_by_label("Show run mlp/lr=0.03").uncheck()
    page.wait_for_function(
        """(sel) => !document.querySelector(sel + ' .plot').data.some(
            (t) => t.meta.run === 'mlp/lr=0.03')""",
        arg=card_selector("loss/train"),
        timeout=TIMEOUT,
    )
    assert {t["run"] for t in traces(page, "loss/train")} == MLP_RUNS - {"mlp/lr=0.03"}
    assert "hide=mlp%2Flr%3D0.03" in page.evaluate("location.hash")
    record.assert_clean()


def test_tag_filter_keeps_matching_cards_and_survives_reload(demo_board, open_page):
    page, record = open_page(demo_board.url)
    wait_scalars_ready(page)
    page.fill("#tag-filter", "^accuracy/")
    page.wait_for_function(
        "() => document.querySelectorAll('#view-scalars .scalar-card').length === 2",
        timeout=TIMEOUT,
    )
    tags = page.eval_on_selector_all(
        "#view-scalars .scalar-card", "els => els.map(e => e.dataset.tag)"
    )
    assert sorted(tags) == ["accuracy/eval", "accuracy/train"]
    page.fill("#tag-filter", "([")  # invalid regex: said so, nothing crashes
    page.wait_for_selector("#tag-filter-error:has-text('Invalid regex')", timeout=TIMEOUT)
    page.fill("#tag-filter", "^accuracy/")

    set_range(page, "#smoothing", 0.8)
    page.check("input[name=xaxis][value=relative]", force=True)
    page.reload()
    wait_scalars_ready(page)
    assert page.input_value("#tag-filter") == "^accuracy/"
    assert page.input_value("#smoothing") == "0.8"
    assert page.is_checked("input[name=xaxis][value=relative]")
    assert page.locator("#view-scalars .scalar-card").count() == 2
    record.assert_clean()


@pytest.mark.parametrize("xaxis", ["step", "relative", "wall"])
def test_zoom_fetches_the_window_at_full_resolution(demo_board, open_page, xaxis):
    page, record = open_page(demo_board.url + f"#tags=long&x={xaxis}")
    wait_card_drawn(page, "long/value")
    before = [t for t in traces(page, "long/value") if t["kind"] == "raw"][0]
    assert len(before["x"]) < LONG_STEPS  # the overview is downsampled
    first, last = 2000, 2600  # zoom onto these steps, in the axis' own units
    if xaxis == "step":
        lo, hi = first, last
        plotly_range = [lo, hi]
    elif xaxis == "relative":  # 12000 s of run: the axis is in hours
        lo, hi = first * 2.0 / 3600, last * 2.0 / 3600
        plotly_range = [lo, hi]
    else:  # plotly reports date axes as "YYYY-MM-DD hh:mm:ss.sss" strings (local time)
        lo, hi, *plotly_range = page.evaluate(
            """([a, b]) => {
                const local = (s) => s * 1000 - new Date(s * 1000).getTimezoneOffset() * 60000;
                const text = (ms) => new Date(ms).toISOString().replace("T", " ").slice(0, 23);
                return [local(a), local(b), text(local(a)), text(local(b))];
            }""",
            [LONG_T0 + 2.0 * first, LONG_T0 + 2.0 * last],
        )
    in_window = sum(lo <= x <= hi for x in before["x"])

    with page.expect_request(lambda r: "/api/scalars" in r.url and "x_min" in r.url) as req:
        page.evaluate(
            """([sel, range]) => Plotly.relayout(document.querySelector(sel + ' .plot'),
                   {'xaxis.range': range})""",
            [card_selector("long/value"), plotly_range],
        )
    query = parse_qs(urlsplit(req.value.url).query)
    x_min, x_max = float(query["x_min"][0]), float(query["x_max"][0])
    assert x_min < first and x_max > last and x_max - x_min < 2 * (last - first)
    page.wait_for_function(
        """([sel, lo, hi, n]) => {
            const t = document.querySelector(sel + ' .plot').data.find((d) => d.meta.kind === 'raw');
            return t.x.filter((x) => x >= lo && x <= hi).length > n;
        }""",
        arg=[card_selector("long/value"), lo, hi, in_window],
        timeout=TIMEOUT,
    )
    after = [t for t in traces(page, "long/value") if t["kind"] == "raw"][0]
    eps = 1e-9 * max(abs(lo), abs(hi))
    assert sum(lo - eps <= x <= hi + eps for x in after["x"]) == last - first + 1  # every step
    record.assert_clean()


def test_a_tag_with_markup_is_shown_as_text(demo_board, open_page):
    page, record = open_page(demo_board.url)
    wait_scalars_ready(page)
    page.fill("#tag-filter", "onerror")
    title = page.wait_for_selector(f"{card_selector(XSS_TAG)} .card-title", timeout=TIMEOUT)
    wait_card_drawn(page, XSS_TAG)
    assert title.text_content() == XSS_TAG
    assert page.locator(f"{card_selector(XSS_TAG)} img").count() == 0
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.__xss") == "undefined"
    record.assert_clean()


def test_a_run_with_markup_is_shown_as_text_in_the_list_and_the_hover(demo_board, open_page):
    page, record = open_page(demo_board.url + "#tags=^xss/run$")
    wait_card_drawn(page, "xss/run")
    assert page.text_content(f"#run-list li[data-run={json.dumps(XSS_RUN)}] .run-name") == XSS_RUN
    box = page.locator(f"{card_selector('xss/run')} .plot").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tooltip = page.wait_for_selector(".chart-tooltip:not([hidden])", timeout=TIMEOUT)
    assert page.eval_on_selector_all(
        ".chart-tooltip td.name", "els => els.map(e => e.textContent)"
    ) == [XSS_RUN], tooltip.text_content()
    assert page.evaluate("document.querySelectorAll('img[src=x]').length") == 0
    assert page.evaluate("typeof window.__xss") == "undefined"
    record.assert_clean()


def test_points_without_global_step_are_plotted_by_arrival(demo_board, open_page):
    page, record = open_page(demo_board.url + "#tags=nostep")
    wait_card_drawn(page, "nostep/loss")
    note = page.locator(f"{card_selector('nostep/loss')} .card-note")
    assert note.is_visible()
    assert "global_step" in note.text_content()
    raw = [t for t in traces(page, "nostep/loss") if t["kind"] == "raw"][0]
    assert raw["x"] == [0, 1, 2, 3, 4]
    assert raw["y"] == pytest.approx([3.0, 2.5, 2.0, 1.8, 1.5])
    record.assert_clean()


def test_download_links_point_at_the_board(demo_board, open_page):
    page, record = open_page(demo_board.url + "#tags=^loss/train$")
    wait_card_drawn(page, "loss/train")
    assert page.eval_on_selector_all(f"{card_selector('loss/train')} .download-menu a",
                                     "els => els.length") == 0  # built when the menu opens
    page.click(f"{card_selector('loss/train')} .download > summary")
    page.wait_for_selector(f"{card_selector('loss/train')} .download-menu a")
    links = page.eval_on_selector_all(
        f"{card_selector('loss/train')} .download-menu a", "els => els.map(e => e.href)"
    )
    assert len(links) == 6
    csv = next(link for link in links if "format=csv" in link and "lr%3D0.1&" in link)
    body = page.request.get(csv).text()
    assert body.splitlines()[0] == "step,wall_time,value"
    assert json.loads(page.request.get(csv.replace("csv", "json")).text())["total_points"] > 50
    record.assert_clean()


def test_a_card_falls_back_to_a_request_per_run_when_its_one_request_fails(
    demo_board, open_page
):
    page, record = open_page(demo_board.url)
    wait_scalars_ready(page)
    failing = re.compile(r"/api/scalars/multi\?")
    body = json.dumps({"error": {"code": 503, "message": "unavailable"}})
    page.route(failing, lambda route: route.fulfill(status=503, body=body))
    record.requests.clear()
    page.reload()
    wait_card_drawn(page, "loss/train")
    assert {t["run"] for t in traces(page, "loss/train") if t["kind"] == "raw"} == MLP_RUNS
    asked = [parse_qs(urlsplit(u).query) for u in record.requests if "/api/scalars?" in u]
    assert {q["run"][0] for q in asked if q["tag"] == ["loss/train"]} == MLP_RUNS
    assert record.errors and all("503" in e for e in record.errors)  # the failed requests
    assert record.foreign == []
