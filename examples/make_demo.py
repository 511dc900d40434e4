"""The one demo generator: `make run`, the tests and the benchmarks all call this.

Runs the examples at fast settings into one logdir (in parallel, one process each)::

    <logdir>/blog_basics                 the blog post's snippets (+ blog_basics/no_global_step)
    <logdir>/mnist_like_cnn              CNN on digits (lr 0.01): hyperparameters, notes
    <logdir>/mnist_like_cnn/train        loss/accuracy, weights, inputs, graph
    <logdir>/mnist_like_cnn/validation
    <logdir>/cnn_lr=0.003, cnn_lr=0.03   the same CNN at two more learning rates, shorter
                                         (something to compare in the Runs table)
    <logdir>/dcgan_digits                DCGAN: d_loss_real, d_loss_fake, d_loss, g_loss, G
    <logdir>/lstm_digits                 LSTM on digit rows: loss/accuracy, kernel histogram,
                                         graph, one traced step (Graphs: session run step50)

A complete demo is marked by ``<logdir>/.numboard-demo.json``; a later call with the same
settings reuses it instead of training again (``--force`` rewrites it). Folders of an earlier
demo that did not finish are rewritten; folders the demo did not write are never deleted.

    python examples/make_demo.py [--logdir logs] [--force]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
MARKER = ".numboard-demo.json"
DEMO_VERSION = 2

# example -> the fast settings used for the demo
EXAMPLES: dict[str, list[str]] = {
    "blog_basics": ["--steps", "100"],
    "mnist_like_cnn": ["--steps", "200", "--eval_every", "10", "--checkpoint_every", "50"],
    "dcgan_digits": ["--steps", "800", "--sample_every", "40"],
    "lstm_digits": ["--steps", "150", "--eval_every", "10", "--trace_step", "50"],
    "cnn_lr=0.003": ["--steps", "100", "--eval_every", "10", "--checkpoint_every", "100",
                     "--learning_rate", "0.003"],
    "cnn_lr=0.03": ["--steps", "100", "--eval_every", "10", "--checkpoint_every", "100",
                    "--learning_rate", "0.03"],
}
# demo folder -> the example script that writes it (when they differ)
SCRIPTS = {"cnn_lr=0.003": "mnist_like_cnn", "cnn_lr=0.03": "mnist_like_cnn"}

# The examples' matrices are small: a multi-threaded BLAS spends more time waking threads than
# computing (20x slower on a busy 2-core machine), and the examples already run one per core.
SINGLE_THREADED = {name: "1" for name in
                   ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}


def read_marker(logdir: Path) -> dict | None:
    try:
        return json.loads((logdir / MARKER).read_text())
    except (OSError, ValueError):
        return None


def write_marker(logdir: Path, examples: dict, complete: bool,
                 seconds: float | None = None) -> None:
    info = {"version": DEMO_VERSION, "examples": examples, "complete": complete,
            "python": sys.version.split()[0], "written": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    if seconds is not None:
        info["seconds"] = round(seconds, 2)
    tmp = logdir / (MARKER + ".tmp")
    tmp.write_text(json.dumps(info, indent=2) + "\n")
    os.replace(tmp, logdir / MARKER)  # a reader never sees half a marker


def is_complete(marker: dict | None, examples: dict) -> bool:
    return bool(marker and marker.get("complete") and marker.get("version") == DEMO_VERSION
                and marker.get("examples") == examples)


def run_example(name: str, args: list[str], logdir: Path):
    """Run examples/<script>.py into logdir/<name>: (name, seconds, CompletedProcess)."""
    script = SCRIPTS.get(name, name)
    cmd = [sys.executable, str(HERE / f"{script}.py"), "--logdir", str(logdir / name), *args]
    start = time.perf_counter()
    env = {**os.environ, **SINGLE_THREADED}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    return name, time.perf_counter() - start, done


def make_demo(logdir: str | os.PathLike, force: bool = False, jobs: int | None = None,
              examples: dict[str, list[str]] | None = None) -> Path:
    """Ensure `logdir` holds a complete demo; returns it. Raises RuntimeError if one fails.

    `examples` (name -> command-line arguments) defaults to EXAMPLES, the demo settings.
    """
    examples = EXAMPLES if examples is None else examples
    root = Path(logdir)
    marker = read_marker(root)
    if is_complete(marker, examples) and not force:
        print(f"demo logdir {root} is complete (written {marker.get('written')}); reusing it. "
              "Pass --force to write it again.")
        return root
    root.mkdir(parents=True, exist_ok=True)
    ours = marker is not None  # an earlier demo (finished or not) wrote these folders
    todo = []
    for name in examples:
        target = root / name
        if target.exists() and any(target.iterdir()):
            if not (ours or force):
                print(f"keeping {target}: it was not written by this demo generator")
                continue
            shutil.rmtree(target)
        todo.append(name)
    write_marker(root, examples, complete=False)
    start = time.perf_counter()
    workers = jobs or min(len(todo), os.cpu_count() or 1) or 1
    failed = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for name, seconds, done in pool.map(lambda n: run_example(n, examples[n], root), todo):
            last = done.stdout.strip().splitlines()[-1:] or [""]
            print(f"{name:16s} {seconds:5.1f} s  {last[0]}")
            if done.returncode != 0:
                failed.append(name)
                sys.stderr.write(f"--- {name} failed (exit {done.returncode}):\n{done.stderr}")
    if failed:
        raise RuntimeError(f"demo examples failed: {', '.join(failed)} (output above); "
                           f"{root / MARKER} stays marked incomplete")
    total = time.perf_counter() - start
    write_marker(root, examples, complete=True, seconds=total)
    print(f"demo logdir {root} written in {total:.1f} s")
    return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", default="logs")
    parser.add_argument("--force", action="store_true", help="write the demo again")
    parser.add_argument("--jobs", type=int, default=None,
                        help="examples run at once (default: one per CPU, at most 3)")
    args = parser.parse_args(argv)
    if args.jobs is not None and args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    try:
        make_demo(args.logdir, force=args.force, jobs=args.jobs)
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
