"""The examples, run at demo settings by the one demo generator, checked through the board's API.

`examples/make_demo.py` runs blog_basics, mnist_like_cnn and dcgan_digits into a tmp logdir;
the board app (in process, its loader cycled by hand) must then serve every run, tag, step,
image and graph they wrote, and the checkpoints must be on disk. blog_basics' printed output
is checked against what TensorFlow printed for the same snippets (tf1-semantics.md §10).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from board.app import create_app

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
sys.path.insert(0, str(EXAMPLES))
import make_demo  # noqa: E402  (examples/ is not a package)

# the demo settings, read back from the generator so the expectations follow them
STEPS = {name: int(args[args.index("--steps") + 1]) for name, args in make_demo.EXAMPLES.items()}


def setting(name: str, flag: str) -> int:
    args = make_demo.EXAMPLES[name]
    return int(args[args.index(flag) + 1])


def run_script(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=REPO,
                          timeout=300)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, str]:
    logdir = tmp_path_factory.mktemp("demo")
    done = run_script(str(EXAMPLES / "make_demo.py"), "--logdir", str(logdir))
    return logdir, done.stdout


@pytest.fixture(scope="module")
def client(demo) -> TestClient:
    app = create_app(str(demo[0]), watch=False)
    app.state.loader.cycle()  # read everything once, no background thread
    return TestClient(app, base_url="http://127.0.0.1")


def get(client: TestClient, path: str, **params):
    response = client.get(path, params=params)
    assert response.status_code == 200, f"{path} {params}: {response.status_code} {response.text}"
    return response


def runs_by_name(client) -> dict:
    return {r["name"]: r for r in get(client, "/api/runs").json()["runs"]}


def scalar_steps(client, run: str, tag: str) -> list[int]:
    body = get(client, "/api/scalars", run=run, tag=tag, max_points=100000).json()
    assert body["total_points"] == len(body["step"])
    return body["step"]


CNN_SESSIONS = ["mnist_like_cnn", *make_demo.SCRIPTS]  # the learning-rate sweep


def test_demo_writes_every_run(client):
    assert set(runs_by_name(client)) == {
        "blog_basics", "blog_basics/no_global_step", "dcgan_digits", "lstm_digits",
        *(f"{cnn}{sub}" for cnn in CNN_SESSIONS for sub in ("", "/train", "/validation"))}
    assert all(r["corrupt_records"] == 0 and not r["errors"]
               for r in runs_by_name(client).values())


def test_the_runs_table_compares_the_learning_rate_sweep(client):
    body = get(client, "/api/runs/table").json()
    rows = {r["name"]: {**r, "metrics": {t: dict(zip(body["metric_fields"], v, strict=True))
                                         for t, v in r["metrics"].items()}}
            for r in body["runs"]}
    rates = {}
    for cnn in CNN_SESSIONS:
        for sub in ("", "/train", "/validation"):
            row = rows[cnn + sub]
            assert row["hparams_from"] == cnn
            assert row["hparams"]["optimizer"] == "adam"
            assert row["hparams"]["steps"] == STEPS[cnn]
        rates[cnn] = rows[cnn]["hparams"]["learning_rate"]
        final = rows[cnn]["metrics"]["hparam/val_accuracy"]
        assert final["last_step"] == STEPS[cnn] and final["count"] == 1
        accuracy = rows[cnn + "/validation"]["metrics"]["accuracy"]
        assert accuracy["last"] == pytest.approx(final["last"], abs=1e-6)
        assert accuracy["max"] >= accuracy["last"] and accuracy["count"] > 1
    assert sorted(rates.values()) == [0.003, 0.01, 0.03]


def test_the_cnn_writes_a_markdown_note(client):
    steps = get(client, "/api/text", run="mnist_like_cnn", tag="notes").json()["steps"]
    assert [s["step"] for s in steps] == [0, STEPS["mnist_like_cnn"]]
    assert "<table>" in steps[0]["html"] and "learning_rate" in steps[0]["html"]
    assert "validation accuracy" in steps[1]["html"]


def test_dcgan_writes_the_blog_posts_tags(client):
    run = runs_by_name(client)["dcgan_digits"]
    assert run["tags"]["scalars"] == sorted(["d_loss_real", "d_loss_fake", "d_loss", "g_loss"])
    assert run["tags"]["images"] == ["G/image/0", "G/image/1", "G/image/2"]
    assert run["has_graph"]
    steps = STEPS["dcgan_digits"]
    for tag in run["tags"]["scalars"]:
        assert scalar_steps(client, "dcgan_digits", tag) == list(range(1, steps + 1))
    every = setting("dcgan_digits", "--sample_every")
    images = get(client, "/api/images", run="dcgan_digits", tag="G/image/2").json()
    expected = sorted({1, steps, *range(every, steps + 1, every)})
    assert [s["step"] for s in images["steps"]] == expected
    sample = images["steps"][-1]["samples"][0]
    assert (sample["width"], sample["height"]) == (32, 32)  # 8x8 digits shown 4x
    png = get(client, "/api/image", run="dcgan_digits", tag="G/image/2", step=steps, index=0)
    assert png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"


def test_dcgan_generator_and_discriminator_are_scopes_of_the_graph(client):
    graph = get(client, "/api/graph", run="dcgan_digits").json()
    scopes = {n["name"] for n in graph["nodes"] if n["kind"] == "scope"}
    assert {"generator", "discriminator"} <= scopes, scopes
    expanded = get(client, "/api/graph", run="dcgan_digits", expand="discriminator").json()
    names = {n["name"] for n in expanded["nodes"]}
    # built twice with reuse_variables(): one set of variables, two towers of ops
    assert "discriminator/d_h0_conv" in names and "discriminator_1" in names, sorted(names)


def test_lstm_digits_learns_and_its_traced_step_is_served(client, demo):
    run = runs_by_name(client)["lstm_digits"]
    assert run["tags"]["scalars"] == ["accuracy", "loss", "validation/accuracy"]
    assert run["tags"]["histograms"] == ["lstm_kernel"] and run["has_graph"]
    trace = setting("lstm_digits", "--trace_step")
    assert run["run_metadata"] == [f"step{trace}"]
    steps, every = STEPS["lstm_digits"], setting("lstm_digits", "--eval_every")
    assert scalar_steps(client, "lstm_digits", "loss") == list(range(1, steps + 1))
    evals = sorted({steps, *range(every, steps + 1, every)})
    accuracy = get(client, "/api/scalars", run="lstm_digits", tag="validation/accuracy").json()
    assert accuracy["step"] == evals
    assert accuracy["value"][-1] > 0.6 and accuracy["value"][-1] > accuracy["value"][0] + 0.2
    # the printed line: validation accuracy before training -> after (chance is 0.1)
    line = next(x for x in demo[1].splitlines() if x.startswith("lstm_digits "))
    before, after = (float(v.strip(",")) for v in line.split("accuracy ")[1].split()[::2][:2])
    assert before < 0.3 < 0.6 < after, line
    traced = get(client, "/api/graph/run_metadata", run="lstm_digits",
                 tag=f"step{trace}").json()
    assert traced["step"] == trace and traced["total_micros"] > 0
    nodes = {n["name"]: n for n in traced["nodes"]}
    assert "cross_entropy/Mean" in nodes
    assert any(n.startswith("Adam/update_rnn/basic_lstm_cell/kernel") for n in nodes)
    # the LSTM cell's ops inside the dynamic_rnn loop, timed once per time step (8 rows),
    # as the ops of its gradient loop
    cell = {name: n for name, n in nodes.items() if name.startswith("rnn/while/basic_lstm_cell/")}
    assert {f"rnn/while/basic_lstm_cell/{op}" for op in ("MatMul", "BiasAdd", "split", "Sigmoid",
                                                         "Tanh", "mul", "add")} <= set(cell)
    for name in ("MatMul", "Sigmoid", "mul_2"):
        op = cell[f"rnn/while/basic_lstm_cell/{name}"]
        assert op["executions"] == 8 and op["compute_micros"] > 0 and op["memory_bytes"] > 0
    grads = [n for name, n in nodes.items()
             if name.startswith("gradients/") and "/rnn/while/" in name
             and name.endswith("MatMul_grad/MatMulGrad")]
    assert grads and all(n["executions"] == 8 for n in grads)


def test_cnn_train_and_validation_runs(client):
    runs = runs_by_name(client)
    train, validation = runs["mnist_like_cnn/train"], runs["mnist_like_cnn/validation"]
    assert train["tags"]["scalars"] == validation["tags"]["scalars"] == ["accuracy", "loss"]
    assert train["has_graph"] and not validation["has_graph"]
    assert train["tags"]["histograms"] == sorted(
        f"{kind}/{layer}" for kind in ("weights", "biases") for layer in ("conv1", "conv2", "fc"))
    assert train["tags"]["images"] == ["input/image/0", "input/image/1", "input/image/2"]
    steps, every = STEPS["mnist_like_cnn"], setting("mnist_like_cnn", "--eval_every")
    assert scalar_steps(client, "mnist_like_cnn/train", "loss") == list(range(1, steps + 1))
    evals = sorted({steps, *range(every, steps + 1, every)})
    assert scalar_steps(client, "mnist_like_cnn/validation", "accuracy") == evals
    histo = get(client, "/api/histograms", run="mnist_like_cnn/train", tag="weights/conv1")
    assert [s["step"] for s in histo.json()["steps"]] == evals
    accuracy = get(client, "/api/scalars", run="mnist_like_cnn/validation", tag="accuracy")
    assert accuracy.json()["value"][-1] > 0.5  # it learns (10 classes: chance is 0.1)


def test_cnn_checkpoints(demo):
    ckpt = demo[0] / "mnist_like_cnn" / "checkpoints"
    steps, every = STEPS["mnist_like_cnn"], setting("mnist_like_cnn", "--checkpoint_every")
    kept = sorted({steps, *range(every, steps + 1, every)})[-3:]  # Saver(max_to_keep=3)
    names = set(os.listdir(ckpt))
    for step in kept:
        for suffix in (".index", ".data-00000-of-00001", ".meta"):
            assert f"model.ckpt-{step}{suffix}" in names, sorted(names)
    state = (ckpt / "checkpoint").read_text()
    assert f'model_checkpoint_path: "{ckpt / f"model.ckpt-{steps}"}"' in state or \
        f'model_checkpoint_path: "model.ckpt-{steps}"' in state, state


def test_blog_basics_summaries_with_and_without_global_step(client):
    run = runs_by_name(client)["blog_basics"]
    assert run["tags"]["scalars"] == ["b", "loss", "w"]
    assert run["tags"]["images"] == ["pictures/image/0", "pictures/image/1", "pictures/image/2"]
    assert run["has_graph"]
    steps = STEPS["blog_basics"]
    assert scalar_steps(client, "blog_basics", "loss") == list(range(1, steps + 1))
    w = get(client, "/api/scalars", run="blog_basics", tag="w").json()["value"]
    assert abs(w[-1] - 3.0) < abs(w[0] - 3.0)  # fitting y = 3x + 2
    flat = scalar_steps(client, "blog_basics/no_global_step", "loss")
    assert len(flat) > 1 and set(flat) == {0}  # the post's "straight line"


def test_blog_basics_prints_what_tensorflow_printed(tmp_path):
    done = run_script(str(EXAMPLES / "blog_basics.py"), "--logdir", str(tmp_path), "--steps", "3")
    out = done.stdout
    assert "Variable conv1/weights already exists, disallowed." in out
    assert "conv1/weights:0" in out and "conv2/biases:0" in out
    assert "Variable conv1/weights does not exist, or was not created with tf.get_variable()" \
        in out
    assert "conv2d twice: [2, 14, 14, 16] variables: 2" in out
    # Saver: the four files, the v1 restore, and the renamed key
    ckpt = tmp_path / "checkpoints"
    assert {"checkpoint", "model.ckpt.index", "model.ckpt.data-00000-of-00001",
            "model.ckpt.meta"} <= set(os.listdir(ckpt))
    assert out.count("after restore  v1 = [0.0, 0.0, 0.0, 0.0, 0.0]") == 1
    assert out.count("after restore  v1 = [1.0, 1.0, 1.0, 1.0, 1.0]") == 1
    assert "{'vv1': [5]}" in out


def test_make_demo_reuses_a_complete_logdir(demo):
    logdir = demo[0]
    marker = json.loads((logdir / make_demo.MARKER).read_text())
    assert marker["complete"] and marker["examples"] == make_demo.EXAMPLES
    events = sorted(p for p in logdir.rglob("events.out.tfevents.*"))
    before = {p: p.stat().st_mtime_ns for p in events}
    done = run_script(str(EXAMPLES / "make_demo.py"), "--logdir", str(logdir))
    assert "reusing it" in done.stdout
    assert {p: p.stat().st_mtime_ns for p in logdir.rglob("events.out.tfevents.*")} == before


def test_make_demo_rewrites_an_unfinished_demo_and_keeps_foreign_runs(tmp_path):
    # an earlier demo that stopped half-way left its marker incomplete and a stray file
    (tmp_path / "dcgan_digits").mkdir()
    stray = tmp_path / "dcgan_digits" / "events.out.tfevents.0.half"
    stray.write_bytes(b"")
    (tmp_path / make_demo.MARKER).write_text(json.dumps({"version": 1, "complete": False}))
    (tmp_path / "my_run").mkdir()
    mine = tmp_path / "my_run" / "events.out.tfevents.1.mine"
    mine.write_bytes(b"keep")
    tiny = {"dcgan_digits": ["--steps", "2", "--sample_every", "1"]}
    make_demo.make_demo(tmp_path, examples=tiny)
    assert not stray.exists() and mine.read_bytes() == b"keep"
    assert list((tmp_path / "dcgan_digits").glob("events.out.tfevents.*"))
    marker = json.loads((tmp_path / make_demo.MARKER).read_text())
    assert marker["complete"] and marker["examples"] == tiny


def test_make_demo_never_deletes_a_run_it_did_not_write(tmp_path, capsys):
    # no marker: this dcgan_digits folder came from running the example by hand
    (tmp_path / "dcgan_digits").mkdir()
    theirs = tmp_path / "dcgan_digits" / "events.out.tfevents.2.theirs"
    theirs.write_bytes(b"theirs")
    make_demo.make_demo(tmp_path, examples={"dcgan_digits": ["--steps", "2"]})
    assert theirs.read_bytes() == b"theirs"
    assert list((tmp_path / "dcgan_digits").iterdir()) == [theirs]
    assert "keeping" in capsys.readouterr().out


def test_layers_data_app_trains_through_tf_app_run(tmp_path):
    """tf.app.run parses its flags; tf.data feeds tf.layers; the runs and checkpoint exist."""
    logdir = tmp_path / "run"
    done = run_script(str(EXAMPLES / "layers_data_app.py"), f"--logdir={logdir}", "--steps",
                      "60", "--eval_every", "30")
    accuracy = float(done.stdout.split("validation accuracy ")[-1].split()[0])
    assert accuracy > 0.5, done.stdout  # chance is 0.1; 60 steps reach about 0.8
    assert "step 30: validation accuracy" in done.stderr
    assert sorted(p.name for p in logdir.iterdir()) == ["checkpoints", "train", "validation"]
    assert (logdir / "checkpoints" / "model.ckpt-60.index").exists()
    app = create_app(str(logdir), watch=False)
    app.state.loader.cycle()
    runs = {r["name"]: r for r in TestClient(app, base_url="http://127.0.0.1").get("/api/runs").json()["runs"]}
    assert runs["train"]["tags"]["scalars"] == ["learning_rate", "loss"]
    assert runs["train"]["has_graph"] and runs["validation"]["tags"]["scalars"] == ["accuracy"]
