"""The Text tab in a real browser against the real board (SPEC §5b, §6): text from
SummaryWriter.add_text and from flow's TF1 tf.summary.text rendered as Markdown, tensors as
tables, a step slider per run, the run selection, the board's notes on bad text, live
updates, and hostile strings in text, tags and run names that never run as script."""

from __future__ import annotations

import json
import warnings

import pytest

from writer import SummaryWriter, summary

from .conftest import Board, PageRecord
from .helpers import TIMEOUT, set_range
from .logdirs import XSS_RUN

pytestmark = pytest.mark.browser

NOTES = "# Run notes\n\n- first item\n- second item\n\n`lr = 0.1` see [the docs](https://example.org/docs)\n\nstep marker {step}\n"
TABLE = [["metric", "value"], ["loss", "0.25"], ["accuracy", "0.93"]]
XSS_TAG = "<img src=x onerror=window.__xss=3>"
HOSTILE = [
    "<script>window.__xss=10; alert(1)</script>",
    "<img src=x onerror=window.__xss=11>",
    "<svg onload=window.__xss=12></svg>",
    "<svg/onload=alert(1)>",
    "[x](javascript:window.__xss=13)",
    "[x](JaVaScRiPt:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "![x](javascript:alert(1))",
    "<iframe src='javascript:alert(1)'></iframe>",
    "<a href=\"javascript:alert(1)\">a</a>",
    "\"><script>window.__xss=14</script>",
    "<details open ontoggle=window.__xss=15>",
    "| <b onmouseover=alert(1)>a</b> | b |\n|---|---|\n| <script>x</script> | [y](javascript:z) |",
]
# window.__xss is set by any payload that runs; alert/confirm/prompt are counted too
HOOK = """
window.__fired = [];
for (const name of ['alert', 'confirm', 'prompt', 'print']) {
  window[name] = (...args) => { window.__fired.push(name + ':' + args.join(',')); };
}
"""


def tf1_text(logdir) -> None:
    """A TF1-style graph summary from flow: tf.summary.text evaluated in a Session."""
    import flow as tf

    note = tf.placeholder(tf.string, [], name="note")
    op = tf.summary.text("flow/note", note)
    writer = tf.summary.FileWriter(str(logdir))
    with tf.Session() as sess:
        for step, text in ((0, "**bold from flow** at the start"), (5, "*flow* at step 5")):
            writer.add_summary(sess.run(op, {note: text}), step)
    writer.close()


def text_logdir(root):
    for k, run in enumerate(("writer/a", "writer/b")):
        with SummaryWriter(str(root / run)) as w:
            for step in (0, 10, 20):
                w.add_text("notes", NOTES.format(step=step) + f"\nrun {run}", step)
            w.add_text("table", TABLE, 0)
            w.add_scalar("loss", 1.0 / (k + 1), 0)
    tf1_text(root / "flow")
    with SummaryWriter(str(root / "bad")) as w:
        w.add_summary(summary.text("bad/cube", [[["a", "b"]], [["c", "d"]]]), 1)
        latin1 = summary.text("bad/latin1", "x")
        latin1.value[0].tensor.string_val[0] = b"caf\xe9"
        w.add_summary(latin1, 2)
    with SummaryWriter(str(root / "evil")) as w:
        for i, payload in enumerate(HOSTILE):
            w.add_text(f"payload/{i:02d}", payload, 0)
        w.add_text("payload/table", [[p, p] for p in HOSTILE], 0)
        w.add_text(XSS_TAG, "a tag named with markup", 0)
    with SummaryWriter(str(root / XSS_RUN)) as w:
        w.add_text("payload/run", "a run named with markup <script>window.__xss=16</script>", 0)
    return root


@pytest.fixture(scope="module")
def text_board(tmp_path_factory, playwright_browser):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        logdir = text_logdir(tmp_path_factory.mktemp("text"))
    board = Board(logdir).wait_loaded()
    yield board
    board.stop()


