"""Screenshots of the scalars, images and graphs views of the demo logdir, for the docs.

    .venv/bin/python -m tests.browser.make_screenshots [--logdir logs] [--out docs] [--dark]
    .venv/bin/python -m tests.browser.make_screenshots --many-runs   # 1000 runs only
    .venv/bin/python -m tests.browser.make_screenshots --text        # the Text tab only
    .venv/bin/python -m tests.browser.make_screenshots --trace       # the traced graph only
    .venv/bin/python -m tests.browser.make_screenshots --runs        # the Runs tab only

Writes (or reuses) the demo logdir with examples/make_demo.py — the same one `make run`
serves — serves it with the real `board`, and saves docs/screenshot-{scalars,images,graphs,runs}.png
and the card tools (docs/screenshot-{pinned,datatable,dark}.png: pinned card with the hover
tooltip and a custom chart of two tags; a full-screen card with the table of a dragged range;
the dark theme), the Text tab (docs/screenshot-text.png: the three CNN runs' notes, one
moved back to its first step) and docs/screenshot-graphs-trace.png (the lstm_digits graph
coloured by the compute time of its traced step) from headless Debian chromium; `--text`,
`--trace` or `--runs` saves only that one. `--many-runs` instead serves 1000 runs × 10
tags × 100 steps (tests/browser/logdirs.py) and saves docs/screenshot-many-runs.png: the
capped selection's note and the run list.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from .conftest import CHROMIUM, CHROMIUM_ARGS, Board
from .logdirs import many_runs

ROOT = Path(__file__).resolve().parents[2]
VIEWPORT = {"width": 1440, "height": 900}
TIMEOUT = 30_000
GRAPH_RUN, GRAPH_SCOPE, GRAPH_NODE = "mnist_like_cnn/train", "conv1", "conv1/Conv2D"
TRACE_RUN, TRACE_NODE = "lstm_digits", "strided_slice"


def shoot(url: str, out: Path, color_scheme: str) -> list[Path]:
    saved = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport=VIEWPORT, color_scheme=color_scheme, device_scale_factor=1)

        page.goto(url + "#tags=^(loss|accuracy|d_loss|g_loss)$")
        page.wait_for_selector('#view-scalars[data-ready="1"]', timeout=TIMEOUT)
        page.wait_for_timeout(500)
        box = page.locator('.scalar-card[data-tag="loss"] .plot').bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.5)
        page.wait_for_timeout(400)
        saved.append(out / "screenshot-scalars.png")
        page.screenshot(path=saved[-1])

        page.goto(url + "#tab=images&tags=^(G|input)/image/0$")
        page.wait_for_selector('.image-card[data-state="drawn"]', timeout=TIMEOUT)
        page.wait_for_function(
            "() => [...document.querySelectorAll('.image-card img')].slice(0, 3)"
            ".every((i) => i.complete && i.naturalWidth > 0)",
            timeout=TIMEOUT,
        )
        saved.append(out / "screenshot-images.png")
        page.screenshot(path=saved[-1])

        saved.append(shoot_text(page, url, out))

        tools = browser.new_page(viewport=VIEWPORT, color_scheme=color_scheme,
                                 device_scale_factor=1)
        saved.extend(shoot_card_tools(tools, url, out))
        tools.close()

        page.goto(url + f"#tab=graphs&grun={GRAPH_RUN}&expand={GRAPH_SCOPE}")
        page.wait_for_selector(f'.node-op[data-id^="{GRAPH_SCOPE}/"]', timeout=TIMEOUT)
        page.click(f'.node[data-id="{GRAPH_NODE}"]')
        page.wait_for_timeout(300)
        saved.append(out / "screenshot-graphs.png")
        page.screenshot(path=saved[-1])
        saved.append(shoot_trace(page, url, out))

        saved.append(shoot_runs(page, url, out))

        dark = browser.new_page(viewport=VIEWPORT, color_scheme="dark", device_scale_factor=1)
        dark.goto(url + f"#tags=^(loss|accuracy|d_loss|g_loss)$&pin={PIN}")
        dark.wait_for_selector('#view-scalars[data-ready="1"]', timeout=TIMEOUT)
        hover(dark, f'#pinned .scalar-card[data-tag="{PIN}"]', 0.4)
        saved.append(out / "screenshot-dark.png")
        dark.screenshot(path=saved[-1])
        browser.close()
    return saved


PIN, CUSTOM = "loss", "^(d_loss|g_loss)$"
TEXT_RUN = "mnist_like_cnn"  # its notes: the hyperparameters at step 0, results at the end


def shoot_text(page, url: str, out: Path) -> Path:
    """The Text tab: every CNN run's notes, one run's slider moved back to step 0."""
    page.goto(url + "#tab=text&tags=^notes$")
    block = f'.text-run[data-tag="notes"][data-run="{TEXT_RUN}"]'
    page.wait_for_selector(f'{block}[data-state="drawn"]', timeout=TIMEOUT)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.text-run')]"
        ".every((b) => b.dataset.state === 'drawn')",
        timeout=TIMEOUT,
    )
    page.eval_on_selector(
        f"{block} input[type=range]",
        "(i) => { i.value = '0'; i.dispatchEvent(new Event('input', {bubbles: true})); }",
    )
    page.wait_for_selector(f'{block}[data-step="0"]', timeout=TIMEOUT)
    page.wait_for_timeout(200)
    path = out / "screenshot-text.png"
    page.screenshot(path=path)
    return path


def shoot_trace(page, url: str, out: Path) -> Path:
    """The LSTM graph coloured by the compute time of its traced step, one op selected."""
    page.goto(url + f"#tab=graphs&grun={TRACE_RUN}")
    page.wait_for_selector(f'.node[data-id="{TRACE_NODE}"]', timeout=TIMEOUT)
    page.wait_for_selector("#graph-session-field:not([hidden])", timeout=TIMEOUT)
    page.select_option("#graph-color", "compute")
    page.wait_for_selector(".node.stat-filled", timeout=TIMEOUT)
    page.click(f'.node[data-id="{TRACE_NODE}"]')
    page.wait_for_timeout(300)
    path = out / "screenshot-graphs-trace.png"
    page.screenshot(path=path)
    return path


RUNS_HASH = "#tab=runs&runs=^cnn_lr|^mnist_like_cnn$&tags=^(accuracy|loss)"


def shoot_runs(page, url: str, out: Path) -> Path:
    """The Runs tab on the learning-rate sweep: the table, sorted by accuracy, and the
    parallel coordinates over the hyperparameters."""
    page.goto(url + RUNS_HASH)
    page.wait_for_selector('#view-runs[data-ready="1"]', timeout=TIMEOUT)
    page.wait_for_selector('#runs-parcoords[data-state="drawn"]', timeout=TIMEOUT)
    accuracy = '#view-runs th[data-col^="last:accuracy"] .sort-button'
    if page.locator(accuracy).count():
        page.locator(accuracy).first.click()
    page.wait_for_timeout(600)
    path = out / "screenshot-runs.png"
    page.screenshot(path=path)
    return path


def hover(page, card: str, at: float) -> None:
    """Rest the pointer on a card's chart, `at` of the way across."""
    page.wait_for_selector(f'{card}[data-state="drawn"]', timeout=TIMEOUT)
    box = page.locator(f"{card} .plot").bounding_box()
    page.mouse.move(box["x"] + box["width"] * at, box["y"] + box["height"] * 0.5)
    page.wait_for_selector(".chart-tooltip:not([hidden])", timeout=TIMEOUT)
    page.wait_for_timeout(200)


