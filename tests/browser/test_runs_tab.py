"""The Runs tab on a real hyperparameter sweep (SummaryWriter.add_hparams): sorting, the regex
and range filters, its checkboxes as the run selection of the Scalars view, brushing the
parallel-coordinates plot (through Plotly.restyle, and with the mouse), CSV export, live
updates, and 1000 runs (first render, scrolling and rows in the DOM printed in the
measurements section, never asserted as times)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from writer import SummaryWriter

from .conftest import BOARD, Board
from .helpers import TIMEOUT, traces, wait_card_drawn
from .logdirs import XSS_RUN, hparams_sweep, sweep_hparams

pytestmark = pytest.mark.browser

RUNS = 12
NAMES = [f"sweep/run{k:03d}" for k in range(RUNS)]
ODD_RUN = 'odd,"quoted" run'  # a CSV field that needs quoting


@pytest.fixture(scope="module")
def sweep_board(tmp_path_factory, playwright_browser):
    if not BOARD.exists():
        pytest.skip(f"{BOARD} is missing; install numboard into the venv (pip install -e .)")
    root = hparams_sweep(tmp_path_factory.mktemp("sweep"), runs=RUNS)
    for name in (ODD_RUN, XSS_RUN):
        with SummaryWriter(str(root / name)) as w:
            w.add_scalar("loss", 9.0, 0)
            w.add_hparams({"lr": 0.5, "optimizer": XSS_RUN, "batch_size": 8, "dropout": 0.0})
    board = Board(root).wait_loaded()
    yield board
    board.stop()


def open_runs(open_page, board, hash_=""):
    page, record = open_page(board.url + "#tab=runs" + hash_)
    page.wait_for_selector('#view-runs[data-ready="1"]', timeout=TIMEOUT)
    return page, record


def table_runs(page) -> list[str]:
    """The run names of the table's rows in the DOM, top to bottom."""
    return page.eval_on_selector_all("#view-runs tbody tr[data-run]", "rs => rs.map(r => r.dataset.run)")


def checked_runs(page) -> set[str]:
    return set(page.eval_on_selector_all(
        "#view-runs tbody tr[data-run]", "rs => rs.filter(r => r.querySelector('input').checked)"
        ".map(r => r.dataset.run)"))


def wait_rows(page, expected: list[str]) -> None:
    page.wait_for_function(
        """(want) => JSON.stringify([...document.querySelectorAll('#view-runs tbody tr[data-run]')]
            .map(r => r.dataset.run)) === JSON.stringify(want)""",
        arg=expected, timeout=TIMEOUT)


def scalar_runs(page, tag="loss") -> set[str]:
    """Switch to the Scalars tab and return the runs the tag's card draws."""
    page.click("#tab-scalars")
    page.wait_for_selector('#view-scalars[data-ready="1"]', timeout=TIMEOUT)
    wait_card_drawn(page, tag)
    return {t["run"] for t in traces(page, tag)}


def test_rows_show_hparams_and_metrics_and_sort_by_a_column(sweep_board, open_page):
    page, record = open_runs(open_page, sweep_board)
    all_names = sorted([*NAMES, ODD_RUN, XSS_RUN])
    assert sorted(table_runs(page)) == all_names
    row = page.locator('#view-runs tbody tr[data-run="sweep/run003"]')
    cells = row.locator("td, th").all_inner_texts()
    hp = sweep_hparams(3)
    assert [hp["lr"], hp["optimizer"], hp["batch_size"]] == [0.003, "adam", 256]
    assert cells[2:5] == ["0.003", "adam", "256"]
    assert "@49" in " ".join(cells)  # the last step of loss/accuracy next to the value

    lr = '#view-runs th[data-col="hparam:lr"]'
    page.click(f"{lr} .sort-button")
    assert page.get_attribute(lr, "aria-sort") == "ascending"
    by_lr = sorted([*NAMES, ODD_RUN, XSS_RUN],
                   key=lambda n: (sweep_hparams(int(n[-3:]))["lr"] if n in NAMES else 0.5, n))
    wait_rows(page, by_lr)
    page.focus(f"{lr} .sort-button")  # the keyboard sorts too
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.querySelector('{lr}').getAttribute('aria-sort') === 'descending'")
    assert table_runs(page)[:1] in ([ODD_RUN], [XSS_RUN])  # lr 0.5 first, then 0.1
    assert page.evaluate("window.__xss") is None
    assert page.locator(f'#view-runs tbody tr[data-run="{XSS_RUN}"] td', has_text=XSS_RUN).count() == 1
    record.assert_clean()


