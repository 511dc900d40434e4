"""Response helpers: compact JSON without FastAPI's per-item encoder, NaN-safe arrays."""

from __future__ import annotations

import json
import re

import numpy as np
from starlette.responses import Response

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def json_bytes(data) -> bytes:
    """Strict JSON (no NaN/Infinity tokens), compact, UTF-8."""
    return json.dumps(data, ensure_ascii=False, allow_nan=False,
                      separators=(",", ":")).encode("utf-8")


def json_response(data, status_code: int = 200, headers: dict | None = None) -> Response:
    """Serialize `data` once with json.dumps (FastAPI's per-item encoder is skipped)."""
    return Response(json_bytes(data), status_code=status_code, headers=headers,
                    media_type="application/json")


def float_list(values: np.ndarray) -> list:
    """`values` as a list of floats, with NaN and ±inf as None (JSON has no such numbers)."""
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    if finite.all():
        return values.tolist()
    out = values.astype(object)
    out[~finite] = None
    return out.tolist()


def attachment(filename: str) -> dict:
    """A Content-Disposition header for a download, with a file-system-safe name."""
    safe = _UNSAFE.sub("_", filename).strip("._") or "download"
    return {"Content-Disposition": f'attachment; filename="{safe}"'}
