"""The scalar card tools in a real browser against the real board: pinned cards, full
screen, card width, the outlier-free y range, the hover tooltip and the data table."""

from __future__ import annotations

import json
import math

import pytest

from .helpers import TIMEOUT, card_selector, set_range, wait_card_drawn
from .logdirs import SPIKE, STEPS, TOOLS_RUNS, XSS_RUN, tools_loss

pytestmark = pytest.mark.browser

def plot_state(page, tag):
    """What plotly shows of a card: its y range and whether it is automatic, its width."""
    return page.evaluate(
        """(sel) => {
            const plot = document.querySelector(sel + ' .plot');
            const y = plot._fullLayout.yaxis;
            return {range: y.range, auto: Boolean(plot.layout.yaxis.autorange !== false),
                    width: plot._fullLayout.width};
        }""",
        card_selector(tag),
    )


def test_pin_moves_the_card_on_top_and_the_url_keeps_it(tools_board, open_page):
    page, record = open_page(tools_board.url + "#smoothing=0")
    wait_card_drawn(page, "loss/train")
    assert page.locator("#pinned").is_hidden()
    page.get_by_label("Pin loss/train").click()
    page.wait_for_selector(f"#pinned {card_selector('loss/train')}", timeout=TIMEOUT)
    assert page.locator("#pinned").is_visible()
    assert page.get_by_label("Pin loss/train").get_attribute("aria-pressed") == "true"
    assert "pin=loss%2Ftrain" in page.evaluate("location.hash")
    # the Pinned section comes before every tag group
    assert page.evaluate("""() => Boolean(document.querySelector('#pinned').compareDocumentPosition(
        document.querySelector('details.group')) & Node.DOCUMENT_POSITION_FOLLOWING)""")

    shared, record2 = open_page(tools_board.url + "#smoothing=0&pin=loss/train&pin=acc")
    shared.wait_for_selector(f"#pinned {card_selector('acc')}", timeout=TIMEOUT)
    pinned = shared.eval_on_selector_all("#pinned .scalar-card", "els => els.map(e => e.dataset.tag)")
    assert pinned == ["loss/train", "acc"]  # in pin order
    wait_card_drawn(shared, "acc")

    page.get_by_label("Pin loss/train").click()  # unpin: back into its group, in tag order
    page.wait_for_selector("#pinned", state="hidden", timeout=TIMEOUT)
    in_group = page.eval_on_selector_all(
        'details.group[data-group="loss"] .scalar-card', "els => els.map(e => e.dataset.tag)")
    assert in_group == ["loss/eval", "loss/train"]
    assert "pin=" not in page.evaluate("location.hash")
    record.assert_clean()
    record2.assert_clean()


def test_full_screen_shows_one_card_over_the_page(tools_board, open_page):
    page, record = open_page(tools_board.url)
    wait_card_drawn(page, "loss/eval")
    narrow = plot_state(page, "loss/eval")["width"]
    page.get_by_label("Full screen loss/eval").click()
    page.wait_for_function(
        "(sel) => document.querySelector(sel + ' .plot')._fullLayout.width > 1200",
        arg=card_selector("loss/eval"), timeout=TIMEOUT)
    assert page.locator(f"{card_selector('loss/eval')}.fullscreen").count() == 1
    box = page.locator(card_selector("loss/eval")).bounding_box()
    assert box["width"] > 1300 and box["height"] > 800
    page.keyboard.press("Escape")
    page.wait_for_function(
        "([sel, w]) => document.querySelector(sel + ' .plot')._fullLayout.width <= w + 1",
        arg=[card_selector("loss/eval"), narrow], timeout=TIMEOUT)
    assert page.locator(".fullscreen").count() == 0
    record.assert_clean()


def test_card_width_is_a_setting_in_the_url(tools_board, open_page):
    page, record = open_page(tools_board.url)
    wait_card_drawn(page, "loss/train")
    assert page.locator(card_selector("loss/train")).bounding_box()["width"] < 700
    set_range(page, "#card-width", 900)
    assert "cardw=900" in page.evaluate("location.hash")
    page.wait_for_function(
        "(sel) => document.querySelector(sel + ' .plot')._fullLayout.width > 800",
        arg=card_selector("loss/train"), timeout=TIMEOUT)
    assert page.locator(card_selector("loss/train")).bounding_box()["width"] >= 900
    assert page.text_content("#card-width-value") == "900px"
    record.assert_clean()