@pytest.fixture
def hooked_page(shared_context):
    """open(url) -> (page, record, dialogs): alert & co. hooked before any script runs."""
    pages = []

    def open_(url):
        page = shared_context.new_page()
        pages.append(page)
        page.add_init_script(HOOK)
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        record = PageRecord(page, url)
        page.goto(url)
        return page, record, dialogs

    yield open_
    for page in pages:
        page.close()


def run_block(tag: str, run: str) -> str:
    return f".text-run[data-tag={json.dumps(tag)}][data-run={json.dumps(run)}]"


def wait_block(page, tag: str, run: str):
    sel = run_block(tag, run)
    page.wait_for_selector(f".text-card[data-tag={json.dumps(tag)}]",
                           timeout=TIMEOUT).scroll_into_view_if_needed()
    return page.wait_for_selector(f'{sel}[data-state="drawn"]', timeout=TIMEOUT)


def test_markdown_from_the_writer_and_from_flow_is_rendered(text_board, hooked_page):
    page, record, _ = hooked_page(text_board.url + "#tab=text")
    block = wait_block(page, "notes", "writer/a")
    assert page.is_visible("#tab-text")
    assert block.get_attribute("data-step") == "20"  # the newest step by default
    body = block.query_selector(".text-body")
    assert body.query_selector("h1").text_content() == "Run notes"
    assert [li.text_content() for li in body.query_selector_all("ul > li")] == [
        "first item", "second item"]
    assert body.query_selector("code").text_content() == "lr = 0.1"
    link = body.query_selector("a")
    assert link.text_content() == "the docs"
    assert link.get_attribute("href") == "https://example.org/docs"
    assert set(link.get_attribute("rel").split()) >= {"noopener", "noreferrer"}
    assert "step marker 20" in body.text_content()
    assert "step 20 (3 of 3)" in block.query_selector(".text-meta").text_content()
    # run colors as in the run list
    swatch = page.eval_on_selector('#run-list li[data-run="writer/a"] .run-swatch',
                                   "s => getComputedStyle(s).backgroundColor")
    assert page.eval_on_selector(f'{run_block("notes", "writer/a")} .run-swatch',
                                 "s => getComputedStyle(s).backgroundColor") == swatch

    flow = wait_block(page, "flow/note", "flow")
    assert flow.query_selector(".text-body em").text_content() == "flow"
    set_range(page, f'{run_block("flow/note", "flow")} input[type=range]', 0)
    page.wait_for_selector(f'{run_block("flow/note", "flow")}[data-step="0"]', timeout=TIMEOUT)
    assert flow.query_selector(".text-body strong").text_content() == "bold from flow"
    record.assert_clean()


def test_a_2d_tensor_is_a_table(text_board, hooked_page):
    page, record, _ = hooked_page(text_board.url + "#tab=text&tags=^table$")
    block = wait_block(page, "table", "writer/b")
    rows = block.eval_on_selector(
        ".text-body table",
        "t => [...t.rows].map((r) => [...r.cells].map((c) => c.textContent.trim()))")
    assert rows == TABLE
    assert "3×2 tensor" in block.query_selector(".text-meta").text_content()
    assert page.query_selector('.text-card[data-tag="notes"]') is None  # the tag filter
    record.assert_clean()


def test_the_step_slider_changes_the_text(text_board, hooked_page):
    page, record, _ = hooked_page(text_board.url + "#tab=text&tags=^notes$")
    sel = run_block("notes", "writer/a")
    block = wait_block(page, "notes", "writer/a")
    set_range(page, f"{sel} input[type=range]", 0)
    page.wait_for_selector(f'{sel}[data-step="0"]', timeout=TIMEOUT)
    assert "step marker 0" in block.query_selector(".text-body").text_content()
    assert "step 0 (1 of 3)" in block.query_selector(".text-meta").text_content()
    set_range(page, f"{sel} input[type=range]", 1)
    page.wait_for_selector(f'{sel}[data-step="10"]', timeout=TIMEOUT)
    assert "step marker 10" in block.query_selector(".text-body").text_content()
    # the other run's slider is its own
    other = page.query_selector(run_block("notes", "writer/b"))
    assert other.get_attribute("data-step") == "20"
    assert "step marker 20" in other.query_selector(".text-body").text_content()
    record.assert_clean()


