"""/api/text and TensorBoard's text routes (integration): every step, Markdown rendered on
the server, tensors as tables, and no string from a file ever reaching the page as markup
that could run script; the real text files of every writer against what TensorBoard reads."""

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from boardkit import event, write_events

from board.markdown import markdown_html, tensor_html
from writer import SummaryWriter, summary

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parents[1] / "data" / "hparams_text"
EXPECTED = json.loads((DATA / "expected.json").read_text())

# What rendered Markdown may contain: these tags, these attributes, these URL schemes.
TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "em", "strong", "s", "code", "pre", "a",
        "img", "ul", "ol", "li", "blockquote", "hr", "br", "table", "thead", "tbody", "tr",
        "th", "td"}
ATTRS = {"href", "src", "alt", "title", "rel", "class", "style", "start"}
SAFE_SCHEMES = ("http:", "https:", "mailto:")

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "<iframe src='javascript:alert(1)'></iframe>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click]( javascript:alert(1) )",
    "[click](&#106;avascript:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml,<svg onload=alert(1)>)",
    "<javascript:alert(1)>",
    "[ok](https://example.org \"x\\\" onmouseover=\\\"alert(1)\")",
    "[ok](https://example.org/\"onmouseover=\"alert(1))",
    "```\" onload=\"alert(1)\nx\n```",
    "| <b onmouseover=alert(1)>a</b> | b |\n|---|---|\n| <script>x</script> | [y](javascript:z) |",
    "<a href=\"javascript:alert(1)\">a</a>",
    "<!-- --><script>alert(1)</script>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    "\"><script>alert(1)</script>",
]


