"""Coverage-guided fuzzing of the record reader and the event normaliser with atheris.

    .venv/bin/python tests/reliability/fuzz_atheris.py [CORPUS_DIR] -atheris_runs=1000000

(``pip install atheris``; libFuzzer flags such as ``-max_len``, ``-seed``, ``-max_total_time``
apply.) The first input byte picks the target:

- 0: ``writer.record.decode_records`` over the raw bytes, then every record through
  ``parse_event`` and ``normalize``;
- 1: ``parse_event`` + ``normalize`` (+ ``image_bytes`` for image items) over the raw bytes;
- 2: the raw bytes framed as one valid TFRecord, then as 0.

Only ``RecordError`` and ``EventParseError`` may escape the code under test; anything else is
a crash that libFuzzer reports with the input that caused it.
``tests/reliability/test_fuzz_atheris.py`` runs this for a bounded number of inputs.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

with atheris.instrument_imports():
    import google_crc32c

    from writer import events
    from writer.record import RecordError, decode_records


def _frame(payload: bytes) -> bytes:
    def masked(data: bytes) -> int:
        crc = google_crc32c.value(data)
        return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF

    header = struct.pack("<Q", len(payload))
    return header + struct.pack("<I", masked(header)) + payload + struct.pack(
        "<I", masked(payload))


def _event(payload: bytes) -> None:
    try:
        ev = events.parse_event(payload)
        items = events.normalize(ev)
    except events.EventParseError:
        return
    for item in items:
        if type(item).__name__ == "ImageItem":
            events.image_bytes(ev, item.value_index, item.index)


def _records(buf: bytes) -> None:
    try:
        dec = decode_records(buf)
    except RecordError:
        return
    for rec in dec.records:
        _event(rec.data)


def test_one_input(data: bytes) -> None:
    if not data:
        return
    mode, rest = data[0] % 3, data[1:]
    if mode == 0:
        _records(rest)
    elif mode == 1:
        _event(rest)
    else:
        _records(_frame(rest))


def seed_corpus(directory: Path) -> None:
    """Valid events of every kind the normaliser reads, as mode-1 inputs."""
    from writer.proto import event_pb2

    directory.mkdir(parents=True, exist_ok=True)
    seeds = []
    ev = event_pb2.Event(wall_time=1.0, step=1)
    ev.summary.value.add(tag="loss", simple_value=0.5)
    seeds.append(ev)
    ev = event_pb2.Event(wall_time=1.0, step=2)
    v = ev.summary.value.add(tag="acc")
    v.metadata.plugin_data.plugin_name = "scalars"
    v.tensor.dtype = 1
    v.tensor.float_val.append(0.25)
    seeds.append(ev)
    ev = event_pb2.Event(wall_time=1.0, step=3)
    v = ev.summary.value.add(tag="img")
    v.metadata.plugin_data.plugin_name = "images"
    v.tensor.dtype = 7
    v.tensor.string_val.extend([b"2", b"2", b"\x89PNG\r\n\x1a\n"])
    seeds.append(ev)
    ev = event_pb2.Event(wall_time=1.0, step=4)
    v = ev.summary.value.add(tag="h")
    v.metadata.plugin_data.plugin_name = "histograms"
    v.tensor.dtype = 2
    v.tensor.tensor_shape.dim.add(size=1)
    v.tensor.tensor_shape.dim.add(size=3)
    v.tensor.double_val.extend([0.0, 1.0, 5.0])
    seeds.append(ev)
    seeds.append(event_pb2.Event(wall_time=1.0, file_version="brain.Event:2"))
    for i, ev in enumerate(seeds):
        (directory / f"seed{i}").write_bytes(b"\x01" + ev.SerializeToString())
        (directory / f"seed{i}-framed").write_bytes(b"\x00" + _frame(ev.SerializeToString()))


def main() -> None:
    for arg in sys.argv[1:]:
        if not arg.startswith("-"):
            seed_corpus(Path(arg))
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
