"""SummaryWriter (SPEC §3): file naming, first record, events, errors, durability, threads."""

import math
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import textwrap
import threading
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import writer
from writer.event_file import EventFileError, read_records
from writer.events import FileVersionItem, ScalarItem, normalize, parse_event
from writer.proto import event_pb2, graph_pb2, summary_pb2
from writer.summary_writer import encode_scalar_event

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def events_of(path):
    dec = read_records(path)
    assert dec.error is None and dec.bad_crc == 0
    return [parse_event(r.data) for r in dec.records]


def scalars_of(path):
    return [i for e in events_of(path) for i in normalize(e) if isinstance(i, ScalarItem)]


def test_file_name_and_first_record(tmp_path):
    with writer.SummaryWriter(tmp_path / "run", filename_suffix=".v9") as w:
        name = os.path.basename(w.path)
        m = re.fullmatch(r"events\.out\.tfevents\.(\d{10})\.(.+)\.(\d+)\.(\d+)\.v9", name)
        assert m, name
        assert m.group(2) == socket.gethostname() and int(m.group(3)) == os.getpid()
        # The version record is on disk before anything else is written.
        first = events_of(w.path)
        assert len(first) == 1
        assert first[0].file_version == "brain.Event:2"
        assert normalize(first[0]) == [FileVersionItem("brain.Event:2")]
        assert abs(first[0].wall_time - int(m.group(1))) < 2
    other = writer.SummaryWriter(tmp_path / "run")
    assert other.path != w.path
    other.close()


def test_scalars_steps_values_including_nan_inf(tmp_path):
    values = [0.5, -1.25, float("nan"), float("inf"), float("-inf"), 1e39, 3, 2**70]
    with writer.SummaryWriter(tmp_path) as w:
        for step, v in enumerate(values):
            w.add_scalar("loss", v, step * 1000, walltime=100.0 + step)
        import numpy as np

        w.add_scalar("np", np.float64(0.25), np.int64(-5))
        w.add_scalar("np", np.array(7.0), 2**40)
    items = scalars_of(w.path)
    assert [(i.tag, i.step, i.wall_time) for i in items[:8]] == [
        ("loss", s * 1000, 100.0 + s) for s in range(8)
    ]
    got = [i.value for i in items[:8]]
    assert got[0] == 0.5 and got[1] == -1.25 and math.isnan(got[2])
    assert got[3] == got[5] == math.inf and got[4] == -math.inf  # 1e39 overflows float32
    assert got[6] == 3.0 and got[7] == float(struct.unpack("<f", struct.pack("<f", 2.0**70))[0])
    assert [(i.tag, i.step, i.value) for i in items[8:]] == [("np", -5, 0.25), ("np", 2**40, 7.0)]


@settings(max_examples=400, deadline=None)
@given(
    tag=st.text(min_size=1, max_size=200),
    value=st.floats(allow_nan=True, allow_infinity=True, width=64) | st.integers(-(2**80), 2**80),
    step=st.integers(-(2**63), 2**63 - 1),
    wall=st.floats(allow_nan=False, allow_infinity=False) | st.just(0.0) | st.just(-0.0),
)
def test_fast_path_bytes_equal_protobuf(tag, value, step, wall):
    try:
        tag.encode("utf-8")
    except UnicodeEncodeError:
        return  # lone surrogates cannot be a proto string either
    event = event_pb2.Event(wall_time=wall, step=step)
    event.summary.value.add(tag=tag, simple_value=value)
    assert encode_scalar_event(tag, value, step, wall) == event.SerializeToString()


def test_add_scalar_writes_the_fast_path_bytes(tmp_path):
    with writer.SummaryWriter(tmp_path) as w:
        w.add_scalar("a/b", 0.125, 300, walltime=12.5)
    data = read_records(w.path).records[1].data
    assert data == encode_scalar_event("a/b", 0.125, 300, 12.5)


def test_missing_step_is_step_zero_with_one_warning(tmp_path):
    with writer.SummaryWriter(tmp_path) as w:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            w.add_scalar("loss", 1.0)
            w.add_scalar("loss", 2.0)
            w.add_summary(writer.summary.scalar("acc", 0.5))
        assert len(caught) == 1
        msg = str(caught[0].message)
        assert "step 0" in msg and "vertical line" in msg and "global_step=" in msg
        assert caught[0].filename == __file__
    assert [(i.tag, i.step) for i in scalars_of(w.path)] == [("loss", 0), ("loss", 0), ("acc", 0)]


