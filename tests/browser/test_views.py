"""Images, histograms and graphs views, live updates and the empty state, in a real
browser against the real board (SPEC §6)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from .helpers import TIMEOUT, card_selector, set_range, traces, wait_card_drawn
from .logdirs import many_runs

pytestmark = pytest.mark.browser

IMAGE_CARD = '.image-card[data-run="mlp/lr=0.1"][data-tag="inputs/image/0"]'


def test_image_step_slider_changes_the_image(demo_board, open_page):
    page, record = open_page(demo_board.url + "#tab=images")
    card = page.wait_for_selector(f'{IMAGE_CARD}[data-state="drawn"]', timeout=TIMEOUT)
    img = card.query_selector("img")
    latest = img.get_attribute("src")
    assert card.get_attribute("data-step") == "200"  # the latest step by default
    assert "step=200" in latest

    set_range(page, f"{IMAGE_CARD} input[type=range]", 0)
    page.wait_for_function(
        "(sel) => document.querySelector(sel).dataset.step === '0'", arg=IMAGE_CARD
    )
    first = img.get_attribute("src")
    assert first != latest and "step=0" in first
    page.wait_for_function(
        "(sel) => { const i = document.querySelector(sel + ' img');"
        " return i.complete && i.naturalWidth === 32; }",
        arg=IMAGE_CARD,
        timeout=TIMEOUT,
    )
    assert "step 0" in card.query_selector(".image-meta").text_content()

    page.check("#actual-size")
    width = page.eval_on_selector(f"{IMAGE_CARD} img", "i => i.getBoundingClientRect().width")
    assert width == pytest.approx(32, abs=1)  # actual size: 32 px, not the card width
    assert "actual=1" in page.evaluate("location.hash")
    record.assert_clean()


def test_sample_slider_walks_the_images_of_one_step(demo_board, open_page):
    page, record = open_page(demo_board.url + "#tab=images&tags=^tf2/")
    sel = '.image-card[data-run="tf2"][data-tag="tf2/samples"]'
    card = page.wait_for_selector(f'{sel}[data-state="drawn"]', timeout=TIMEOUT)
    assert card.get_attribute("data-step") == "10"
    assert "index=0" in card.query_selector("img").get_attribute("src")
    sliders = card.query_selector_all("input[type=range]")
    assert len(sliders) == 2 and card.query_selector(".slider-row[hidden]") is None
    set_range(page, f"{sel} .slider-row:nth-of-type(2) input", 2)
    page.wait_for_function(
        "(sel) => document.querySelector(sel + ' img').src.includes('index=2')", arg=sel
    )
    assert "Sample 3/3" in card.text_content()
    page.wait_for_function(
        "(sel) => { const i = document.querySelector(sel + ' img');"
        " return i.complete && i.naturalWidth === 6; }",
        arg=sel,
        timeout=TIMEOUT,
    )
    record.assert_clean()


def test_histograms_tab_draws_offset_and_distribution(demo_board, open_page):
    page, record = open_page(demo_board.url + "#tab=histograms")
    sel = '.histogram-card[data-run="mlp/lr=0.1"][data-tag="dense1/weights"]'
    page.wait_for_selector(f'{sel}[data-state="drawn"]', timeout=TIMEOUT)
    ridges = page.eval_on_selector(f"{sel} .plot", "p => p.data.length")
    assert ridges == 6  # one ridge per stored step (0, 40, …, 200)
    page.check("input[name=histmode][value=distribution]", force=True)
    page.wait_for_function(
        "(sel) => document.querySelector(sel + ' .plot').data.length === 9", arg=sel
    )  # 4 bands (2 traces each) + the median
    record.assert_clean()


def test_graph_scope_expands_on_click_and_shows_details(demo_board, open_page):
    page, record = open_page(demo_board.url + "#tab=graphs&grun=mlp/lr=0.1")
    scope = page.wait_for_selector('.node-scope[data-id="dense1"]', timeout=TIMEOUT)
    assert "7 ops" in scope.text_content()
    assert page.locator('.node[data-id="dense1/MatMul"]').count() == 0
    scope.click()
    matmul = page.wait_for_selector('.node[data-id="dense1/MatMul"]', timeout=TIMEOUT)
    assert "expand=dense1" in page.evaluate("location.hash")
    assert page.locator(".edge.control").count() > 0  # NoOp control inputs are dashed

    matmul.click()
    panel = page.locator(".graph-panel")
    panel.locator("h3", has_text="dense1/MatMul").wait_for(timeout=TIMEOUT)
    text = panel.text_content()
    assert "MatMul" in text and "/device:CPU:0" in text and "input/x" in text
    assert "(?, 256)" in text  # shape from _output_shapes

    page.click('.scope-chip[data-scope="dense1"]')
    page.wait_for_selector('.node-scope[data-id="dense1"]', timeout=TIMEOUT)
    assert "expand" not in page.evaluate("location.hash")

    page.focus('.node-scope[data-id="dense2"]')  # keyboard: Enter opens a scope
    page.keyboard.press("Enter")
    page.wait_for_selector('.node[data-id="dense2/MatMul"]', timeout=TIMEOUT)

    page.fill("#graph-search", "Relu")
    page.click("#graph-search-form button[type=submit]")
    page.wait_for_selector('.node.selected[data-id="dense1/Relu"]', timeout=TIMEOUT)

    transform = page.get_attribute(".graph-layer", "transform")
    box = page.locator(".graph-svg").bounding_box()
    page.mouse.move(box["x"] + 40, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] + 140, box["y"] + 90, steps=5)
    page.mouse.up()
    assert page.get_attribute(".graph-layer", "transform") != transform  # panned
    record.assert_clean()


def test_every_tab_loads_without_errors_or_foreign_requests(demo_board, open_page):
    page, record = open_page(demo_board.url, color_scheme="dark")
    page.wait_for_selector('#view-scalars[data-ready="1"]', timeout=TIMEOUT)
    for tab in ("images", "histograms", "graphs", "scalars"):
        page.click(f"#tab-{tab}")
        page.wait_for_selector(f"#view-{tab}:not([hidden])", timeout=TIMEOUT)
        page.wait_for_timeout(400)
    page.focus("#tab-scalars")  # arrow keys move between tabs
    page.keyboard.press("ArrowRight")
    page.wait_for_selector("#view-images:not([hidden])", timeout=TIMEOUT)
    assert page.evaluate("document.activeElement.id") == "tab-images"
    assert "tab=images" in page.evaluate("location.hash")
    assert any("/api/runs" in url for url in record.requests)
    record.assert_clean()


def test_new_points_appear_without_reload(tmp_path, start_board, open_page):
    import numpy as np

    from writer import SummaryWriter

    board = start_board(tmp_path)
    page, record = open_page(board.url)
    empty = page.wait_for_selector("#empty:not([hidden])", timeout=TIMEOUT)
    title = page.text_content("#empty-title")
    assert title == f"No event files under {tmp_path} yet — start writing with SummaryWriter"
    assert "add_scalar" in empty.text_content()
    assert page.is_hidden("#tab-histograms")  # no run has histograms

    writer = SummaryWriter(str(tmp_path / "live"), flush_secs=1)
    sel = card_selector("live/metric")
    try:
        for step in range(5):
            writer.add_scalar("live/metric", step * 0.5, step)
        writer.flush()
        wait_card_drawn(page, "live/metric")
        page.wait_for_function(
            """(sel) => { const p = document.querySelector(sel + ' .plot');
                return p.data && p.data[0] && p.data[0].x.length === 5; }""",
            arg=sel,
            timeout=TIMEOUT,
        )
        # the user zooms and moves the slider; live data must keep both
        page.evaluate(
            "(sel) => Plotly.relayout(document.querySelector(sel + ' .plot'),"
            " {'xaxis.range': [1, 3]})",
            sel,
        )
        set_range(page, "#smoothing", 0.3)
        writer.add_scalar("live/metric", 9.0, 5)
        writer.flush()
        page.wait_for_function(
            """(sel) => { const p = document.querySelector(sel + ' .plot');
                return p.data[0].x.includes(5); }""",
            arg=sel,
            timeout=TIMEOUT,
        )
        assert page.evaluate(
            "(sel) => document.querySelector(sel + ' .plot').layout.xaxis.range", sel
        ) == [1, 3]
        assert page.input_value("#smoothing") == "0.3"

        writer.add_image("live/image", np.zeros((4, 4, 3), np.uint8), 0)
        writer.flush()
        page.click("#tab-images")
        card = page.wait_for_selector('.image-card[data-step="0"]', timeout=TIMEOUT)
        writer.add_image("live/image", np.full((4, 4, 3), 255, np.uint8), 7)
        writer.flush()
        page.wait_for_selector('.image-card[data-step="7"]', timeout=TIMEOUT)
        assert "step=7" in card.query_selector("img").get_attribute("src")
    finally:
        writer.close()
    page.click("#tab-scalars")
    raw = [t for t in traces(page, "live/metric") if t["kind"] == "raw"][0]
    assert raw["y"][-1] == 9.0
    assert page.is_hidden("#empty")
    record.assert_clean()


def test_charts_on_screen_load_first_then_the_next_rows_then_on_scroll(
    tmp_path, start_board, open_page
):
    board = start_board(many_runs(tmp_path, runs=3, steps=50)).wait_loaded()
    page, record = open_page(board.url)
    page.wait_for_selector('#view-scalars[data-ready="1"]', timeout=TIMEOUT)
    tops = page.eval_on_selector_all(
        ".scalar-card",
        "cards => cards.map((c) => [c.dataset.tag, c.querySelector('.plot')"
        ".getBoundingClientRect().top - window.innerHeight])",
    )
    below = [tag for tag, top in tops if 0 <= top < 600]  # within the prefetch distance
    far = [tag for tag, top in tops if top > 700]
    assert below and far, tops
    # the next rows load by themselves once the charts on screen are drawn ...
    for tag in below:
        page.wait_for_selector(f'{card_selector(tag)}[data-state="drawn"]', timeout=TIMEOUT)
    loaded = {parse_qs(urlsplit(u).query)["tag"][0] for u in record.requests
              if "/api/scalars/multi" in u}
    # ... and cards far below wait for a scroll
    assert not loaded & set(far)
    assert page.get_attribute(card_selector(far[-1]), "data-state") == "waiting"
    wait_card_drawn(page, far[-1])
    record.assert_clean()


def test_a_tensorboardx_logdir_renders_in_every_tab(tmp_path, start_board, open_page):
    import numpy as np
    from tensorboardX import SummaryWriter as TbxWriter

    rng = np.random.default_rng(0)
    with TbxWriter(str(tmp_path / "tbx")) as w:
        for step in range(30):
            w.add_scalar("tbx/loss", 1.0 / (step + 1), step)
            if step % 10 == 0:
                w.add_histogram("tbx/weights", rng.normal(0, 1, 500), step)
                w.add_image("tbx/image", rng.integers(0, 255, (3, 8, 8), dtype=np.uint8), step)
    board = start_board(tmp_path).wait_loaded()
    page, record = open_page(board.url)
    wait_card_drawn(page, "tbx/loss")
    page.wait_for_function(  # the board may still be reading the file: live updates finish it
        """(sel) => { const p = document.querySelector(sel + ' .plot');
            return p.data && p.data.length === 2 && p.data[0].x.length === 30; }""",
        arg=card_selector("tbx/loss"),
        timeout=TIMEOUT,
    )
    page.click("#tab-images")
    page.wait_for_selector('.image-card[data-step="20"]', timeout=TIMEOUT)
    page.click("#tab-histograms")
    sel = '.histogram-card[data-tag="tbx/weights"]'
    page.wait_for_selector(f'{sel}[data-state="drawn"]', timeout=TIMEOUT)
    assert page.eval_on_selector(f"{sel} .plot", "p => p.data.length") == 3
    record.assert_clean()
