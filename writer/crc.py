"""CRC-32C (Castagnoli) and TensorFlow's CRC masking.

Format: formats.md §1.1-§1.2 (TF ``crc32c.h``, LevelDB ``util/crc32c.h``). Every CRC that
TensorFlow *stores* (TFRecord headers and footers, checkpoint entries) is masked:
``mask(c) = rotr32(c, 15) + 0xA282EAD8``.

One checksum at a time comes from the ``google-crc32c`` C extension (hardware CRC32 where the
CPU has it); a pure-Python fallback would be two orders of magnitude slower on the write and
read paths, so its absence is an import error rather than a silent slowdown.

Many short checksums at once (every record of an event file) come from :func:`crc32c_rows`,
table-driven over numpy arrays: one Python call per distinct payload length instead of one per
record, and no Python object per record.
"""

from __future__ import annotations

import threading

import google_crc32c
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

if google_crc32c.implementation != "c":  # pragma: no cover - depends on the installed wheel
    raise ImportError(
        "google-crc32c is installed without its C extension; numboard needs it for event files. "
        "Reinstall it from a wheel: pip install --force-reinstall google-crc32c"
    )

MASK_DELTA = 0xA282EAD8
_U32 = 0xFFFFFFFF
_POLY = 0x82F63B78  # CRC-32C, bit-reflected

crc32c = google_crc32c.value
"""``crc32c(data: bytes) -> int``: the standard CRC-32C of ``data`` (C extension)."""


def mask(crc):
    """Mask a CRC the way TensorFlow stores it: rotate right by 15 bits, add 0xA282EAD8.

    Works on a Python int and, element-wise, on a numpy ``uint32`` array.
    """
    return (((crc >> 15) | (crc << 17)) + MASK_DELTA) & _U32


def unmask(masked: int) -> int:
    """Invert :func:`mask`."""
    rot = (masked - MASK_DELTA) & _U32
    return ((rot >> 17) | (rot << 15)) & _U32


def masked_crc32c(data: bytes) -> int:
    """``mask(crc32c(data))``: the value TFRecord stores after a length or a payload."""
    return mask(crc32c(data))


# -- many checksums at once --------------------------------------------------------------
#
# CRC-32C is linear over GF(2) once its initial value is accounted for. With ``byte_table`` the
# classic one-byte table, a byte b followed by k zero bytes contributes ``suffix[k][b]`` to the
# register, where ``suffix[0] = byte_table`` and ``suffix[k] = zero_byte(suffix[k - 1])``; the
# initial all-ones register contributes ``seed[n] = zero_byte^n(0xFFFFFFFF)`` to an n-byte
# message. So ``crc32c(m) = ~(seed[n] ^ XOR_j suffix[n - 1 - j][m[j]])``: for a set of
# messages of one length, n gathers and XORs over whole columns.


def _byte_table() -> np.ndarray:
    crc = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        crc = np.where(crc & 1, (crc >> 1) ^ np.uint32(_POLY), crc >> 1).astype(np.uint32)
    return crc


_BYTE_TABLE = _byte_table()


def _zero_byte(reg: np.ndarray) -> np.ndarray:
    """The register after one more 0x00 byte (element-wise)."""
    return _BYTE_TABLE[reg & 0xFF] ^ (reg >> 8)


class _Tables:
    """``suffix`` and ``seed`` for messages up to ``len(seed) - 1`` bytes, grown on demand.

    Readers take ``current`` (one tuple, replaced whole) so a table grown by another thread
    is never seen half-built; growth itself is serialised by a lock.
    """

    def __init__(self) -> None:
        seed = np.array([_U32, _zero_byte(np.array([_U32], np.uint32))[0]], np.uint32)
        self.current = (_BYTE_TABLE[None, :].copy(), seed)
        self._lock = threading.Lock()

    def upto(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(suffix, seed) covering messages of ``n`` bytes."""
        current = self.current
        if n < len(current[1]):
            return current
        with self._lock:
            old_suffix, old_seed = self.current
            have = len(old_seed) - 1
            if n <= have:
                return self.current
            size = max(n, 2 * have)
            suffix = np.empty((size, 256), np.uint32)
            suffix[:have] = old_suffix
            seed = np.empty(size + 1, np.uint32)
            seed[: have + 1] = old_seed
            for k in range(have, size):
                suffix[k] = _zero_byte(suffix[k - 1])
                seed[k + 1] = _zero_byte(seed[k : k + 1])[0]
            self.current = (suffix, seed)
            return self.current


_TABLES = _Tables()
def crc32c_u64(values: np.ndarray) -> np.ndarray:
    """``crc32c`` of each value's 8 little-endian bytes (a TFRecord length field), element-wise,
    for values below 2**32 (the four high bytes are zero and contribute nothing)."""
    suffix, seed = _TABLES.upto(8)
    reg = np.full(len(values), seed[8], np.uint32)
    for j in range(4):
        reg ^= suffix[7 - j][(values >> (8 * j)) & 0xFF]
    return ~reg


ROWS_MAX_LEN = 4096  # longer messages go to the C extension one by one
_PASS_BYTES = 4 << 20  # bytes of messages copied into columns per pass


def crc32c_rows(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``crc32c(buf[s:s + n])`` for every (s, n) pair, as a ``uint32`` array.

    ``buf`` is a 1-D ``uint8`` array. Messages of one length are checksummed together, a
    column at a time; messages longer than ``ROWS_MAX_LEN`` (rare: images, graphs) go to the C
    extension. Messages must lie inside ``buf``.
    """
    starts = np.asarray(starts, np.int64)
    lengths = np.asarray(lengths, np.int64)
    out = np.empty(len(starts), np.uint32)
    if len(starts) == 0:
        return out
    order = np.argsort(lengths, kind="stable")
    sorted_len = lengths[order]
    cuts = np.flatnonzero(sorted_len[1:] != sorted_len[:-1]) + 1
    for group in np.split(order, cuts):
        n = int(lengths[group[0]])
        if n > ROWS_MAX_LEN:
            for i in group.tolist():
                s = int(starts[i])
                out[i] = crc32c(buf[s : s + n].tobytes())
            continue
        suffix, seed = _TABLES.upto(n)
        windows = sliding_window_view(buf, n) if n else None
        rows = max(1, _PASS_BYTES // max(n, 1))
        for lo in range(0, len(group), rows):
            part = group[lo : lo + rows]
            reg = np.full(len(part), seed[n], np.uint32)
            if n:
                # the messages as columns: one row gather, then a table lookup per column
                cols = np.ascontiguousarray(windows[starts[part]].T)
                looked = np.empty(len(part), np.uint32)
                for j in range(n):
                    np.take(suffix[n - 1 - j], cols[j], out=looked)
                    reg ^= looked
            out[part] = ~reg
    return out
