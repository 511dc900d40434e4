"""Screenshots of the scalars, images and graphs views for the docs.

    .venv/bin/python -m tests.browser.make_screenshots [--out docs] [--dark]

Writes a realistic logdir (tests/browser/logdirs.py) to a temporary directory, serves it
with the real `board`, and saves docs/screenshot-{scalars,images,graphs}.png from
headless Debian chromium.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from .conftest import CHROMIUM, CHROMIUM_ARGS, Board
from .logdirs import flow_cnn_graph, realistic

VIEWPORT = {"width": 1440, "height": 900}
TIMEOUT = 30_000


def shoot(url: str, out: Path, color_scheme: str, scope: str) -> list[Path]:
    saved = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport=VIEWPORT, color_scheme=color_scheme, device_scale_factor=1)

        page.goto(url + "#tags=loss|accuracy")
        page.wait_for_selector('#view-scalars[data-ready="1"]', timeout=TIMEOUT)
        page.wait_for_timeout(500)
        box = page.locator('.scalar-card[data-tag="loss/train"] .plot').bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.5)
        page.wait_for_timeout(400)
        saved.append(out / "screenshot-scalars.png")
        page.screenshot(path=saved[-1])

        page.goto(url + "#tab=images&tags=^samples$|inputs/image/0")
        page.wait_for_selector('.image-card[data-state="drawn"]', timeout=TIMEOUT)
        page.wait_for_function(
            "() => [...document.querySelectorAll('.image-card img')].slice(0, 3)"
            ".every((i) => i.complete && i.naturalWidth > 0)",
            timeout=TIMEOUT,
        )
        saved.append(out / "screenshot-images.png")
        page.screenshot(path=saved[-1])

        page.goto(url + f"#tab=graphs&grun=mlp/lr=0.1&expand={scope}")
        page.wait_for_selector(f'.node-op[data-id^="{scope}/"]', timeout=TIMEOUT)
        page.click('.node[data-id="conv1/Conv2D"], .node[data-id="dense1/MatMul"]')
        page.wait_for_timeout(300)
        saved.append(out / "screenshot-graphs.png")
        page.screenshot(path=saved[-1])
        browser.close()
    return saved


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs"), help="folder for the PNGs")
    parser.add_argument("--dark", action="store_true", help="dark color scheme")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="numboard-shots-") as tmp:
        try:
            graph = flow_cnn_graph()
        except ImportError:  # flow not installed: the hand-built MLP graph
            graph = None
        board = Board(realistic(Path(tmp), graph=graph))
        try:
            scope = "dense1" if graph is None else "conv1"
            for path in shoot(board.url, args.out, "dark" if args.dark else "light", scope):
                print(path)
        finally:
            board.stop()


if __name__ == "__main__":
    main()