def test_regex_and_range_filters_narrow_the_table_and_the_selection(sweep_board, open_page):
    page, record = open_runs(open_page, sweep_board)
    page.fill("#run-filter", r"run00[0-4]$")
    wait_rows(page, NAMES[:5])
    page.fill("#run-filter", "")
    wait_rows(page, sorted([*NAMES, ODD_RUN, XSS_RUN]))

    page.fill('#view-runs .filter-row input[aria-label="lr minimum"]', "0.01")
    page.fill('#view-runs .filter-row input[aria-label="lr maximum"]', "0.1")
    want = [n for k, n in enumerate(NAMES) if 0.01 <= sweep_hparams(k)["lr"] <= 0.1]
    wait_rows(page, want)
    assert "range=0.01~0.1~hparam%3Alr" in page.url or "range=0.01%7E0.1%7Ehparam%3Alr" in page.url
    assert scalar_runs(page) == set(want)  # the Scalars view draws only the runs in range

    # a metric column: loss (min) at most 0.3, on top of the lr range
    page.click("#tab-runs")
    page.select_option('#view-runs th[data-col="last:loss"] .mode-select', "min")
    page.fill('#view-runs .filter-row input[aria-label="loss (min) maximum"]', "0.3")
    rows = json.loads(page.evaluate("fetch('api/runs/table').then(r => r.text())"))
    fields = rows["metric_fields"]
    low = {r["name"] for r in rows["runs"] if r["metrics"]["loss"][fields.index("min")] <= 0.3}
    want2 = [n for n in want if n in low]
    assert 0 < len(want2) < len(want)
    wait_rows(page, want2)
    page.click("#view-runs .range-chips .link-button")  # Clear filters
    wait_rows(page, sorted([*NAMES, ODD_RUN, XSS_RUN]))
    record.assert_clean()


def test_checkboxes_are_the_scalars_selection(sweep_board, open_page):
    page, record = open_runs(open_page, sweep_board)
    box = '#view-runs tbody tr[data-run="sweep/run001"] input'
    assert page.is_checked(box)
    page.uncheck(box)
    assert "hide=sweep%2Frun001" in page.url
    drawn = scalar_runs(page)
    assert "sweep/run001" not in drawn and "sweep/run002" in drawn
    # check it again in the Scalars view's run list: the table follows
    page.check('#run-list li[data-run="sweep/run001"] input')
    page.wait_for_function("!location.hash.includes('hide=')")
    page.click("#tab-runs")
    page.wait_for_selector(f"{box}:checked", timeout=TIMEOUT)
    assert scalar_runs(page) == drawn | {"sweep/run001"}
    record.assert_clean()


BRUSH_JS = """([axis, range]) => window.Plotly.restyle(
    document.getElementById('runs-parcoords'),
    {[`dimensions[${axis}].constraintrange`]: [range]})"""


