"""CRC-32C (Castagnoli) and TensorFlow's CRC masking.

Format: formats.md §1.1-§1.2 (TF ``crc32c.h``, LevelDB ``util/crc32c.h``). Every CRC that
TensorFlow *stores* (TFRecord headers and footers, checkpoint entries) is masked:
``mask(c) = rotr32(c, 15) + 0xA282EAD8``.

The checksum itself comes from the ``google-crc32c`` C extension (hardware CRC32 where the CPU
has it); a pure-Python fallback would be two orders of magnitude slower on the write and read
paths, so its absence is an import error rather than a silent slowdown.
"""

from __future__ import annotations

import google_crc32c

if google_crc32c.implementation != "c":  # pragma: no cover - depends on the installed wheel
    raise ImportError(
        "google-crc32c is installed without its C extension; numboard needs it for event files. "
        "Reinstall it from a wheel: pip install --force-reinstall google-crc32c"
    )

MASK_DELTA = 0xA282EAD8
_U32 = 0xFFFFFFFF

crc32c = google_crc32c.value
"""``crc32c(data: bytes) -> int``: the standard CRC-32C of ``data`` (C extension)."""


def mask(crc: int) -> int:
    """Mask a CRC the way TensorFlow stores it: rotate right by 15 bits, add 0xA282EAD8."""
    return (((crc >> 15) | (crc << 17)) + MASK_DELTA) & _U32


def unmask(masked: int) -> int:
    """Invert :func:`mask`."""
    rot = (masked - MASK_DELTA) & _U32
    return ((rot >> 17) | (rot << 15)) & _U32


def masked_crc32c(data: bytes) -> int:
    """``mask(crc32c(data))``: the value TFRecord stores after a length or a payload."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + MASK_DELTA) & _U32