@pytest.mark.parametrize(
    "call",
    [
        lambda w: w.add_summary(writer.summary.scalar("s", 1.0)),
        lambda w: w.add_image("i", [[[0]]]),
        lambda w: w.add_images("i", [[[[0]]]]),
        lambda w: w.add_histogram("h", [1.0]),
    ],
)
def test_missing_step_warning_points_at_the_callers_line(tmp_path, call):
    with writer.SummaryWriter(tmp_path) as w:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call(w)
    assert len(caught) == 1 and caught[0].filename == __file__


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda w: w.add_scalar("loss", "high", 1), TypeError, ["'loss'", "'high'"]),
        (lambda w: w.add_scalar("loss", [1.0, 2.0], 1), ValueError, ["'loss'", "(2,)"]),
        (lambda w: w.add_scalar("loss", None, 1), TypeError, ["'loss'", "None"]),
        (lambda w: w.add_scalar("loss", 10**400, 1), ValueError, ["'loss'", "too large"]),
        (lambda w: w.add_scalar(7, 1.0, 1), TypeError, ["7"]),
        (lambda w: w.add_scalar("", 1.0, 1), TypeError, ["''"]),
        (lambda w: w.add_scalar("bad\udc80", 1.0, 1), ValueError, ["surrogate"]),
        (lambda w: w.add_scalar("loss", 1.0, 1.5), TypeError, ["1.5"]),
        (lambda w: w.add_scalar("loss", 1.0, 2**63), ValueError, [str(2**63)]),
        (lambda w: w.add_scalar("loss", 1.0, 1, walltime="now"), TypeError, ["'now'"]),
        (lambda w: w.add_summary(b"\xff\xff\xff", 1), ValueError, ["Summary"]),
        (lambda w: w.add_summary({"loss": 1}, 1), TypeError, ["dict"]),
        (lambda w: w.add_images("img", [[1, 2]], 1), ValueError, ["'img'"]),
        (lambda w: w.add_histogram("h", [1.0, float("nan")], 1), ValueError, ["'h'", "nan"]),
        (lambda w: w.add_graph(42), TypeError, ["int"]),
        (lambda w: w.add_scalar("both", 1.0, 1, global_step=2), TypeError, ["'both'", "not both"]),
        (lambda w: w.add_event(b"\xff"), ValueError, ["Event"]),
    ],
)
def test_bad_arguments_raise_clear_errors_and_write_nothing(tmp_path, call, error, words):
    with writer.SummaryWriter(tmp_path) as w:
        w.add_scalar("ok", 1.0, 0)
        with pytest.raises(error) as info:
            call(w)
        for word in words:
            assert word in str(info.value)
        w.flush()
        assert len(events_of(w.path)) == 2


def test_torch_style_keywords_and_order(tmp_path):
    import numpy as np

    with writer.SummaryWriter(tmp_path) as w:
        w.add_scalar("kw", 1.0, global_step=7)
        w.add_histogram("h", np.arange(10.0), 8, 5)  # torch order: (tag, values, step, bins)
        w.add_image("img", np.zeros((2, 2, 3), np.uint8), global_step=9)
        w.add_images("imgs", np.zeros((1, 2, 2, 3), np.uint8), global_step=10)
    items = [i for e in events_of(w.path) for i in normalize(e)]
    assert [(type(i).__name__, i.step) for i in items[1:]] == [
        ("ScalarItem", 7), ("HistogramItem", 8), ("ImageItem", 9), ("ImageItem", 10)
    ]
    assert len(items[2].bucket_counts) == 5


def test_closed_writer_refuses_events(tmp_path):
    w = writer.SummaryWriter(tmp_path)
    w.close()
    with pytest.raises(ValueError, match="closed"):
        w.add_scalar("late", 1.0, 1)


def test_unwritable_logdir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("")
    with pytest.raises(EventFileError, match="cannot create logdir"):
        writer.SummaryWriter(blocker / "run")


def test_flush_puts_everything_on_disk(tmp_path):
    w = writer.SummaryWriter(tmp_path, max_queue=10**6, flush_secs=3600)
    for i in range(1000):
        w.add_scalar("x", i, i)
    assert len(events_of(w.path)) < 1001  # buffered, not yet written
    w.flush()
    assert [i.step for i in scalars_of(w.path)] == list(range(1000))
    w.close()


def test_summary_proto_bytes_and_foreign_protos(tmp_path):
    from tensorboard.compat.proto import summary_pb2 as tb_summary_pb2

    foreign = tb_summary_pb2.Summary()
    foreign.value.add(tag="tb", simple_value=2.0)
    with writer.SummaryWriter(tmp_path) as w:
        w.add_summary(writer.summary.scalar("proto", 1.0), 1)
        w.add_summary(writer.summary.scalar("bytes", 1.5).SerializeToString(), global_step=2)
        w.add_summary(foreign, 3, walltime=5.0)
    assert [(i.tag, i.step, i.value) for i in scalars_of(w.path)] == [
        ("proto", 1, 1.0), ("bytes", 2, 1.5), ("tb", 3, 2.0)
    ]
    last = events_of(w.path)[-1]
    assert last.wall_time == 5.0