class Audit(HTMLParser):
    """Collects every tag, attribute and URL in a piece of HTML."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.bad: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in TAGS:
            self.bad.append(f"tag <{tag}>")
        for name, value in attrs:
            if name not in ATTRS or name.startswith("on"):
                self.bad.append(f"attribute {name}={value!r} on <{tag}>")
            if name in ("href", "src") and not (value or "").lower().startswith(SAFE_SCHEMES):
                self.bad.append(f"URL {value!r} on <{tag}>")
            if name == "style":
                self.bad.append(f"style {value!r}")

    handle_startendtag = handle_starttag


def audit(html: str) -> list[str]:
    parser = Audit()
    parser.feed(html)
    parser.close()
    return parser.bad


@pytest.mark.unit
def test_the_audit_catches_markup_that_runs():  # the checker itself can fail
    assert audit('<p><img src=x onerror="alert(1)"></p>')
    assert audit('<a href="javascript:alert(1)">x</a>')
    assert audit("<script>alert(1)</script>")
    assert not audit('<p><a href="https://x.org" rel="noopener">x</a></p>')


@pytest.mark.unit
def test_markdown_is_rendered():
    assert markdown_html("**b** *i* `c`") == "<p><strong>b</strong> <em>i</em> <code>c</code></p>\n"
    assert markdown_html("[site](https://example.org)") == (
        '<p><a href="https://example.org" rel="noopener noreferrer nofollow">site</a></p>\n')
    assert "<table>" in markdown_html("| a | b |\n|---|---|\n| 1 | 2 |")


@pytest.mark.unit
def test_tensors_of_rank_1_2_and_3_are_tables():
    body, notes = tensor_html((2,), ("a", "b"))
    assert body.count("<tr>") == 2 and body.count("<td>") == 2 and not notes
    body, notes = tensor_html((2, 3), tuple("abcdef"))
    assert body.count("<tr>") == 2 and body.count("<td>") == 6 and not notes
    body, notes = tensor_html((2, 2, 2), tuple("abcdefgh"))
    assert body.count("<td>") == 4 and ">e<" not in body
    assert notes == ["rank-3 tensor of shape [2, 2, 2]: showing the first 2-D slice [0, :, :]"]


def hostile_logdir(tmp_path):
    with SummaryWriter(tmp_path / "evil") as w:
        for step, payload in enumerate(HOSTILE):
            w.add_text("payload", payload, step)
        w.add_text("table", [[p, p] for p in HOSTILE], len(HOSTILE))
    return tmp_path


def test_no_hostile_payload_reaches_the_page_as_markup(tmp_path, board_factory):
    board = board_factory(hostile_logdir(tmp_path)).load()
    steps = board.json("/api/text", params={"run": "evil", "tag": "payload"})["steps"]
    assert [s["step"] for s in steps] == list(range(len(HOSTILE)))
    for payload, step in zip(HOSTILE, steps, strict=True):
        assert audit(step["html"]) == [], (payload, step["html"])
        assert "<script" not in step["html"].lower()
    (table,) = board.json("/api/text", params={"run": "evil", "tag": "table"})["steps"]
    assert table["shape"] == [len(HOSTILE), 2]
    assert table["html"].startswith('<table class="text-table">')
    assert audit(table["html"]) == []
    tb = board.json("/data/plugin/text/text", params={"run": "evil", "tag": "payload"})
    assert [audit(s["text"]) for s in tb] == [[]] * len(HOSTILE)


def test_text_every_step_and_tensorboard_routes(tmp_path, board_factory):
    with SummaryWriter(tmp_path / "train") as w:
        for step in range(150):  # more than TensorBoard's 100
            w.add_text("notes", f"step **{step}**", step)
    with SummaryWriter(tmp_path / "eval") as w:
        w.add_scalar("x", 1.0, 0)
    board = board_factory(tmp_path).load()
    body = board.json("/api/text", params={"run": "train", "tag": "notes"})
    assert len(body["steps"]) == 150
    assert body["steps"][149] == {"step": 149, "wall_time": body["steps"][149]["wall_time"],
                                  "shape": [], "html": "<p>step <strong>149</strong></p>\n",
                                  "notes": []}
    assert board.json("/data/plugin/text/tags") == {"eval": [], "train": ["notes"]}
    tb = board.json("/data/plugin/text/text", params={"run": "train", "tag": "notes"})
    assert tb[0] == {"wall_time": body["steps"][0]["wall_time"], "step": 0,
                     "text": "<p>step <strong>0</strong></p>\n"}


@pytest.mark.parametrize("params, code, words", [
    ({"run": "nope", "tag": "notes"}, 404, "unknown run 'nope'"),
    ({"run": "train", "tag": "nope"}, 404, "no text tag 'nope'; its text tags: 'notes'"),
    ({"run": "train"}, 422, "tag"),
])
def test_text_errors(tmp_path, board_factory, params, code, words):
    with SummaryWriter(tmp_path / "train") as w:
        w.add_text("notes", "x", 0)
    r = board_factory(tmp_path).load().get("/api/text", params=params)
    assert r.status_code == code and words in r.json()["error"]["message"]


def test_bad_text_is_a_note_and_the_rest_of_the_run_is_served(tmp_path, board_factory):
    latin1 = summary.text("latin1", "x")
    latin1.value[0].tensor.string_val[0] = b"caf\xe9"
    cube = summary.text("cube", [[["a"]], [["b"]]])
    ev1, ev2 = event(step=1, summary=latin1), event(step=2, summary=cube)
    scalar = summary.scalar("loss", 0.5)
    write_events(tmp_path / "r" / "events.out.tfevents.1.h", ev1, ev2,
                 event(step=3, summary=scalar))
    board = board_factory(tmp_path).load()
    (bad,) = board.json("/api/text", params={"run": "r", "tag": "latin1"})["steps"]
    assert bad["html"] == "<p>caf\ufffd</p>\n"
    assert bad["notes"] == ["this text holds bytes that are not UTF-8 (shown as \ufffd)"]
    (deep,) = board.json("/api/text", params={"run": "r", "tag": "cube"})["steps"]
    assert deep["notes"][0].startswith("rank-3 tensor of shape [2, 1, 1]")
    (run,) = board.json("/api/runs")["runs"]
    assert run["errors"] == ["text 'latin1': holds bytes that are not UTF-8 (shown as \ufffd)"]
    assert board.json("/api/scalars", params={"run": "r", "tag": "loss"})["value"] == [0.5]


@pytest.mark.compat
@pytest.mark.parametrize("writer", ["tf1", "tf2", "torch", "tensorboardx"])
def test_every_writers_text_reads_as_tensorboard_reads_it(writer, board_factory):
    board = board_factory(DATA / writer).load()
    runs = {run: entry["text"] for run, entry in EXPECTED[writer]["runs"].items()
            if entry["text"]}
    assert board.json("/data/plugin/text/tags") == {
        run: sorted(runs.get(run, {})) for run in board.json("/data/runs")}
    for run, tags in runs.items():
        for tag, steps in tags.items():
            ours = board.app.state.store.texts(run, tag)
            assert [(t.step, list(t.shape)) for t in ours] == [
                (s["step"], s["shape"]) for s in steps]
            assert [list(t.values) for t in ours] == [
                [v.encode("latin-1").decode("utf-8", "replace") for v in s["values"]]
                for s in steps]
            for step in board.json("/api/text", params={"run": run, "tag": tag})["steps"]:
                assert audit(step["html"]) == []


def test_a_deleted_event_file_takes_its_text(tmp_path, board_factory):
    """Text goes with its event file, as scalars, images and histograms do; the run's other
    file keeps its own text, and /api/runs lists text tags with the others."""
    old = write_events(tmp_path / "r" / "events.out.tfevents.1.h",
                       event(step=0, summary=summary.text("notes", "old file")),
                       event(step=0, summary=summary.text("gone", "only here")))
    write_events(tmp_path / "r" / "events.out.tfevents.2.h",
                 event(step=5, summary=summary.text("notes", "new file")))
    board = board_factory(tmp_path).load()
    (run,) = board.json("/api/runs")["runs"]
    assert run["tags"]["text"] == ["gone", "notes"]
    steps = board.json("/api/text", params={"run": "r", "tag": "notes"})["steps"]
    assert [s["step"] for s in steps] == [0, 5]
    old.unlink()
    board.load()
    (run,) = board.json("/api/runs")["runs"]
    assert run["tags"]["text"] == ["notes"]
    steps = board.json("/api/text", params={"run": "r", "tag": "notes"})["steps"]
    assert [(s["step"], s["html"]) for s in steps] == [(5, "<p>new file</p>\n")]
    assert board.get("/api/text", params={"run": "r", "tag": "gone"}).status_code == 404
    assert board.json("/data/plugin/text/tags") == {"r": ["notes"]}
