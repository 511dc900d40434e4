"""The scalars view on the data sizes users have (STYLE 17): the 1M-point logdir (20 runs ×
10 tags × 5000 steps) and 1000 runs × 10 tags × 100 steps. Figures are measured and printed
in the end-of-run measurements section, never asserted; benchmarks/page.py compares them with
TensorBoard's."""

from __future__ import annotations

import math
import statistics
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from .conftest import CHROMIUM, CHROMIUM_ARGS, PageRecord
from .helpers import TIMEOUT, card_selector, traces, wait_card_drawn

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1400, "height": 900}

# Milliseconds from a smoothing change (or unchecking the first checked run) to the card's
# next draw; the page stamps data-drawn-at when plotly has drawn.
REDRAW_JS = """async ([sel, act]) => {
    const card = document.querySelector(sel);
    const before = Number(card.dataset.drawnAt || 0);
    const t0 = performance.now();
    if (act === 'smoothing') {
        const input = document.querySelector('#smoothing');
        input.value = String(Number(input.value) > 0.5 ? 0.3 : 0.8);
        input.dispatchEvent(new Event('input', {bubbles: true}));
    } else {
        document.querySelector('#run-list input[type=checkbox]:checked').click();
    }
    while (Number(card.dataset.drawnAt || 0) <= Math.max(before, t0)) {
        await new Promise(requestAnimationFrame);
    }
    return Number(card.dataset.drawnAt) - t0;
}"""

ON_SCREEN_JS = """() => [...document.querySelectorAll('.scalar-card')].filter((c) => {
    const r = c.querySelector('.plot').getBoundingClientRect();
    return r.bottom > 0 && r.top < window.innerHeight;
}).map((c) => [c.dataset.tag, c.dataset.state, c.querySelector('.plot').clientWidth])"""


def first_screen(page) -> tuple[int, list]:
    """Wait for the charts on screen; the page's navigation-relative draw time and them."""
    page.wait_for_selector('#view-scalars[data-ready="1"]', timeout=120_000)
    on_screen = page.evaluate(ON_SCREEN_JS)
    assert on_screen and {state for _, state, _ in on_screen} == {"drawn"}, on_screen
    return int(page.get_attribute("#view-scalars", "data-first-draw-ms")), on_screen


def multi_requests(record) -> list[dict]:
    return [parse_qs(urlsplit(u).query) for u in record.requests if "/api/scalars/multi?" in u]


def test_the_1m_point_logdir_draws_every_run_at_the_plots_resolution(
    million_points_board, open_page, report_measurement
):
    page, record = open_page(million_points_board.url)
    ms, on_screen = first_screen(page)
    report_measurement(f"1M points (20 runs x 10 tags x 5000 steps): the {len(on_screen)} "
                       f"charts on screen drawn {ms} ms after navigation start (shared context)")
    asked = {q["tag"][0]: q for q in multi_requests(record)}
    for tag, _, width in on_screen:  # one request per card, every run, the plot's resolution
        query = asked[tag]
        assert len(query["run"]) == 20
        max_points = int(query["max_points"][0])
        assert max_points == math.ceil(2 * width / 100) * 100, (width, max_points)
        shown = traces(page, tag)
        assert len(shown) == 40  # raw + smoothed per run
        assert all(width <= len(t["x"]) <= max_points for t in shown)
    record.assert_clean()


def test_points_per_trace_follow_the_plot_width(million_points_board, playwright_browser):
    narrow_plots = """document.addEventListener('DOMContentLoaded', () => {
        const style = document.createElement('style');
        style.id = 'narrow-plots';
        style.textContent = '.scalar-card .plot { width: 240px; }';
        document.head.append(style);
    });"""
    widths = []
    for init in (None, narrow_plots):
        context = playwright_browser.new_context(viewport=VIEWPORT)
        if init:
            context.add_init_script(init)
        page = context.new_page()
        record = PageRecord(page, million_points_board.url)
        page.goto(million_points_board.url + "#tags=^group0/metric0$")
        wait_card_drawn(page, "group0/metric0")
        width = page.eval_on_selector(f"{card_selector('group0/metric0')} .plot",
                                      "p => p.clientWidth")
        (query,) = multi_requests(record)
        points = max(len(t["x"]) for t in traces(page, "group0/metric0"))
        widths.append((width, int(query["max_points"][0]), points))
        if init:  # the plot widens: its overviews are fetched again, at the new width
            with page.expect_request(lambda r: "/api/scalars/multi?" in r.url) as request:
                page.evaluate("document.getElementById('narrow-plots').remove()")
            wider = parse_qs(urlsplit(request.value.url).query)["max_points"][0]
            assert int(wider) == widths[0][1]
        record.assert_clean()
        context.close()
    (wide, wide_asked, wide_points), (narrow, narrow_asked, narrow_points) = widths
    assert narrow == 240 and wide > 400
    assert wide_asked > narrow_asked and wide_points > narrow_points
    for width, asked, points in widths:
        assert asked == math.ceil(2 * width / 100) * 100 and width <= points <= asked