def test_y_range_ignores_outliers_by_default_and_the_card_can_show_them(tools_board, open_page):
    page, record = open_page(tools_board.url + "#smoothing=0")
    wait_card_drawn(page, "loss/train")
    shown = plot_state(page, "loss/train")
    assert not shown["auto"] and shown["range"][1] < 5  # the spike of 50 is left out
    values = sorted(tools_loss(k, s) for k in range(3) for s in range(STEPS))
    assert shown["range"][1] >= values[int(0.95 * (len(values) - 1))]  # the bulk is in
    toggle = page.get_by_label("Ignore outliers in the y range of loss/train")
    assert toggle.get_attribute("aria-pressed") == "true"
    toggle.click()
    page.wait_for_function(
        "(sel) => document.querySelector(sel + ' .plot')._fullLayout.yaxis.range[1] >= 50",
        arg=card_selector("loss/train"), timeout=TIMEOUT)
    assert toggle.get_attribute("aria-pressed") == "false"
    assert "outliers=loss%2Ftrain" in page.evaluate("location.hash")
    assert page.get_by_label("Ignore outliers in the y range of loss/eval").get_attribute(
        "aria-pressed") == "true"  # the other cards keep theirs
    record.assert_clean()


def hover_at_step(page, tag, step, value=None):
    """Move the pointer over a card at a step (and a y value, else mid-height)."""
    point = page.evaluate(
        """([sel, step, value]) => {
            const plot = document.querySelector(sel + ' .plot');
            const {xaxis, yaxis} = plot._fullLayout;
            const box = plot.getBoundingClientRect();
            const y = value === null ? yaxis._length / 2 : yaxis.l2p(value);
            return [box.left + xaxis._offset + xaxis.l2p(step), box.top + yaxis._offset + y];
        }""",
        [card_selector(tag), step, value],
    )
    page.wait_for_timeout(120)  # plotly handles at most one hover per 50 ms, as with a hand
    page.mouse.move(*point)
    return point


def tooltip_rows(page):
    page.wait_for_selector(".chart-tooltip:not([hidden])", timeout=TIMEOUT)
    return page.eval_on_selector_all(
        ".chart-tooltip tbody tr",
        "rows => rows.map(r => Array.from(r.cells, (c) => c.textContent))")


def test_tooltip_lists_every_run_with_smoothed_raw_step_and_relative_time(tools_board,
                                                                           open_page):
    page, record = open_page(tools_board.url + "#smoothing=0.5")
    wait_card_drawn(page, "loss/train")
    hover_at_step(page, "loss/train", 60)
    rows = tooltip_rows(page)
    assert [r[1] for r in rows if r[4] == "60"] and len(rows) == 3
    by_run = {r[1]: r for r in rows}
    assert set(by_run) == set(TOOLS_RUNS)
    for k, run in enumerate(TOOLS_RUNS):
        _, _, smoothed, raw, step, relative = by_run[run]
        assert step == "60"
        assert float(raw) == pytest.approx(tools_loss(k, 60), rel=1e-4)
        assert relative == f"{60 * (3 + k) // 60}m" + (f" {60 * (3 + k) % 60}s" if 60 * (3 + k)
                                                        % 60 else "")
        assert float(smoothed) != pytest.approx(float(raw), rel=1e-6)  # smoothing is on
    smoothed = [float(r[2]) for r in rows]
    assert smoothed == sorted(smoothed, reverse=True)  # "by value" is the default order
    page.select_option("#tooltip-sort", "name")
    assert "tsort=name" in page.evaluate("location.hash")
    hover_at_step(page, "loss/train", 61)
    hover_at_step(page, "loss/train", 60)
    assert [r[1] for r in tooltip_rows(page)] == TOOLS_RUNS

    page.select_option("#tooltip-sort", "nearest")
    for target in (0, 2):  # point at run a's line, then at run c's: it comes first
        value = float(by_run[TOOLS_RUNS[target]][2])
        hover_at_step(page, "loss/train", 59)
        hover_at_step(page, "loss/train", 60, value)
        page.wait_for_function(
            "(run) => document.querySelector('.chart-tooltip tbody tr td.name')"
            ".textContent === run", arg=TOOLS_RUNS[target], timeout=TIMEOUT)
    record.assert_clean()


def test_tooltip_shows_run_names_as_text(tools_board, open_page):
    page, record = open_page(tools_board.url + "#tags=^acc$")
    wait_card_drawn(page, "acc")
    hover_at_step(page, "acc", 1)
    assert XSS_RUN in [r[1] for r in tooltip_rows(page)]
    assert page.evaluate("document.querySelectorAll('img[src=x]').length") == 0
    assert page.evaluate("typeof window.__xss") == "undefined"
    record.assert_clean()


def table(page, tag):
    return page.eval_on_selector_all(
        f"{card_selector(tag)} .data-table tbody tr",
        "rows => rows.map(r => Array.from(r.cells, (c) => c.textContent))")