def test_brushing_the_parallel_coordinates_filters_table_and_scalars(sweep_board, open_page):
    page, record = open_runs(open_page, sweep_board)
    page.wait_for_selector('#runs-parcoords[data-state="drawn"]', timeout=TIMEOUT)
    assert page.locator("#runs-parcoords").inner_text().find("WebGL") < 0
    page.select_option("#runs-plot-metric", "hparam/accuracy")
    page.wait_for_function("""() => document.getElementById('runs-parcoords').data[0].dimensions
        .at(-1).label === 'hparam/accuracy (last)'""", timeout=TIMEOUT)
    labels = page.evaluate("document.getElementById('runs-parcoords').data[0].dimensions"
                           ".map(d => d.label)")
    assert labels == ["lr", "optimizer", "batch_size", "dropout", "hparam/accuracy (last)"]
    assert page.get_attribute("#runs-parcoords", "data-lines") == str(RUNS)  # the two odd runs
    # have no hparam/accuracy: not on the plot
    before = scalar_runs(page)
    page.click("#tab-runs")
    page.wait_for_selector('#runs-parcoords[data-state="drawn"]', timeout=TIMEOUT)

    page.evaluate(BRUSH_JS, [0, [0.05, 0.2]])  # lr in [0.05, 0.2]: the lr=0.1 runs
    want = [n for k, n in enumerate(NAMES) if sweep_hparams(k)["lr"] == 0.1]
    wait_rows(page, want)
    assert page.locator("#view-runs .range-chips .chip").inner_text().startswith("lr: 0.05")
    assert scalar_runs(page) == set(want)

    page.click("#tab-runs")
    page.wait_for_selector('#runs-parcoords[data-state="drawn"]', timeout=TIMEOUT)
    page.evaluate(BRUSH_JS, [0, None])  # clearing the brush restores
    wait_rows(page, sorted([*NAMES, ODD_RUN, XSS_RUN]))
    assert scalar_runs(page) == before
    record.assert_clean()


def test_csv_export_has_the_filtered_rows_quoted(sweep_board, open_page):
    page, record = open_runs(open_page, sweep_board, "&runs=odd|run00[01]$")
    wait_rows(page, [ODD_RUN, "sweep/run000", "sweep/run001"])
    with page.expect_download() as info:
        page.click("#runs-csv")
    download = info.value
    assert download.suggested_filename == "runs.csv"
    text = open(download.path(), encoding="utf-8", newline="").read()
    table = list(csv.reader(io.StringIO(text)))
    header, rows = table[0], table[1:]
    assert header[:5] == ["Run", "lr", "optimizer", "batch_size", "dropout"]
    assert "loss (last)" in header and "loss (last step)" in header
    assert [r[0] for r in rows] == [ODD_RUN, "sweep/run000", "sweep/run001"]
    assert f'"{ODD_RUN.replace(chr(34), chr(34) * 2)}"' in text  # quoted, quotes doubled
    run1 = rows[2]
    assert run1[1:5] == ["0.03", "sgd", "64", "0.1"]
    assert run1[header.index("loss (last step)")] == "49"
    record.assert_clean()


def test_live_points_update_the_table(sweep_board, open_page):
    page, record = open_runs(open_page, sweep_board, "&runs=run011$")
    cell = '#view-runs tbody tr[data-run="sweep/run011"] td[title*="at step"]'
    page.wait_for_selector(cell, timeout=TIMEOUT)
    assert "@49" in page.inner_text('#view-runs tbody tr[data-run="sweep/run011"]')
    with SummaryWriter(str(sweep_board.logdir / "sweep" / "run011")) as w:
        for step in range(50, 60):
            w.add_scalar("loss", 0.01, step)
    page.wait_for_function(
        """() => document.querySelector('#view-runs tbody tr[data-run="sweep/run011"]')
            .innerText.includes('@59')""", timeout=TIMEOUT)
    record.assert_clean()


THOUSAND = 1000
OPEN_TAB_JS = """async () => {
    const view = document.querySelector('#view-runs');
    const t0 = performance.now();
    document.querySelector('#tab-runs').click();
    while (view.dataset.ready !== '1') await new Promise(requestAnimationFrame);
    const table = performance.now() - t0;
    const plot = document.querySelector('#runs-parcoords');
    while (plot.dataset.state !== 'drawn') await new Promise(requestAnimationFrame);
    return [table, performance.now() - t0];
}"""
# Scroll top to bottom 200 px a frame (a brisk wheel): frame times, the most row elements
# seen, how many frames re-rendered rows, and the last re-render's time.
SCROLL_JS = """async () => {
    const box = document.querySelector('.runs-table-box');
    const frames = [];
    let most = 0;
    const renders = Number(box.dataset.renders);
    while (box.scrollTop + box.clientHeight < box.scrollHeight - 1) {
        const t0 = performance.now();
        box.scrollTop += 200;
        await new Promise(requestAnimationFrame);
        await new Promise(requestAnimationFrame);
        frames.push(performance.now() - t0);
        most = Math.max(most, document.querySelectorAll('#view-runs tbody tr').length);
    }
    return [frames, most, Number(box.dataset.renders) - renders, Number(box.dataset.rowsMs)];
}"""


