"""Runtime benchmark (SPEC §8 "runtime"): ms per training step of flow vs its peers.

Workloads, each a full training step (forward, backward, update) on random data:
  - MLP 64-256-256-10, batch 128, softmax cross-entropy, SGD;
  - CNN: two 5x5 SAME convolutions (16 and 32 channels) + ReLU + 2x2 max-pool, then a dense
    layer to 10 classes; 28x28x1 inputs, batch 64, SGD;
  - LSTM over MNIST rows: ``BasicLSTMCell(128)``, 28 time steps of 28 inputs, batch 128, a
    softmax classifier on the last output, Adam; in flow and TF1 twice, once unrolled by
    ``tf.nn.static_rnn`` and once in ``tf.nn.dynamic_rnn``'s while_loop (PyTorch: one
    ``nn.LSTM``, the peer of both);
  - ``mnist_deep`` (TensorFlow's deep MNIST tutorial): conv 5x5x32 + ReLU + 2x2 max-pool, conv
    5x5x64 + ReLU + max-pool, fc 1024 + ReLU, dropout 0.5, fc 10; batch 50, Adam(1e-4);
  - a 30-op graph on 4-element tensors: Session.run steps per second (Python overhead);
  - one 1024x1024x1024 float32 matmul: the BLAS rate each peer works with (flow's is numpy's
    OpenBLAS), the bound under every GEMM-heavy step above.
Peers: hand-written numpy (MLP and CNN only; the floor for a numpy runtime), PyTorch CPU
(``--torch-python``; default /tmp/torchvenv/bin/python when present, else this python when it
has torch) and TensorFlow's ``tf.compat.v1`` Session (``--tf-python``, default
/tmp/tfvenv/bin/python when present). The model code for flow and TensorFlow is the same
function given ``tf``. Every peer runs in its own subprocess with the same thread count
(``--threads``, default 1: OMP/OpenBLAS/MKL env vars, ``torch.set_num_threads``, TF's
ConfigProto). A pass runs the peers in turn, so they share the machine's load alike; a
pass's timing is the median of ``--rounds`` rounds of ``--steps`` steps after warm-up, and the
table shows the median over ``--passes`` passes. The hand-written numpy peer keeps freed memory
in the heap as a flow Session does (``flow.client.session.keep_freed_memory``), so the two
differ by their code, not by malloc settings. Prints one markdown table, then which BLAS
kernels numpy (and so flow) ran.

numpy's OpenBLAS picks its kernels from the CPU's id at start-up; a CPU newer than the OpenBLAS
build (AMD Zen 5 with OpenBLAS 0.3.31) gets a fallback (Haswell, AVX2) at about half the
AVX-512 rate. ``--openblas-coretype SkylakeX`` sets ``OPENBLAS_CORETYPE`` for the numpy and flow
peers, as a user would in their shell, to show what the same code does with the right kernels.

    .venv/bin/python benchmarks/runtime.py [--threads 1] [--steps 20] [--rounds 5] [--passes 3]
        [--workloads lstm_static,lstm_dynamic,deep] [--peers flow,torch]
        [--openblas-coretype SkylakeX]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import signal
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MLP_BATCH, CNN_BATCH, LR = 128, 64, 0.01
LSTM_BATCH, LSTM_STEPS, LSTM_INPUT, LSTM_UNITS = 128, 28, 28, 128
DEEP_BATCH, DEEP_LR, DEEP_KEEP = 50, 1e-4, 0.5
GEMM_N = 1024
WORKLOADS = ("mlp", "cnn", "lstm_static", "lstm_dynamic", "deep", "tiny", "gemm")


def _data(kind):
    rng = np.random.default_rng(0)
    if kind == "mlp":
        return rng.random((MLP_BATCH, 64), dtype=np.float32), rng.integers(0, 10, MLP_BATCH)
    if kind.startswith("lstm"):  # MNIST rows as time steps
        return (rng.random((LSTM_BATCH, LSTM_STEPS, LSTM_INPUT), dtype=np.float32),
                rng.integers(0, 10, LSTM_BATCH))
    if kind == "deep":  # mnist_deep feeds flat 784-pixel rows
        return rng.random((DEEP_BATCH, 784), dtype=np.float32), rng.integers(0, 10, DEEP_BATCH)
    return rng.random((CNN_BATCH, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, CNN_BATCH)


# ---------------------------------------------------------------- TF1 API (flow and TensorFlow)


def tf1_step(tf, kind, threads):
    """One training step of the workload written against the TF1 API of module ``tf``."""
    if kind.startswith("lstm"):
        return tf1_lstm(tf, kind == "lstm_dynamic", threads)
    if kind == "deep":
        return tf1_deep(tf, threads)
    tf.reset_default_graph()
    tf.set_random_seed(0)
    x_val, y_val = _data(kind)
    x = tf.placeholder(tf.float32, [None, *x_val.shape[1:]], name="x")
    y = tf.placeholder(tf.int64, [None], name="y")
    if kind == "mlp":
        h = x
        for i, n in enumerate([256, 256]):
            w = tf.get_variable(f"w{i}", [h.get_shape()[-1], n])
            b = tf.get_variable(f"b{i}", [n], initializer=tf.zeros_initializer())
            h = tf.nn.relu(tf.matmul(h, w) + b)
        flat = h
    else:
        h = x
        for i, c in enumerate([16, 32]):
            k = tf.get_variable(f"k{i}", [5, 5, h.get_shape()[-1], c])
            b = tf.get_variable(f"c{i}", [c], initializer=tf.zeros_initializer())
            h = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(h, k, [1, 1, 1, 1], "SAME"), b))
            h = tf.nn.max_pool(h, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
        flat = tf.reshape(h, [-1, 7 * 7 * 32])
    w = tf.get_variable("out", [flat.get_shape()[-1], 10])
    logits = tf.matmul(flat, w) + tf.get_variable("out_b", [10],
                                                  initializer=tf.zeros_initializer())
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y,
                                                                         logits=logits))
    train = tf.train.GradientDescentOptimizer(LR).minimize(loss)
    sess = _session(tf, threads)
    sess.run(tf.global_variables_initializer())
    feed = {x: x_val, y: y_val}
    return lambda: sess.run(train, feed)


def tf1_lstm(tf, dynamic, threads):
    """The TF1 MNIST-rows LSTM: ``BasicLSTMCell(128)`` over 28 steps of 28 inputs, by
    ``tf.nn.dynamic_rnn`` or ``tf.nn.static_rnn`` (a Python list from ``tf.unstack``), a
    softmax classifier on the last output, Adam."""
    tf.reset_default_graph()
    tf.set_random_seed(0)
    x_val, y_val = _data("lstm")
    x = tf.placeholder(tf.float32, [None, LSTM_STEPS, LSTM_INPUT], name="x")
    y = tf.placeholder(tf.int64, [None], name="y")
    cell = tf.nn.rnn_cell.BasicLSTMCell(LSTM_UNITS, forget_bias=1.0)
    if dynamic:
        outputs, _ = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
        last = outputs[:, -1]
    else:
        outputs, _ = tf.nn.static_rnn(cell, tf.unstack(x, LSTM_STEPS, 1), dtype=tf.float32)
        last = outputs[-1]
    w = tf.get_variable("out", [LSTM_UNITS, 10])
    logits = tf.matmul(last, w) + tf.get_variable("out_b", [10],
                                                  initializer=tf.zeros_initializer())
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y,
                                                                         logits=logits))
    train = tf.train.AdamOptimizer(1e-3).minimize(loss)
    sess = _session(tf, threads)
    sess.run(tf.global_variables_initializer())
    feed = {x: x_val, y: y_val}
    return lambda: sess.run(train, feed)


def tf1_deep(tf, threads):
    """TensorFlow's ``mnist_deep.py`` tutorial model, as written there: conv 5x5x32, pool,
    conv 5x5x64, pool, fc 1024, dropout (keep_prob fed), fc 10, Adam(1e-4), batch 50."""
    tf.reset_default_graph()
    tf.set_random_seed(0)
    x_val, y_val = _data("deep")
    x = tf.placeholder(tf.float32, [None, 784], name="x")
    y = tf.placeholder(tf.int64, [None], name="y")
    keep_prob = tf.placeholder(tf.float32, name="keep_prob")

    def weight(shape):
        return tf.Variable(tf.truncated_normal(shape, stddev=0.1))

    def bias(shape):
        return tf.Variable(tf.constant(0.1, shape=shape))

    def conv_pool(h, shape):
        conv = tf.nn.conv2d(h, weight(shape), strides=[1, 1, 1, 1], padding="SAME")
        h = tf.nn.relu(conv + bias(shape[-1:]))
        return tf.nn.max_pool(h, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")

    h = conv_pool(tf.reshape(x, [-1, 28, 28, 1]), [5, 5, 1, 32])
    h = conv_pool(h, [5, 5, 32, 64])
    h = tf.nn.relu(tf.matmul(tf.reshape(h, [-1, 7 * 7 * 64]), weight([7 * 7 * 64, 1024]))
                   + bias([1024]))
    logits = tf.matmul(tf.nn.dropout(h, keep_prob), weight([1024, 10])) + bias([10])
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y,
                                                                         logits=logits))
    train = tf.train.AdamOptimizer(DEEP_LR).minimize(loss)
    sess = _session(tf, threads)
    sess.run(tf.global_variables_initializer())
    feed = {x: x_val, y: y_val, keep_prob: DEEP_KEEP}
    return lambda: sess.run(train, feed)


def tf1_tiny(tf, threads):
    """A 30-op chain on 4-element tensors: measures per-run and per-op Python overhead."""
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [4], name="x")
    y = x
    for i in range(10):  # 10 x (tanh, mul, add) = 30 ops
        y = tf.tanh(y) * 0.5 + float(i)
    sess = _session(tf, threads)
    feed = {x: np.ones(4, np.float32)}
    return lambda: sess.run(y, feed)


def tf1_gemm(tf, threads):
    """One 1024^3 float32 matmul of two variables (not constant-folded), output not fetched."""
    tf.reset_default_graph()
    a, b = (tf.Variable(m) for m in _gemm_operands())
    product = tf.matmul(a, b)
    sess = _session(tf, threads)
    sess.run(tf.global_variables_initializer())
    return lambda: sess.run(product.op)


def _gemm_operands():
    rng = np.random.default_rng(0)
    return [rng.random((GEMM_N, GEMM_N), dtype=np.float32) for _ in range(2)]


def _session(tf, threads):
    if hasattr(tf, "ConfigProto"):
        config = tf.ConfigProto(intra_op_parallelism_threads=threads,
                                inter_op_parallelism_threads=threads)
        return tf.Session(config=config)
    return tf.Session()


# ---------------------------------------------------------------- hand-written numpy


def _xent_grad(logits, y):
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    return p / len(y)


def numpy_mlp_step():
    x, y = _data("mlp")
    rng = np.random.default_rng(0)
    sizes = [64, 256, 256, 10]
    ws = [rng.uniform(-0.1, 0.1, (a, b)).astype(np.float32) for a, b in zip(sizes, sizes[1:],
                                                                          strict=False)]
    bs = [np.zeros(b, np.float32) for b in sizes[1:]]

    def step():
        acts, pre = [x], []
        for i, (w, b) in enumerate(zip(ws, bs, strict=True)):
            z = acts[-1] @ w + b
            pre.append(z)
            acts.append(np.maximum(z, 0) if i < 2 else z)
        g = _xent_grad(acts[-1], y)
        for i in range(2, -1, -1):
            if i < 2:
                g = g * (pre[i] > 0)
            gw, gb = acts[i].T @ g, g.sum(0)
            if i:
                g = g @ ws[i].T
            ws[i] -= LR * gw
            bs[i] -= LR * gb

    return step


def _windows(xp, k, h, w):
    n, _, _, c = xp.shape
    s = xp.strides
    return np.lib.stride_tricks.as_strided(xp, (n, h, w, k, k, c), (s[0], s[1], s[2], s[1], s[2],
                                                                    s[3]))


def numpy_cnn_step():
    x, y = _data("cnn")
    rng = np.random.default_rng(0)
    ks = [rng.uniform(-0.1, 0.1, (5, 5, 1, 16)).astype(np.float32),
          rng.uniform(-0.1, 0.1, (5, 5, 16, 32)).astype(np.float32)]
    cs = [np.zeros(16, np.float32), np.zeros(32, np.float32)]
    w = rng.uniform(-0.05, 0.05, (7 * 7 * 32, 10)).astype(np.float32)
    wb = np.zeros(10, np.float32)

    def step():
        nonlocal wb
        h, saved = x, []
        for k, c in zip(ks, cs, strict=True):
            n, hh, ww, cin = h.shape
            xp = np.pad(h, ((0, 0), (2, 2), (2, 2), (0, 0)))
            cols = _windows(xp, 5, hh, ww).reshape(n * hh * ww, 25 * cin)
            z = (cols @ k.reshape(25 * cin, -1) + c).reshape(n, hh, ww, -1)
            r = np.maximum(z, 0)
            blocks = r.reshape(n, hh // 2, 2, ww // 2, 2, -1)
            p = blocks.max(axis=(2, 4))
            saved.append((h.shape, cols, z, blocks, p))
            h = p
        flat = h.reshape(len(h), -1)
        g = _xent_grad(flat @ w + wb, y)
        gw, gwb, g = flat.T @ g, g.sum(0), g @ w.T
        w[...] -= LR * gw
        wb = wb - LR * gwb
        g = g.reshape(h.shape)
        for i in (1, 0):
            shape, cols, z, blocks, p = saved[i]
            n, hh, ww, cin = shape
            mask = blocks == p[:, :, None, :, None, :]
            g = (mask * g[:, :, None, :, None, :]).reshape(z.shape) * (z > 0)
            g2 = g.reshape(-1, g.shape[-1])
            gk, gc = (cols.T @ g2).reshape(ks[i].shape), g2.sum(0)
            if i:
                dcols = (g2 @ ks[i].reshape(25 * cin, -1).T).reshape(n, hh, ww, 5, 5, cin)
                gp = np.zeros((n, hh + 4, ww + 4, cin), np.float32)
                for a in range(5):
                    for b in range(5):
                        gp[:, a:a + hh, b:b + ww] += dcols[:, :, :, a, b]
                g = gp[:, 2:-2, 2:-2]
            ks[i] -= LR * gk
            cs[i] -= LR * gc

    return step


# ---------------------------------------------------------------- PyTorch


def torch_step(kind, threads):
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x_val, y_val = _data(kind)
    if kind.startswith("lstm"):  # nn.LSTM (what a PyTorch user writes) + a linear classifier
        lstm = torch.nn.LSTM(LSTM_INPUT, LSTM_UNITS, batch_first=True)
        out = torch.nn.Linear(LSTM_UNITS, 10)
        model = torch.nn.ModuleList([lstm, out])
        model.forward = lambda x: out(lstm(x)[0][:, -1])
        x = torch.from_numpy(x_val)
    elif kind == "deep":
        model = torch.nn.Sequential(
            torch.nn.Unflatten(1, (1, 28, 28)),
            torch.nn.Conv2d(1, 32, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(32, 64, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Flatten(), torch.nn.Linear(7 * 7 * 64, 1024), torch.nn.ReLU(),
            torch.nn.Dropout(1 - DEEP_KEEP), torch.nn.Linear(1024, 10))
        x = torch.from_numpy(x_val)
    elif kind == "mlp":
        model = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(),
                                    torch.nn.Linear(256, 256), torch.nn.ReLU(),
                                    torch.nn.Linear(256, 10))
        x = torch.from_numpy(x_val)
    else:
        model = torch.nn.Sequential(
            torch.nn.Conv2d(1, 16, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(16, 32, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Flatten(), torch.nn.Linear(7 * 7 * 32, 10))
        x = torch.from_numpy(x_val.transpose(0, 3, 1, 2).copy())
    y = torch.from_numpy(y_val)
    if kind.startswith("lstm") or kind == "deep":
        opt = torch.optim.Adam(model.parameters(), lr=1e-3 if kind != "deep" else DEEP_LR)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    return step


# ---------------------------------------------------------------- driver


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def _time(step, steps, rounds, clock=time.perf_counter):
    """The median over ``rounds`` rounds of the mean time of ``steps`` steps, after warm-up."""
    start = time.perf_counter()
    for i in range(1000):  # warm up: at least 3 steps and half a second (BLAS buffers, caches)
        step()
        if i >= 2 and time.perf_counter() - start > 0.5:
            break
    times = []
    for _ in range(rounds):
        t0 = clock()
        for _ in range(steps):
            step()
        times.append((clock() - t0) / steps)
    return statistics.median(times)


def blas_kernels() -> str:
    """numpy's BLAS and the kernels it picked for this CPU, e.g. "openblas 0.3.31 (Haswell)"."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (install threadpoolctl to see it)"
    for pool in threadpool_info():
        if pool.get("user_api") == "blas":
            return f"{pool['internal_api']} {pool['version']} ({pool.get('architecture')})"
    return "unknown"