def test_graph_and_event(tmp_path):
    graph = graph_pb2.GraphDef()
    graph.node.add(name="x", op="Placeholder")

    class HasGraph:
        def as_graph_def(self):
            return graph

    with writer.SummaryWriter(tmp_path) as w:
        w.add_graph(graph)
        w.add_graph(HasGraph())
        w.add_graph(graph.SerializeToString(), global_step=4, walltime=2.5)
        w.add_event(event_pb2.Event(step=9, session_log=event_pb2.SessionLog(status=1)))
    events = events_of(w.path)
    assert [e.graph_def for e in events[1:4]] == [graph.SerializeToString()] * 3
    assert [e.step for e in events[1:4]] == [0, 0, 4] and events[3].wall_time == 2.5
    assert events[4].step == 9 and events[4].session_log.status == 1


def test_images_keep_the_last_max_images(tmp_path):
    import numpy as np

    batch = np.stack([np.full((2, 3, 1), 10 * i, np.uint8) for i in range(5)])
    with writer.SummaryWriter(tmp_path) as w:
        w.add_images("faces", batch, 4, max_images=3)
        w.add_image("one", batch[0], 5, dataformats="HWC")
    values = events_of(w.path)[1].summary.value
    assert [v.tag for v in values] == ["faces/image/0", "faces/image/1", "faces/image/2"]
    assert (values[0].image.height, values[0].image.width, values[0].image.colorspace) == (2, 3, 1)
    assert events_of(w.path)[2].summary.value[0].tag == "one"


def test_threads_every_event_exactly_once(tmp_path):
    w = writer.SummaryWriter(tmp_path, max_queue=7)
    n_threads, per_thread = 16, 2000
    start = threading.Barrier(n_threads)

    def work(t):
        start.wait()
        for i in range(per_thread):
            w.add_scalar(f"t{t}", float(i), i)
            if i % 500 == 0:
                w.flush()

    threads = [threading.Thread(target=work, args=(t,)) for t in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    w.flush()  # before close: flush alone must drain everything
    items = scalars_of(w.path)
    assert len(items) == n_threads * per_thread
    assert sorted((i.tag, i.step) for i in items) == sorted(
        (f"t{t}", i) for t in range(n_threads) for i in range(per_thread)
    )
    for t in range(n_threads):  # each thread's own events keep their order
        assert [i.step for i in items if i.tag == f"t{t}"] == list(range(per_thread))
    w.close()


def _child(code, tmp_path):
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(code))
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "logs")],
        stdout=subprocess.PIPE, env=env, text=True,
    )


def test_interpreter_exit_flushes(tmp_path):
    proc = _child(
        """
        import sys, writer
        w = writer.SummaryWriter(sys.argv[1], max_queue=10**6, flush_secs=3600)
        for i in range(2500):
            w.add_scalar("exit", i, i)
        print(w.path)
        """,
        tmp_path,
    )
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert [i.step for i in scalars_of(out.strip())] == list(range(2500))


def test_killed_process_leaves_only_whole_records(tmp_path):
    proc = _child(
        """
        import sys, writer
        w = writer.SummaryWriter(sys.argv[1], max_queue=3)
        print(w.path, flush=True)
        i = 0
        while True:
            w.add_scalar("kill", float(i), i)
            i += 1
            if i == 5000:
                w.flush()
                print("flushed", flush=True)
        """,
        tmp_path,
    )
    path = proc.stdout.readline().strip()
    assert proc.stdout.readline().strip() == "flushed"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    proc.stdout.close()
    dec = read_records(path)
    assert dec.error is None and dec.bad_crc == 0
    # At most a torn tail after the last whole record; every record is an intact event.
    assert os.path.getsize(path) - dec.offset < 64
    steps = [i.step for r in dec.records for i in normalize(parse_event(r.data)) if isinstance(i, ScalarItem)]
    assert len(steps) >= 5000 and steps == list(range(len(steps)))


def test_summary_module_exports():
    assert writer.summary.scalar("a", 1.0).value[0].simple_value == 1.0
    assert isinstance(writer.summary.scalar("a", 1), summary_pb2.Summary)


def test_writer_dropped_without_close_still_writes_everything(tmp_path):
    import gc

    w = writer.SummaryWriter(tmp_path, max_queue=10**6, flush_secs=3600)
    for i in range(300):
        w.add_scalar("dropped", i, i)
    path = w.path
    del w
    gc.collect()
    assert [i.step for i in scalars_of(path)] == list(range(300))
