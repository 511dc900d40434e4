"""The TensorFlow-written checkpoints in tests/data/tf_ckpt/ and their expected values.

Made by tests/data/make_tf_checkpoints.py (TensorFlow, run by hand); expected.json holds every
tensor's dtype, shape and exact values per checkpoint prefix.
"""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent / "data" / "tf_ckpt"
EXPECTED = json.loads((ROOT / "expected.json").read_text())
PREFIXES = ["mlp/model.ckpt-2", "dtypes/model.ckpt", "blog/model.ckpt", "renamed/model.ckpt"]


def array(desc: dict) -> np.ndarray:
    """The numpy array an expected.json entry describes (strings: object array of bytes)."""
    dtype, shape, values = desc["dtype"], desc["shape"], desc["values"]
    if dtype == "string":
        return np.array([base64.b64decode(v) for v in values] or [], dtype=object).reshape(shape)
    if dtype.startswith("complex"):
        return np.array([complex(*v) for v in values], dtype=dtype).reshape(shape)
    return np.array(values, dtype=dtype).reshape(shape)


def tensors(prefix: str) -> dict[str, np.ndarray]:
    return {name: array(desc) for name, desc in EXPECTED[prefix].items()}


def path(prefix: str) -> str:
    return str(ROOT / prefix)


def multiblock_keys() -> list[bytes]:
    return [(h + f * n).encode() for h, f, n in EXPECTED["multiblock/big"]["keys"]]


def multiblock_index() -> bytes:
    return gzip.decompress((ROOT / "multiblock" / "big.index.gz").read_bytes())


def same(a: np.ndarray, b: np.ndarray) -> bool:
    """Exactly equal: dtype, shape and every bit (NaN-safe, -0.0 distinct)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype == object:
        return [bytes(x) for x in a.flat] == [bytes(x) for x in b.flat]
    return a.tobytes() == b.tobytes()
