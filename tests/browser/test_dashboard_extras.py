"""Custom charts of several tags, the download of the whole selection, the graph's
auxiliary block and the dark theme, in a real browser against the real board."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import pytest

from .helpers import TIMEOUT, wait_card_drawn
from .logdirs import STEPS, TOOLS_RUNS, XSS_RUN, tools_loss

pytestmark = pytest.mark.browser

CUSTOM = ".custom-card"


def custom_traces(page, pattern):
    return page.evaluate(
        """(pattern) => {
            const card = [...document.querySelectorAll('.custom-card')]
                .find((c) => c.dataset.pattern === pattern);
            return card.querySelector('.plot').data.map((t) => ({
                run: t.meta.run, tag: t.meta.tag, y: Array.from(t.y), dash: t.line.dash}));
        }""",
        pattern,
    )


def wait_custom_drawn(page, pattern, traces):
    page.wait_for_function(
        """([pattern, n]) => [...document.querySelectorAll('.custom-card')].some((c) =>
            c.dataset.pattern === pattern && c.dataset.state === 'drawn'
            && Number(c.dataset.traces) === n)""",
        arg=[pattern, traces], timeout=TIMEOUT)


def test_picked_tags_make_one_chart_kept_in_the_url(tools_board, open_page):
    page, record = open_page(tools_board.url + "#smoothing=0")
    wait_card_drawn(page, "loss/train")
    page.click("#custom-chart-picker > summary")
    page.check('#custom-chart-tags input[value="loss/train"]')
    page.check('#custom-chart-tags input[value="loss/eval"]')
    pattern = page.input_value("#custom-chart-regex")
    assert re.fullmatch(pattern, "loss/train") and re.fullmatch(pattern, "loss/eval")
    assert not re.search(pattern, "acc") and not re.fullmatch(pattern, "loss/train2")
    page.click("#custom-chart-form button[type=submit]")
    wait_custom_drawn(page, pattern, 6)  # 3 runs × 2 tags
    shown = custom_traces(page, pattern)
    assert {(t["run"], t["tag"]) for t in shown} == {
        (run, tag) for run in TOOLS_RUNS for tag in ("loss/train", "loss/eval")}
    assert len({t["dash"] for t in shown}) == 2  # one dash style per tag
    for t in shown:
        k = TOOLS_RUNS.index(t["run"])
        steps = range(STEPS) if t["tag"] == "loss/train" else range(0, STEPS, 10)
        extra = 0.1 if t["tag"] == "loss/eval" else 0.0
        assert t["y"] == pytest.approx([tools_loss(k, s) + extra for s in steps], rel=1e-6)
    assert page.locator("#custom-charts").is_visible()
    url = page.url
    assert "chart=" in url

    again, record2 = open_page(url)  # a shared link shows the same chart
    wait_custom_drawn(again, pattern, 6)
    again.get_by_label(f"Remove the chart {pattern}").click()
    again.wait_for_selector(CUSTOM, state="detached", timeout=TIMEOUT)
    assert "chart=" not in again.evaluate("location.hash")
    assert again.locator("#custom-charts").is_hidden()
    record.assert_clean()
    record2.assert_clean()


def test_a_typed_regex_makes_a_chart_and_a_bad_one_says_why(tools_board, open_page):
    page, record = open_page(tools_board.url)
    page.wait_for_selector("body[data-loaded]", timeout=TIMEOUT)
    page.click("#custom-chart-picker > summary")
    page.fill("#custom-chart-regex", "(")
    page.click("#custom-chart-form button[type=submit]")
    assert "Invalid regex" in page.text_content("#custom-chart-error")
    page.fill("#custom-chart-regex", "^nothing$")
    page.click("#custom-chart-form button[type=submit]")
    assert "No scalar tag matches" in page.text_content("#custom-chart-error")
    assert page.locator(CUSTOM).count() == 0
    page.fill("#custom-chart-regex", "^acc$|eval")
    page.click("#custom-chart-form button[type=submit]")
    wait_custom_drawn(page, "^acc$|eval", 7)  # acc: 4 runs (one named with markup); eval: 3
    runs = {t["run"] for t in custom_traces(page, "^acc$|eval")}
    assert XSS_RUN in runs
    assert page.evaluate("typeof window.__xss") == "undefined"
    record.assert_clean()


def download(page, label):
    if not page.eval_on_selector("#download-all", "menu => menu.open"):
        page.click("#download-all > summary")
    with page.expect_download() as info:
        page.click(f"#download-all-menu a:text('{label}')")
    return info.value


def test_download_selected_gives_every_series_of_the_selection(tools_board, open_page, tmp_path):
    page, record = open_page(tools_board.url + "#tags=^loss/&hide=b")
    page.wait_for_selector("body[data-loaded]", timeout=TIMEOUT)
    page.click("#download-all > summary")
    page.wait_for_selector("#download-all-menu a", timeout=TIMEOUT)  # built on the toggle
    assert "3 runs × 2 tags" in page.text_content("#download-all-menu")  # a, c, the markup run
    page.click("#download-all > summary")  # close; download() opens it again
    target = tmp_path / "scalars.zip"
    download(page, "ZIP of CSVs").save_as(target)
    with zipfile.ZipFile(target) as archive:
        names = sorted(archive.namelist())
        rows = list(csv.reader(io.StringIO(archive.read("c/loss__train.csv").decode())))
    assert names == ["a/loss__eval.csv", "a/loss__train.csv", "c/loss__eval.csv",
                     "c/loss__train.csv"]
    assert rows[0] == ["step", "wall_time", "value"] and len(rows) == STEPS + 1
    assert [float(r[2]) for r in rows[1:]] == pytest.approx(
        [tools_loss(2, s) for s in range(STEPS)], rel=1e-6)

    target = tmp_path / "scalars.json"
    download(page, "JSON").save_as(target)
    body = json.loads(target.read_text())
    assert [(s["run"], s["tag"]) for s in body["series"]] == [
        ("a", "loss/eval"), ("a", "loss/train"), ("c", "loss/eval"), ("c", "loss/train")]
    assert body["total_points"] == 2 * (STEPS + STEPS // 10)
    record.assert_clean()


def node_boxes(page):
    return page.eval_on_selector_all(
        ".nodes .node",
        """els => els.map((g) => {
            const box = g.getBBox();
            const m = g.transform.baseVal.consolidate().matrix;
            return {id: g.dataset.id, aux: g.classList.contains('auxiliary'),
                    left: m.e + box.x, right: m.e + box.x + box.width, y: m.f};
        })""",
    )


def test_graph_lays_auxiliary_nodes_out_apart_from_the_model(demo_board, open_page):
    page, record = open_page(demo_board.url + "#tab=graphs&grun=mlp/lr=0.1")
    page.wait_for_selector('.node[data-id="dense1"]', timeout=TIMEOUT)
    nodes = {n["id"]: n for n in node_boxes(page)}
    aux = {k for k, n in nodes.items() if n["aux"]}
    assert aux == {"train", "init"}
    model = set(nodes) - aux
    assert {"input", "dense1", "dense2", "loss"} <= model
    assert min(nodes[k]["left"] for k in aux) > max(nodes[k]["right"] for k in model)
    assert nodes["input"]["y"] < nodes["dense1"]["y"] < nodes["dense2"]["y"] < nodes["loss"]["y"]
    assert page.locator(".aux-frame").count() == 1
    # the model → train edges are stubs at both ends, not lines across the picture
    assert page.locator('.bridge[data-source="loss"][data-target="train"] .stub').count() == 2
    assert page.locator('.bridge[data-source="dense1"][data-target="train"]').count() == 1
    record.assert_clean()


def luminance(rgb: str) -> float:
    r, g, b = (int(v) for v in re.findall(r"\d+", rgb)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def test_dark_mode_follows_the_color_scheme(tools_board, open_page, tmp_path):
    from PIL import Image

    page, record = open_page(tools_board.url + "#pin=loss/train&chart=eval", color_scheme="dark")
    wait_card_drawn(page, "loss/train")
    wait_custom_drawn(page, "eval", 3)
    hover = page.locator(".scalar-card[data-tag='loss/train'] .plot").bounding_box()
    page.mouse.move(hover["x"] + hover["width"] / 2, hover["y"] + hover["height"] / 2)
    page.wait_for_selector(".chart-tooltip:not([hidden])", timeout=TIMEOUT)
    shot = tmp_path / "dark.png"  # (look at it: pytest --basetemp keeps it)
    page.screenshot(path=shot)
    styles = page.evaluate("""() => {
        const css = (sel, prop) => getComputedStyle(document.querySelector(sel))[prop];
        return {body: css('body', 'backgroundColor'), text: css('body', 'color'),
                card: css('.scalar-card', 'backgroundColor'),
                tooltip: css('.chart-tooltip', 'backgroundColor'),
                tick: getComputedStyle(document.querySelector('.scalar-card .xtick text')).fill};
    }""")
    assert luminance(styles["body"]) < 0.15 and luminance(styles["card"]) < 0.2
    assert luminance(styles["tooltip"]) < 0.2
    assert luminance(styles["text"]) > 0.8 and luminance(styles["tick"]) > 0.5
    image = Image.open(shot).convert("L")
    assert image.size == (1400, 900)
    # most of the page is dark: the light theme's page is nearly all light pixels
    dark_share = sum(image.histogram()[:80]) / (1400 * 900)
    assert dark_share > 0.7
    record.assert_clean()
