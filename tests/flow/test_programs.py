"""The corpus: TF1 programs (tests/flow/programs/) that run unchanged with ``import flow as tf``
on the digits data and reach what the same program reaches on TensorFlow.

The golden numbers were recorded once with TensorFlow's ``tf.compat.v1`` by
tests/data/make_tf_programs.py. Programs without randomness (zero initial weights, batches in
order) must give TF's numbers to float precision; the others start from other random draws
than TF's, so their accuracies must be within two test images (297 of them) of TF's and their
losses within 30 %. The recurrent and control-flow programs (LSTM, bidirectional GRU, skip-gram
with nce_loss, tf.cond + tf.while_loop) start from numpy-drawn weights and feed whatever is
random, so they are deterministic too.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = ROOT / "tests" / "flow" / "programs"
GOLDEN = json.loads((ROOT / "tests" / "data" / "tf_programs" / "golden.json").read_text())
# The recorder's own parser, loaded by path: putting tests/data on sys.path would make its
# `torch/` fixture folder importable as a namespace package named torch.
_spec = importlib.util.spec_from_file_location(
    "make_tf_programs", ROOT / "tests" / "data" / "make_tf_programs.py")
_recorder = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_recorder)
programs, result_of = _recorder.programs, _recorder.result_of

RECURRENT = {"lstm_rows", "gru_bidirectional", "skipgram_nce", "cond_while_refine"}
DETERMINISTIC = {"softmax_regression", "adagrad_logistic", "ema_checkpoint", "ftrl_top_k",
                 "summaries_proximal", *RECURRENT}
FRACTIONS = {"accuracy", "top1", "top3", "argmax_agrees", "zero_weights"}


def test_the_corpus_is_complete():
    names = {p.stem for p in programs()}
    assert len(names) >= 12 and RECURRENT <= names
    assert names == set(GOLDEN["programs"]), "re-run tests/data/make_tf_programs.py"


@pytest.mark.parametrize("name", sorted(GOLDEN["programs"]))
def test_program_reaches_tensorflows_numbers(name):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(PROGRAMS)])}
    done = subprocess.run([sys.executable, str(PROGRAMS / f"{name}.py")], capture_output=True,
                          text=True, cwd=PROGRAMS, env=env, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    ours, theirs = result_of(done.stdout), GOLDEN["programs"][name]
    assert sorted(ours) == sorted(theirs)
    for metric, want in theirs.items():
        got = ours[metric]
        if name in DETERMINISTIC:
            assert got == pytest.approx(want, rel=1e-4, abs=1e-6), (metric, got, want)
        elif metric in FRACTIONS:
            assert abs(got - want) <= 2 / 297 + 1e-6, (metric, got, want)
        else:
            assert got == pytest.approx(want, rel=0.3), (metric, got, want)