def test_cold_and_repeat_visits_of_the_1m_point_logdir(
    million_points_board, playwright_browser, tmp_path, report_measurement
):
    """A fresh browser profile, as a user's is: the first visit loads everything; the next
    ones take the content-hashed files from the cache without asking (the HTTP cache, they are
    immutable, or the page's service worker once it is installed), with the code V8 compiled
    (from the service worker's cache on the 2nd visit, from the HTTP cache on the 3rd)."""
    context = playwright_browser.browser_type.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
        viewport=VIEWPORT)
    times = []
    try:
        for _ in range(4):
            page = context.new_page()
            record = PageRecord(page, million_points_board.url)
            page.goto(million_points_board.url)
            times.append(first_screen(page)[0])
            hashed = page.evaluate("""performance.getEntriesByType('resource')
                .filter((e) => new URL(e.name).pathname.startsWith('/h/'))
                .map((e) => [new URL(e.name).pathname, e.transferSize])""")
            assert any(path.endswith("/static/plotly.min.js") for path, _ in hashed)
            if len(times) > 1:  # a repeat visit: not one byte of them over the network
                assert {size for _, size in hashed} == {0}, hashed
            record.assert_clean()
            page.close()
    finally:
        context.close()
    report_measurement(f"1M points, fresh profile: first screen drawn {times[0]} ms cold, "
                       f"{times[1]} ms on the 2nd visit, median {statistics.median(times[2:]):.0f}"
                       f" ms on visits 3-4 (V8 code cache)")


def test_a_smoothing_change_or_run_toggle_redraws_a_20_run_card(
    million_points_board, open_page, report_measurement
):
    page, record = open_page(million_points_board.url + "#tags=^group0/metric0$")
    wait_card_drawn(page, "group0/metric0")
    sel = card_selector("group0/metric0")
    before = {t["run"]: t["y"] for t in traces(page, "group0/metric0") if t["kind"] == "smoothed"}
    smoothing = [page.evaluate(REDRAW_JS, [sel, "smoothing"])]
    after = {t["run"]: t["y"] for t in traces(page, "group0/metric0") if t["kind"] == "smoothed"}
    assert after.keys() == before.keys() and after["run00"] != before["run00"]
    toggles = []
    for run in ("run00", "run01", "run02"):
        toggles.append(page.evaluate(REDRAW_JS, [sel, "run"]))
        assert run not in {t["run"] for t in traces(page, "group0/metric0")}
        page.wait_for_timeout(300)
        smoothing.append(page.evaluate(REDRAW_JS, [sel, "smoothing"]))
        page.wait_for_timeout(400)  # the exact re-fetch for the new weight lands
    assert len(traces(page, "group0/metric0")) == 2 * 17
    report_measurement(f"20-run card redrawn {statistics.median(smoothing):.0f} ms after a "
                       f"smoothing change, {statistics.median(toggles):.0f} ms after a run is "
                       "unchecked (medians)")
    record.assert_clean()


def test_a_thousand_runs_draw_a_capped_selection_that_says_so(
    thousand_runs_board, open_page, report_measurement
):
    page, record = open_page(thousand_runs_board.url)
    ms, on_screen = first_screen(page)
    report_measurement(f"1000 runs x 10 tags x 100 steps: the first {len(on_screen)} charts "
                       f"drawn {ms} ms after navigation start (20 runs drawn by default)")
    note = page.locator("#run-cap")
    assert note.is_visible()
    assert "Drawing 20 of 1,000 runs: the first 20" in note.text_content()
    for tag, _, _ in on_screen:
        assert {t["run"] for t in traces(page, tag)} == {f"run{r:03d}" for r in range(20)}
    assert all(len(q["run"]) == 20 for q in multi_requests(record))
    rows = page.eval_on_selector_all("#run-list li[data-run]", "els => els.length")
    assert 10 <= rows <= 60  # the rows in view (and a few more), not a thousand
    assert page.get_attribute("#run-list", "data-total") == "1000"
    checked = page.eval_on_selector_all(
        "#run-list li[data-run]", "els => els.map((e) => [e.dataset.run,"
        " e.querySelector('input').checked])")
    assert all(on == (int(run[3:]) < 20) for run, on in checked)

    record.requests.clear()
    page.click("#run-cap-all")  # one click from all
    page.wait_for_function(
        """(sel) => { const p = document.querySelector(sel + ' .plot');
            return p.data && p.data.length === 2000; }""",
        arg=card_selector(on_screen[0][0]), timeout=180_000)
    assert note.is_hidden() and "all=1" in page.evaluate("location.hash")
    assert page.is_checked("#run-list li[data-run='run019'] input")
    assert page.is_checked("#run-list li[data-run='run020'] input")
    record.assert_clean()