@pytest.fixture(scope="module")
def thousand_sweep_board(tmp_path_factory, playwright_browser):
    """1000 runs with hparams × 11 scalar tags × 20 steps."""
    if not BOARD.exists():
        pytest.skip(f"{BOARD} is missing; install numboard into the venv (pip install -e .)")
    root = hparams_sweep(tmp_path_factory.mktemp("sweep1000"), runs=THOUSAND, steps=20,
                         extra_tags=8)
    board = Board(root).wait_loaded(180)
    yield board
    board.stop()


def test_1000_runs_render_only_the_rows_in_view(thousand_sweep_board, open_page,
                                                report_measurement):
    page, record = open_page(thousand_sweep_board.url)
    page.wait_for_selector('#view-scalars[data-ready="1"]', timeout=120_000)
    page.wait_for_function("!!window.Plotly", timeout=120_000)
    table_ms, plot_ms = page.evaluate(OPEN_TAB_JS)
    rows = page.locator("#view-runs tbody tr").count()
    assert page.get_attribute(".runs-table-box", "data-total") == str(THOUSAND)
    assert 10 < rows < 80, rows  # the rows in view and a few more, not 1000
    assert page.get_attribute("#runs-parcoords", "data-lines") == str(THOUSAND)
    frames, most, renders, rows_ms = page.evaluate(SCROLL_JS)
    assert most < 80, most
    last = f"sweep/run{THOUSAND - 1:03d}"
    assert table_runs(page)[-1] == last
    # only the first 20 runs start checked (runs.js's cap); the last one's box is not
    assert not page.is_checked(f'#view-runs tbody tr[data-run="{last}"] input')
    frames.sort()
    load = open("/proc/loadavg").read().split()[0]
    report_measurement(
        f"Runs tab, {THOUSAND} runs x 11 tags: table on screen {table_ms:.0f} ms after the tab "
        f"click, parallel coordinates ({THOUSAND} lines, software WebGL) {plot_ms:.0f} ms; "
        f"{rows} row elements in the DOM; scrolling top to bottom 200 px a frame: "
        f"{len(frames)} scroll steps (two frames each), median {frames[len(frames) // 2]:.0f} ms, "
        f"90th percentile {frames[len(frames) * 9 // 10]:.0f} ms, rows re-rendered on {renders} "
        f"of them ({rows_ms:.1f} ms of script the last time) (load average {load})")
    record.assert_clean()


def test_a_mouse_drag_on_an_axis_brushes_it(sweep_board, open_page):
    page, record = open_runs(open_page, sweep_board, "&runs=^sweep/")
    page.wait_for_selector('#runs-parcoords[data-state="drawn"]', timeout=TIMEOUT)
    axis = page.locator("#runs-parcoords .axis-brush").first  # lr: 0.1 at the top
    box = axis.bounding_box()
    x = box["x"] + box["width"] / 2
    page.mouse.move(x, box["y"] + box["height"] * 0.4)
    page.mouse.down()
    page.mouse.move(x, box["y"] + 1, steps=10)  # up past the top of the axis
    page.mouse.up()
    page.wait_for_selector("#view-runs .range-chips .chip", timeout=TIMEOUT)
    assert page.locator("#view-runs .range-chips .chip").inner_text().startswith("lr: ")
    rows = table_runs(page)
    assert rows and set(rows) < set(NAMES)
    assert all(sweep_hparams(int(n[-3:]))["lr"] >= 0.03 for n in rows), rows
    assert "range=" in page.url
    record.assert_clean()
