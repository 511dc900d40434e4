"""What the page asks for on load, and how pinned cards, custom charts and the outlier-free
y range follow the tag filter and a zoom, in a real browser against the real board."""

from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from .conftest import PageRecord
from .helpers import TIMEOUT, card_selector, wait_card_drawn
from .logdirs import SPIKE_STEP, STEPS, TOOLS_RUNS, tools_loss
from .test_card_tools import plot_state
from .test_dashboard_extras import custom_traces, wait_custom_drawn

pytestmark = pytest.mark.browser

PINNED = "#pinned .scalar-card"


def api_runs_requests(record) -> list[str]:
    return [url for url in record.requests if "/api/runs?" in url or url.endswith("/api/runs")]


def test_the_page_asks_for_the_runs_once_on_load(tools_board, shared_context):
    page = shared_context.new_page()
    record = PageRecord(page, tools_board.url)
    held = []  # the event stream connects after the run list came: as on a busy board
    page.route("**/api/stream", lambda route: held.append(route))
    try:
        page.goto(tools_board.url)
        wait_card_drawn(page, "loss/train")
        assert len(held) == 1
        held[0].continue_()
        page.wait_for_selector('#status[data-live="true"]', timeout=TIMEOUT)
        page.wait_for_timeout(1500)  # a second request would follow the connect at once
        assert len(api_runs_requests(record)) == 1, api_runs_requests(record)
        record.assert_clean()
    finally:
        page.close()


def pinned_tags(page) -> list[str]:
    return page.eval_on_selector_all(PINNED, "els => els.map((e) => e.dataset.tag)")


def test_a_pinned_card_stays_pinned_while_the_tag_filter_hides_it(tools_board, open_page):
    page, record = open_page(tools_board.url + "#smoothing=0&pin=loss/train")
    page.wait_for_selector(f'{PINNED}[data-state="drawn"]', timeout=TIMEOUT)
    page.fill("#tag-filter", "^acc$")
    page.wait_for_selector(card_selector("loss/eval"), state="detached", timeout=TIMEOUT)
    assert pinned_tags(page) == ["loss/train"]
    assert page.locator("#pinned").is_visible()
    assert page.locator(f'{PINNED}[data-state="drawn"] .plot').is_visible()
    in_groups = page.eval_on_selector_all(
        "details.group .scalar-card", "els => els.map((e) => e.dataset.tag)")
    assert in_groups == ["acc"]

    # opened with the filter already in the URL: the pinned card is there and drawn
    fresh, record2 = open_page(tools_board.url + "#smoothing=0&tags=%5Eacc%24&pin=loss/train")
    fresh.wait_for_selector(f'{PINNED}[data-state="drawn"]', timeout=TIMEOUT)
    assert pinned_tags(fresh) == ["loss/train"]
    assert fresh.locator("#empty").is_hidden()

    # unpinned while filtered out: it leaves the page, the filter still hides it
    page.get_by_label("Pin loss/train").click()
    page.wait_for_selector("#pinned", state="hidden", timeout=TIMEOUT)
    assert page.locator(card_selector("loss/train")).count() == 0
    page.fill("#tag-filter", "")  # and comes back in its group when the filter is cleared
    wait_card_drawn(page, "loss/train")
    assert page.locator(f'details.group[data-group="loss"] {card_selector("loss/train")}').count()
    record.assert_clean()
    record2.assert_clean()


def quantile(sorted_values, q):
    pos = (len(sorted_values) - 1) * q
    lo = int(pos)
    hi = min(len(sorted_values) - 1, lo + 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def test_an_x_zoom_refits_the_outlier_free_y_range_to_what_it_shows(tools_board, open_page):
    page, record = open_page(tools_board.url + "#smoothing=0")
    wait_card_drawn(page, "loss/train")
    before = plot_state(page, "loss/train")["range"]
    # drag across the plot from step 60 to step 95, level: an x-only zoom, after the spike
    left, right, y = page.evaluate(
        """(sel) => {
            const plot = document.querySelector(sel + ' .plot');
            const {xaxis, yaxis} = plot._fullLayout;
            const box = plot.getBoundingClientRect();
            const at = (step) => box.left + xaxis._offset + xaxis.l2p(step);
            return [at(60), at(95), box.top + yaxis._offset + yaxis._length / 2];
        }""",
        card_selector("loss/train"),
    )
    page.mouse.move(left, y)
    page.mouse.down()
    page.mouse.move((left + right) / 2, y, steps=4)
    page.mouse.move(right, y, steps=4)
    page.mouse.up()
    page.wait_for_function(
        """([sel, hi]) => {
            const y = document.querySelector(sel + ' .plot')._fullLayout.yaxis;
            return y.range[1] < hi;
        }""",
        arg=[card_selector("loss/train"), before[1] / 2], timeout=TIMEOUT)
    x0, x1 = page.evaluate(
        "(sel) => document.querySelector(sel + ' .plot')._fullLayout.xaxis.range",
        card_selector("loss/train"))
    assert 55 < x0 < 65 and 90 < x1 < 100 and x0 > SPIKE_STEP
    shown = sorted(tools_loss(k, s) for k in range(len(TOOLS_RUNS)) for s in range(STEPS)
                   if x0 <= s <= x1)
    lo, hi = plot_state(page, "loss/train")["range"]
    # the bulk of what the zoom shows is in range, and the range is about that bulk
    assert lo <= quantile(shown, 0.05) and hi >= quantile(shown, 0.95)
    assert hi - lo < 2 * (shown[-1] - shown[0]) < (before[1] - before[0]) / 2
    # zoom out with a double-click: the first fit again. plotly tells a double-click from two
    # clicks by the time between them as its handlers see it, which a loaded machine can
    # stretch past its 300 ms: a double-click that came out as two clicks is made again.
    back = """([sel, hi]) => Math.abs(
        document.querySelector(sel + ' .plot')._fullLayout.yaxis.range[1] - hi) < 1e-9"""
    for attempt in range(3):
        page.dblclick(card_selector("loss/train") + " .plot .nsewdrag")
        try:
            page.wait_for_function(back, arg=[card_selector("loss/train"), before[1]],
                                   timeout=TIMEOUT // 3)
            break
        except PlaywrightTimeoutError:
            if attempt == 2:
                raise
    record.assert_clean()


def test_custom_charts_follow_the_tag_filter(tools_board, open_page):
    page, record = open_page(tools_board.url + "#smoothing=0&chart=%5Eloss%2F")
    wait_custom_drawn(page, "^loss/", 6)  # 3 runs × loss/train, loss/eval
    page.fill("#tag-filter", "train")
    wait_custom_drawn(page, "^loss/", 3)
    assert {t["tag"] for t in custom_traces(page, "^loss/")} == {"loss/train"}
    assert "1 tag" in page.text_content(".custom-card .custom-tags")
    page.fill("#tag-filter", "^acc$")  # hides every tag of the chart: the chart goes too
    page.wait_for_selector("#custom-charts", state="hidden", timeout=TIMEOUT)
    page.fill("#tag-filter", "")
    page.wait_for_selector("#custom-charts", state="visible", timeout=TIMEOUT)
    wait_custom_drawn(page, "^loss/", 6)
    record.assert_clean()
