"""Response helpers: compact JSON without FastAPI's per-item encoder, NaN-safe arrays."""

from __future__ import annotations

import re

import numpy as np
import orjson
from starlette.responses import Response

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def json_bytes(data) -> bytes:
    """Compact UTF-8 JSON with no NaN/Infinity tokens (orjson writes them as null, as
    `float_list` does). About 20x faster than json.dumps on a card's 20 series of floats."""
    return orjson.dumps(data, option=_ORJSON_OPTIONS)


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