def test_the_run_selection_hides_a_runs_text(text_board, hooked_page):
    page, record, _ = hooked_page(text_board.url + "#tab=text&tags=^notes$")
    wait_block(page, "notes", "writer/b")
    page.uncheck('#run-list li[data-run="writer/b"] input')
    page.wait_for_selector(run_block("notes", "writer/b"), state="detached", timeout=TIMEOUT)
    assert page.query_selector(run_block("notes", "writer/a")) is not None
    assert "hide=writer%2Fb" in page.evaluate("location.hash")
    page.fill("#run-filter", "^flow$")  # no run left with this tag: the empty state says so
    page.wait_for_selector("#empty:not([hidden])", timeout=TIMEOUT)
    assert page.query_selector('.text-card[data-tag="notes"]') is None
    assert "notes" in page.text_content("#empty-title")
    record.assert_clean()


def test_notes_on_bad_text_are_shown_on_the_card(text_board, hooked_page):
    page, record, _ = hooked_page(text_board.url + "#tab=text&tags=^bad/")
    cube = wait_block(page, "bad/cube", "bad")
    note = cube.query_selector(".text-notes li").text_content()
    assert note.startswith("rank-3 tensor of shape [2, 1, 2]: showing the first 2-D slice")
    assert cube.eval_on_selector(".text-body table", "t => t.rows.length") == 1
    latin1 = wait_block(page, "bad/latin1", "bad")
    assert latin1.query_selector(".text-notes li").text_content() == (
        "this text holds bytes that are not UTF-8 (shown as \ufffd)")
    assert latin1.query_selector(".text-body").text_content().strip() == "caf\ufffd"
    record.assert_clean()


def test_hostile_text_tags_and_run_names_never_run(text_board, hooked_page):
    page, record, dialogs = hooked_page(text_board.url + "#tab=text")
    wait_block(page, "payload/00", "evil")
    wait_block(page, XSS_TAG, "evil")
    wait_block(page, "payload/run", XSS_RUN)
    for i in range(len(HOSTILE)):
        wait_block(page, f"payload/{i:02d}", "evil")
    wait_block(page, "payload/table", "evil")
    page.wait_for_timeout(500)  # time for an onerror/onload to fire, were there one
    view = "#view-text"
    found = page.eval_on_selector(view, """(v) => ({
        script: v.querySelectorAll('script, img, svg, iframe, object, embed, style')
            .length,
        handlers: [...v.querySelectorAll('*')].flatMap((e) =>
            [...e.attributes].filter((a) => a.name.startsWith('on')).map((a) => a.name)),
        hrefs: [...v.querySelectorAll('[href], [src]')].map((e) =>
            e.getAttribute('href') ?? e.getAttribute('src')),
    })""")
    assert found["script"] == 0 and found["handlers"] == []
    assert all(h.startswith(("https:", "http:", "mailto:")) for h in found["hrefs"]), found
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.evaluate("window.__fired") == [] and dialogs == []
    # the payloads are shown as text, not dropped
    body = lambda tag: page.text_content(f"{run_block(tag, 'evil')} .text-body")  # noqa: E731
    assert "<script>window.__xss=10; alert(1)</script>" in body("payload/00")
    assert "<img src=x onerror=window.__xss=11>" in body("payload/01")
    assert "[x](javascript:window.__xss=13)" in body("payload/04")
    assert page.text_content(f'.text-card[data-tag={json.dumps(XSS_TAG)}] .card-title') == XSS_TAG
    assert page.text_content(f"{run_block('payload/run', XSS_RUN)} .text-run-name") == XSS_RUN
    cells = page.eval_on_selector(f"{run_block('payload/table', 'evil')} table",
                                  "t => t.rows.length")
    assert cells == len(HOSTILE)
    record.assert_clean()