def test_click_shows_a_step_table_and_a_drag_a_range_table(tools_board, open_page):
    page, record = open_page(tools_board.url + "#smoothing=0")
    wait_card_drawn(page, "loss/train")
    x, y = hover_at_step(page, "loss/train", 30)
    page.mouse.click(x, y)
    page.wait_for_selector(f'{card_selector("loss/train")} .data-table[data-kind="step"]',
                           timeout=TIMEOUT)
    rows = table(page, "loss/train")
    assert [r[0] for r in rows] == TOOLS_RUNS
    for k, row in enumerate(rows):
        assert row[3] == "30" and float(row[2]) == pytest.approx(tools_loss(k, 30), rel=1e-4)

    x0, _ = hover_at_step(page, "loss/train", 20)
    x1, _ = hover_at_step(page, "loss/train", 50)
    page.mouse.move(x0, y)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, y, steps=4)
    page.mouse.move(x1, y, steps=4)
    page.mouse.up()
    page.wait_for_selector(f'{card_selector("loss/train")} .data-table[data-kind="range"]',
                           timeout=TIMEOUT)
    page.wait_for_selector(f'{card_selector("loss/train")}[data-state="drawn"]', timeout=TIMEOUT)
    rows = {r[0]: r for r in table(page, "loss/train")}
    assert set(rows) == set(TOOLS_RUNS)
    for k, run in enumerate(TOOLS_RUNS):
        _, first, last, start, end, change, low, high, mean, points = rows[run]
        first, last = int(first), int(last)
        assert 19 <= first <= 22 and 48 <= last <= 51
        values = [tools_loss(k, s) for s in range(first, last + 1)]
        assert int(points) == len(values)
        assert float(start) == pytest.approx(values[0], rel=1e-4)
        assert float(end) == pytest.approx(values[-1], rel=1e-4)
        assert float(change) == pytest.approx(values[-1] - values[0], rel=1e-3, abs=1e-5)
        assert float(low) == pytest.approx(min(values), rel=1e-4)
        assert float(high) == pytest.approx(max(values), rel=1e-4)
        assert float(mean) == pytest.approx(sum(values) / len(values), rel=1e-4)
    assert float(rows["a"][7]) == SPIKE  # the range holds the spike at step 40
    page.get_by_label("Close the data table of loss/train").click()
    assert page.locator(f'{card_selector("loss/train")} .data-table').is_hidden()
    record.assert_clean()


def test_outlier_range_matches_numpys_percentiles(tools_board, open_page):
    np = pytest.importorskip("numpy")
    page, record = open_page(tools_board.url + "#tab=graphs")
    page.wait_for_selector("body[data-loaded]", timeout=TIMEOUT)
    rng = np.random.default_rng(1)
    values = list(rng.normal(0, 1, 500)) + [80.0]
    lo, hi = np.percentile(values, [5, 95])
    got = page.evaluate(
        "async (v) => { const m = await import('/js/outliers.js'); return m.outlierRange(v); }",
        values)
    pad = 0.2 * (hi - lo)
    assert got == pytest.approx([lo - pad, hi + pad], rel=1e-12)
    spread = page.evaluate(
        "async (v) => (await import('/js/outliers.js')).outlierRange(v)", [1.0, 2.0, 3.0, 4.0])
    assert spread is None  # nothing would be hidden: plotly's own range shows all
    log = page.evaluate(
        "async (v) => (await import('/js/outliers.js')).outlierRange(v, true)", values)
    positive = np.log10([v for v in values if v > 0])
    lo, hi = np.percentile(positive, [5, 95])
    assert log == pytest.approx([lo - 0.2 * (hi - lo), hi + 0.2 * (hi - lo)], rel=1e-12)
    assert not math.isnan(log[0])
    record.assert_clean()


def test_state_keys_round_trip_through_the_url(tools_board, open_page):
    page, record = open_page(tools_board.url)
    page.wait_for_selector("body[data-loaded]", timeout=TIMEOUT)
    hash_ = "#pin=a%2Fb&pin=c&cardw=700&outliers=loss&tsort=nearest&chart=%5Eloss%2F"
    state = page.evaluate(
        "async (h) => { const m = await import('/js/state.js'); const s = m.parseHash(h);"
        " return [s, m.toHash(s)]; }", hash_)
    assert state[0]["pin"] == ["a/b", "c"] and state[0]["cardw"] == 700
    assert state[0]["outliers"] == ["loss"] and state[0]["tsort"] == "nearest"
    assert state[0]["chart"] == ["^loss/"]
    assert state[1] == hash_
    clamped = page.evaluate(
        "async () => (await import('/js/state.js')).parseHash('#cardw=5&tsort=bogus')")
    assert clamped["cardw"] == 320 and clamped["tsort"] == "value"
    record.assert_clean()
    assert json.dumps(state[0])