def test_the_run_list_of_a_thousand_runs_scrolls_filters_and_checks(
    thousand_runs_board, open_page, report_measurement
):
    page, record = open_page(thousand_runs_board.url + "#tags=^group0/metric0$")
    wait_card_drawn(page, "group0/metric0")
    page.eval_on_selector("#run-list", "l => { l.scrollTop = l.scrollHeight; }")
    page.wait_for_selector("#run-list li[data-run='run999']", timeout=TIMEOUT)
    assert page.eval_on_selector_all("#run-list li[data-run]", "els => els.length") <= 60
    assert page.locator("#run-list li[data-run='run000']").count() == 0
    page.check("#run-list li[data-run='run990'] input")  # beyond the cap: drawn too
    page.wait_for_function(
        """(sel) => document.querySelector(sel + ' .plot').data.some(
            (t) => t.meta.run === 'run990')""",
        arg=card_selector("group0/metric0"), timeout=TIMEOUT)
    assert "show=run990" in page.evaluate("location.hash")
    assert "checked by hand" in page.text_content("#run-cap")

    # the regex filter: list and note answer in the frame of the keystroke
    elapsed = page.evaluate("""() => {
        const input = document.querySelector('#run-filter');
        const t0 = performance.now();
        input.value = 'run00[0-4]$';
        input.dispatchEvent(new Event('input', {bubbles: true}));
        return performance.now() - t0;
    }""")
    rows = page.eval_on_selector_all("#run-list li[data-run]", "els => els.map(e => e.dataset.run)")
    assert rows == [f"run00{i}" for i in range(5)]
    assert page.locator("#run-cap").is_hidden()  # 5 matches: no cap
    page.wait_for_function(
        """(sel) => document.querySelector(sel + ' .plot').data.length === 10""",
        arg=card_selector("group0/metric0"), timeout=TIMEOUT)
    frames = page.evaluate("""async () => {
        const input = document.querySelector('#run-filter');
        const out = [];
        for (const pattern of ['run1', 'run12', 'run12[0-5]', '^run', '9$', '']) {
            const t0 = performance.now();
            input.value = pattern;
            input.dispatchEvent(new Event('input', {bubbles: true}));
            await new Promise(requestAnimationFrame);
            out.push(performance.now() - t0);
        }
        return out;
    }""")
    report_measurement(f"1000 runs: run filter keystroke handled in {elapsed:.1f} ms; to the "
                       f"next frame: median {statistics.median(frames):.1f} ms, max "
                       f"{max(frames):.1f} ms over {len(frames)} patterns")
    record.assert_clean()


def test_run_colors_stay_with_their_runs_across_reloads(tmp_path, start_board, open_page):
    from writer import SummaryWriter

    def write(run: str) -> None:
        with SummaryWriter(str(tmp_path / run)) as w:
            for step in range(3):
                w.add_scalar("loss", float(step), step)

    for run in ("a", "c", "e"):
        write(run)
    board = start_board(tmp_path).wait_loaded()
    page, record = open_page(board.url)
    wait_card_drawn(page, "loss")

    def colors() -> dict:
        swatches = page.eval_on_selector_all(
            "#run-list li[data-run]", "els => els.map((e) => [e.dataset.run,"
            " getComputedStyle(e.querySelector('.run-swatch')).backgroundColor])")
        lines = page.eval_on_selector(f"{card_selector('loss')} .plot", """p => p.data
            .filter((t) => t.meta.kind === 'smoothed').map((t) => [t.meta.run, t.line.color])""")
        return dict(swatches), dict(lines)

    first_swatches, first_lines = colors()
    assert len(set(first_swatches.values())) == 3
    write("b")  # sorts between a and c: by list position, c and e would change color
    deadline = time.monotonic() + 30
    while "b" not in {r["name"] for r in page.request.get(board.url + "api/runs").json()["runs"]}:
        assert time.monotonic() < deadline, "the board did not list run b"
        time.sleep(0.1)
    page.reload()
    wait_card_drawn(page, "loss")
    page.wait_for_selector("#run-list li[data-run='b']", timeout=TIMEOUT)
    swatches, lines = colors()
    for run in ("a", "c", "e"):
        assert swatches[run] == first_swatches[run] and lines[run] == first_lines[run]
    assert swatches["b"] not in {first_swatches[r] for r in ("a", "c", "e")}
    record.assert_clean()