def test_the_page_rebuilds_server_html_from_an_allow_list(text_board, hooked_page):
    """Defense in depth: even markup the server would never send goes in without script,
    handlers, unsafe links or elements off the list."""
    page, record, dialogs = hooked_page(text_board.url + "#tab=text")
    page.wait_for_selector("body[data-loaded]", timeout=TIMEOUT)
    html = (
        '<p onclick="window.__xss=20">a<img src=x onerror="window.__xss=21"></p>'
        "<script>window.__xss=22</script><svg onload=\"window.__xss=23\"><circle/></svg>"
        '<a href="javascript:window.__xss=24">js</a><a href=" JAVASCRIPT:alert(1)">js2</a>'
        '<a href="https://example.org/x" target="_top" onclick="alert(1)">ok</a>'
        '<a href="/relative">rel</a><iframe srcdoc="<script>alert(1)</script>"></iframe>'
        '<table class="text-table" style="background:url(x)"><tr>'
        '<td style="text-align:right" onmouseover="alert(1)"><b>cell</b></td></tr></table>'
        '<style>body{display:none}</style><form action="https://evil.example"><input></form>'
        '<h2 id="x" class="evil">title</h2><ol start="3"><li>three</li></ol>'
    )
    out = page.evaluate(
        """async (html) => {
            const m = await import('/js/safe_html.js');
            const box = document.createElement('div');
            box.append(m.safeFragment(html));
            document.body.append(box);
            await new Promise((r) => setTimeout(r, 300));
            const out = {
              html: box.innerHTML,
              links: [...box.querySelectorAll('a')].map((a) => [a.textContent,
                  a.getAttribute('href'), a.rel, a.target]),
              align: box.querySelector('td').style.textAlign,
              start: box.querySelector('ol').start,
            };
            box.remove();
            return out;
        }""",
        html,
    )
    lowered = out["html"].lower()
    for bad in ("<script", "<img", "<svg", "<iframe", "<style", "<form", "<input", "onclick",
                "onerror", "onload", "onmouseover", "javascript:", 'id="x"', "evil", "<b>"):
        assert bad not in lowered, (bad, out["html"])
    assert out["links"] == [["ok", "https://example.org/x", "noopener noreferrer nofollow",
                             "_blank"]]
    assert "js" in out["html"] and "rel" in out["html"]  # unsafe links keep their text
    assert out["align"] == "right" and out["start"] == 3
    assert "<h2>title</h2>" in out["html"] and "cell" in out["html"]
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.evaluate("window.__fired") == [] and dialogs == []
    record.assert_clean()


def test_text_tab_appears_and_follows_live_text(tmp_path, start_board, hooked_page):
    with SummaryWriter(str(tmp_path / "live")) as w:
        w.add_scalar("loss", 1.0, 0)
    board = start_board(tmp_path).wait_loaded()
    page, record, _ = hooked_page(board.url + "#tab=text")
    page.wait_for_selector("body[data-loaded]", timeout=TIMEOUT)
    assert page.is_hidden("#tab-text")  # no run has text: no tab, the scalars show
    assert page.is_visible("#view-scalars")
    writer = SummaryWriter(str(tmp_path / "live"), flush_secs=1)
    try:
        writer.add_text("log", "first **entry**", 1)
        writer.flush()
        page.wait_for_selector("#tab-text:not([hidden])", timeout=TIMEOUT)
        page.click("#tab-text")
        block = wait_block(page, "log", "live")
        assert block.query_selector(".text-body strong").text_content() == "entry"
        writer.add_text("log", "second *entry*", 2)
        writer.flush()
        page.wait_for_selector(f'{run_block("log", "live")}[data-step="2"]', timeout=TIMEOUT)
        assert block.query_selector(".text-body em").text_content() == "entry"
        assert "(2 of 2)" in block.query_selector(".text-meta").text_content()
    finally:
        writer.close()
    record.assert_clean()
