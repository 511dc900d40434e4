"""Regenerate tests/data/tf_programs/golden.json: what each program of tests/flow/programs/
reaches on TensorFlow, the numbers flow's runs of the same programs are checked against.

A manual step, never part of `make test` (TensorFlow is not a numboard dependency). In an
interpreter with TensorFlow 2.x, tf_keras (for `tf.compat.v1.layers`) and scikit-learn:

    python -m venv /work/tfenv && /work/tfenv/bin/pip install tensorflow-cpu tf_keras scikit-learn
    /work/tfenv/bin/python tests/data/make_tf_programs.py

`--only a,b` runs just the programs named (file stems) and adds or replaces their entries,
keeping every other entry of the committed golden.json as it is (TF's version recorded must
be the same).

Each program is run unchanged in a fresh process in which the module `flow` *is*
`tensorflow.compat.v1` (with `disable_v2_behavior()`), so `import flow as tf` gets
TensorFlow's TF1 API; the metrics of its `RESULT` line are recorded with TF's version.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROGRAMS = Path(__file__).resolve().parents[1] / "flow" / "programs"
OUT = Path(__file__).resolve().parent / "tf_programs" / "golden.json"

BOOT = """
import runpy, sys
import tensorflow as tf
tf.compat.v1.disable_v2_behavior()
sys.modules["flow"] = tf.compat.v1
sys.path.insert(0, {programs!r})
sys.argv = [{path!r}]
print("TF_VERSION " + tf.__version__)
runpy.run_path({path!r}, run_name="__main__")
"""


def programs() -> list[Path]:
    return sorted(p for p in PROGRAMS.glob("*.py") if p.name != "digits.py")


def result_of(stdout: str) -> dict:
    """The metrics of the program's last ``RESULT {json}`` line."""
    lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
    if not lines:
        raise ValueError(f"no RESULT line in the output:\n{stdout[-2000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def run_on_tensorflow(path: Path) -> tuple[dict, str]:
    env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    code = BOOT.format(programs=str(PROGRAMS), path=str(path))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, cwd=PROGRAMS, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{path.name} failed on TensorFlow:\n{done.stderr[-3000:]}")
    version = next(line.split()[1] for line in done.stdout.splitlines()
                   if line.startswith("TF_VERSION "))
    return result_of(done.stdout), version


def main() -> None:
    golden, version, chosen = {}, None, programs()
    if "--only" in sys.argv:
        names = sys.argv[sys.argv.index("--only") + 1].split(",")
        chosen = [p for p in chosen if p.stem in names]
        unknown = set(names) - {p.stem for p in chosen}
        if unknown:
            raise SystemExit(f"no programs named {sorted(unknown)} in {PROGRAMS}")
        committed = json.loads(OUT.read_text())
        golden, version = dict(committed["programs"]), committed["tensorflow"]
    for path in chosen:
        result, ran_on = run_on_tensorflow(path)
        if version is not None and ran_on != version:
            raise SystemExit(f"TensorFlow {ran_on} here, the golden file has {version}: "
                             f"re-record every program instead of --only")
        golden[path.stem], version = result, ran_on
        print(path.stem, golden[path.stem], flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"tensorflow": version, "programs": golden}, indent=1,
                              sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