def shoot_card_tools(page, url: str, out: Path) -> list[Path]:
    """A pinned card with the hover tooltip over a custom chart; a full-screen card with the
    data table of a dragged range."""
    page.goto(url + f"#tags=^(loss|accuracy)$&pin={PIN}&chart={CUSTOM}")
    page.wait_for_selector('.custom-card[data-state="drawn"]', timeout=TIMEOUT)
    hover(page, f'#pinned .scalar-card[data-tag="{PIN}"]', 0.45)
    pinned = out / "screenshot-pinned.png"
    page.screenshot(path=pinned)

    page.mouse.move(0, 0)
    card = '#pinned .scalar-card[data-tag="loss"]'
    page.click(f"{card} .fullscreen-toggle")
    page.wait_for_timeout(400)
    box = page.locator(f"{card} .plot").bounding_box()
    y = box["y"] + box["height"] * 0.5
    page.mouse.move(box["x"] + box["width"] * 0.3, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, y, steps=6)
    page.mouse.up()
    page.wait_for_selector(f'{card} .data-table[data-kind="range"]', timeout=TIMEOUT)
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] + 40)
    page.wait_for_timeout(600)
    table = out / "screenshot-datatable.png"
    page.screenshot(path=table)
    page.keyboard.press("Escape")
    return [pinned, table]


def shoot_many_runs(out: Path, color_scheme: str) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        board = Board(many_runs(Path(tmp), runs=1000, steps=100)).wait_loaded(300)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                            headless=True)
                page = browser.new_page(viewport=VIEWPORT, color_scheme=color_scheme,
                                        device_scale_factor=1)
                page.goto(board.url)
                page.wait_for_selector('#view-scalars[data-ready="1"]', timeout=120_000)
                page.wait_for_timeout(500)
                page.screenshot(path=out / "screenshot-many-runs.png")
                browser.close()
        finally:
            board.stop()
    return out / "screenshot-many-runs.png"


def shoot_only(shot, url: str, out: Path, color_scheme: str) -> Path:
    """One screenshot (`shot(page, url, out)`) in a browser of its own."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport=VIEWPORT, color_scheme=color_scheme, device_scale_factor=1)
        path = shot(page, url, out)
        browser.close()
    return path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", type=Path, default=ROOT / "logs", help="demo logdir")
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for the PNGs")
    parser.add_argument("--dark", action="store_true", help="dark color scheme")
    parser.add_argument("--trace", action="store_true",
                        help="only the traced-step graph (docs/screenshot-graphs-trace.png)")
    parser.add_argument("--many-runs", action="store_true",
                        help="only the 1000-run screenshot (docs/screenshot-many-runs.png)")
    parser.add_argument("--text", action="store_true",
                        help="only the Text tab (docs/screenshot-text.png)")
    parser.add_argument("--runs", action="store_true",
                        help="only the Runs tab (docs/screenshot-runs.png)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.many_runs:
        print(shoot_many_runs(args.out, "dark" if args.dark else "light"))
        return
    sys.path.insert(0, str(ROOT / "examples"))
    from make_demo import make_demo

    make_demo(args.logdir)
    board = Board(args.logdir).wait_loaded()
    scheme = "dark" if args.dark else "light"
    try:
        only = {"text": shoot_text, "trace": shoot_trace, "runs": shoot_runs}
        for name, shot in only.items():
            if getattr(args, name):
                print(shoot_only(shot, board.url, args.out, scheme))
                return
        for path in shoot(board.url, args.out, scheme):
            print(path)
    finally:
        board.stop()


if __name__ == "__main__":
    main()