def cpu_has_avx512() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            return " avx512f" in f.read()
    except OSError:
        return False


AVX512_CORES = {"skylakex", "cooperlake", "sapphirerapids"}  # OpenBLAS core types


def _steps_for(key, steps):
    """Steps per round: the 30-op graph runs 500, the GEMM 5, the ~0.1 s deep CNN step a
    quarter of ``steps``."""
    return {"tiny": 500, "gemm": 5, "deep": max(steps // 4, 2)}.get(key, steps)


def worker(peer, threads, steps, rounds, workloads, clock="wall"):
    """Run in a subprocess: time ``workloads`` of ``peer``, print JSON."""
    out = {}
    if peer in ("numpy", "flow"):
        out["blas"] = blas_kernels()
    if peer == "numpy":
        sys.path.insert(0, ROOT)
        from flow.client.session import keep_freed_memory

        keep_freed_memory()
        a, b = _gemm_operands()
        makers = {"mlp": numpy_mlp_step, "cnn": numpy_cnn_step, "gemm": lambda: lambda: a @ b}
    elif peer == "torch":
        import torch

        torch.set_num_threads(threads)
        a, b = (torch.from_numpy(m) for m in _gemm_operands())
        makers = {k: functools.partial(torch_step, k, threads)
                  for k in ("mlp", "cnn", "lstm_static", "deep")}
        makers["gemm"] = lambda: lambda: a @ b
    else:
        if peer == "flow":
            sys.path.insert(0, ROOT)
            import flow as tf
        else:
            import tensorflow as tf2

            tf = tf2.compat.v1
            tf.disable_eager_execution()
            tf.logging.set_verbosity(tf.logging.ERROR)
        makers = {k: functools.partial(tf1_step, tf, k, threads)
                  for k in ("mlp", "cnn", "lstm_static", "lstm_dynamic", "deep")}
        makers["tiny"] = functools.partial(tf1_tiny, tf, threads)
        if peer == "tf":
            makers["gemm"] = functools.partial(tf1_gemm, tf, threads)
    if peer == "torch":  # one nn.LSTM in PyTorch: the peer of both TF1 forms, timed once
        makers["lstm_dynamic"] = makers["lstm_static"]
    for key in workloads:
        if peer == "torch" and key.startswith("lstm") and "lstm" in out:
            out[key] = out["lstm"]
        elif key in makers:
            out[key] = _time(makers[key](), _steps_for(key, steps), rounds, CLOCKS[clock])
            if key.startswith("lstm"):
                out["lstm"] = out[key]
    out.pop("lstm", None)
    print(json.dumps(out))


def run_peer(python, peer, args):
    # TF_USE_LEGACY_KERAS: TensorFlow 2.16+ serves tf.compat.v1.nn.rnn_cell from tf_keras only
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TF_USE_LEGACY_KERAS="1", PYTHONPATH=ROOT)
    if args.openblas_coretype and peer in ("numpy", "flow"):
        env["OPENBLAS_CORETYPE"] = args.openblas_coretype
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(args.threads)
    cmd = [python, os.path.abspath(__file__), "--worker", peer, "--threads", str(args.threads),
           "--steps", str(args.steps), "--rounds", str(args.rounds),
           "--workloads", ",".join(args.workloads), "--clock", args.clock]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        why = proc.stderr.strip().splitlines()[-1:] or [
            f"exit status {proc.returncode}" if proc.returncode > 0 else
            f"killed by {signal.Signals(-proc.returncode).name}"]
        print(f"[{peer}] failed: {why[0]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _has_torch(python) -> bool:
    probe = [python, "-c", "import importlib.util, sys; "
             "sys.exit(importlib.util.find_spec('torch') is None)"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


def _workloads(text):
    keys = [k.strip() for k in text.split(",") if k.strip()]
    bad = [k for k in keys if k not in WORKLOADS]
    if bad or not keys:
        raise argparse.ArgumentTypeError(f"unknown workload(s) {bad or text!r}; pick from "
                                         f"{','.join(WORKLOADS)}")
    return keys


ROWS = (("mlp", "MLP 64-256-256-10, batch 128, SGD (ms/step)"),
        ("cnn", "CNN 2x conv5x5 (16, 32) 28x28, batch 64, SGD (ms/step)"),
        ("lstm_static", "LSTM 28 steps x 28 -> 128, batch 128, Adam; flow/TF1 static_rnn "
                        "(ms/step)"),
        ("lstm_dynamic", "same LSTM, flow/TF1 dynamic_rnn (ms/step)"),
        ("deep", "mnist_deep CNN (5x5x32, 5x5x64, fc 1024, dropout), batch 50, Adam "
                 "(ms/step)"))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--passes", type=int, default=3)
    p.add_argument("--workloads", type=_workloads, default=list(WORKLOADS),
                   help=f"comma-separated subset of {','.join(WORKLOADS)}")
    p.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                   help="wall time, or the process's CPU time (steadier on a loaded machine; "
                        "with --threads 1 every peer computes on one thread)")
    p.add_argument("--peers", default="numpy,flow,torch,tf",
                   help="comma-separated subset of numpy,flow,torch,tf")
    p.add_argument("--torch-python", default=None,
                   help="a python with torch (default /tmp/torchvenv/bin/python when present, "
                        "else this python if it imports torch)")
    p.add_argument("--tf-python", default="/tmp/tfvenv/bin/python")
    p.add_argument("--openblas-coretype", metavar="NAME",
                   help="OPENBLAS_CORETYPE for the numpy and flow peers (e.g. SkylakeX)")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.openblas_coretype and args.openblas_coretype.lower() in AVX512_CORES and \
            not cpu_has_avx512():
        p.error(f"--openblas-coretype {args.openblas_coretype} needs AVX-512, which this CPU "
                f"does not have (no avx512f in /proc/cpuinfo): OpenBLAS would stop Python with "
                f"'Illegal instruction'. Leave it unset, or pick an AVX2 core type (Haswell, Zen).")
    if args.worker:
        worker(args.worker, args.threads, args.steps, args.rounds, args.workloads, args.clock)
        return
    torch_python = args.torch_python
    if torch_python is None:
        torch_python = "/tmp/torchvenv/bin/python"
        if not os.path.exists(torch_python) and _has_torch(sys.executable):
            torch_python = sys.executable
    wanted = [x.strip() for x in args.peers.split(",")]
    peers = {name: sys.executable for name in ("numpy", "flow") if name in wanted}
    for name, python in (("torch", torch_python), ("tf", args.tf_python)):
        if name not in wanted:
            continue
        if os.path.exists(python):
            peers[name] = python
        else:
            print(f"[{name}] skipped: {python} not found", file=sys.stderr)
    runs: dict[str, dict[str, list]] = {}
    loads = []
    for _ in range(args.passes):  # the peers in turn, pass after pass: each sees the same load
        for name, python in peers.items():
            loads.append(os.getloadavg()[0])
            got = run_peer(python, name, args)
            for key, value in (got or {}).items():
                runs.setdefault(name, {}).setdefault(key, []).append(value)
    res = {name: {key: values[-1] if key == "blas" else statistics.median(values)
                  for key, values in got.items()} for name, got in runs.items()}

    def cell(peer, key, fmt):
        r = res.get(peer)
        return fmt(r[key]) if r and key in r else "n/a"

    def ratio(key, peer):
        f, o = res.get("flow"), res.get(peer)
        return f"{f[key] / o[key]:.2f}x" if f and o and key in f and key in o else "n/a"

    ms = lambda v: f"{v * 1000:.2f}"  # noqa: E731
    sps = lambda v: f"{1 / v:,.0f}"  # noqa: E731
    print(f"threads per peer: {args.threads}; {args.clock} time; median of {args.passes} interleaved passes, each "
          f"the median of {args.rounds} rounds of {args.steps} steps ({_steps_for('deep', args.steps)} "
          f"for mnist_deep); load average {min(loads, default=0):.1f}-{max(loads, default=0):.1f} "
          f"on {os.cpu_count()} CPUs\n")
    print("| workload | numpy (hand) | flow | PyTorch CPU | TF1 Session | flow / PyTorch "
          "| flow / TF1 |")
    print("|---|---|---|---|---|---|---|")
    for key, label in ROWS:
        if key not in args.workloads:
            continue
        print(f"| {label} | {cell('numpy', key, ms)} | {cell('flow', key, ms)} | "
              f"{cell('torch', key, ms)} | {cell('tf', key, ms)} | {ratio(key, 'torch')} | "
              f"{ratio(key, 'tf')} |")
    if "tiny" in args.workloads:
        tiny_ratio = ratio("tiny", "tf")
        print(f"| 30-op graph, 4-element tensors (runs/s) | n/a | {cell('flow', 'tiny', sps)} "
              f"| n/a | {cell('tf', 'tiny', sps)} | n/a | "
              f"{tiny_ratio + ' (time)' if tiny_ratio != 'n/a' else 'n/a'} |")
    gflops = lambda v: f"{2 * GEMM_N ** 3 / v / 1e9:.0f}"  # noqa: E731
    if "gemm" in args.workloads:
        print(f"| float32 matmul {GEMM_N}^3, the BLAS rate (GFLOP/s) | "
              f"{cell('numpy', 'gemm', gflops)} | = numpy | {cell('torch', 'gemm', gflops)} | "
              f"{cell('tf', 'gemm', gflops)} | n/a | n/a |")
    blas = res.get("flow", res.get("numpy", {})).get("blas", "unknown")
    forced = f", OPENBLAS_CORETYPE={args.openblas_coretype}" if args.openblas_coretype else ""
    print(f"\nnumpy's BLAS (flow's matmuls and convolutions): {blas}{forced}")
    if not args.openblas_coretype and "(Haswell)" in blas and cpu_has_avx512():
        print("This CPU has AVX-512 but numpy's OpenBLAS picked its AVX2 (Haswell) kernels: it "
              "does not know this CPU model. Compare with --openblas-coretype SkylakeX.")


if __name__ == "__main__":
    main()
