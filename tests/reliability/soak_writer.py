"""A training-like writer process for the soak test (run as a script, not collected).

    python soak_writer.py LOGDIR FIRST_STEP N_STEPS TAGS FLUSH_EVERY PAUSE MODE LEDGER [EXTRA
                          [OFFSET]]

Writes, for each step, one scalar per tag (``value = step + 0.25 * tag_index + OFFSET``,
exact in float32) with ``writer.SummaryWriter``; every FLUSH_EVERY steps it calls ``flush()``
and only then appends ``flushed <step>`` to LEDGER (fsynced), so the ledger never claims more
than the writer guaranteed. MODE ``close`` ends with ``close()``; MODE ``crash`` then writes
EXTRA more steps without flushing and dies with ``os._exit(3)`` (no close, no atexit); MODE
``restart`` first writes ``SessionLog.START`` at FIRST_STEP (a job resumed from a checkpoint,
as TF's supervisor does), then behaves as ``close``.
"""

from __future__ import annotations

import os
import sys
import time

from writer import SummaryWriter
from writer.proto import event_pb2


def note(ledger, line: str) -> None:
    ledger.write(line + "\n")
    ledger.flush()
    os.fsync(ledger.fileno())


def main(argv: list[str]) -> None:
    logdir, first, n, tags, flush_every, pause, mode, ledger_path = argv[:8]
    extra = int(argv[8]) if len(argv) > 8 else 0
    offset = float(argv[9]) if len(argv) > 9 else 0.0
    first, n, flush_every, pause = int(first), int(n), int(flush_every), float(pause)
    tags = tags.split(",")
    with open(ledger_path, "a") as ledger:
        w = SummaryWriter(logdir, max_queue=50, flush_secs=3600)
        note(ledger, f"file {w.path}")
        if mode == "restart":
            w.add_event(event_pb2.Event(step=first, wall_time=time.time(),
                                        session_log=event_pb2.SessionLog(status=1)))
        for step in range(first, first + n):
            for k, tag in enumerate(tags):
                w.add_scalar(tag, step + 0.25 * k + offset, step)
            if (step - first + 1) % flush_every == 0 or step == first + n - 1:
                w.flush()
                note(ledger, f"flushed {step}")
                if pause:
                    time.sleep(pause)
        if mode in ("close", "restart"):
            w.close()
            note(ledger, "closed")
            return
        for step in range(first + n, first + n + extra):
            for k, tag in enumerate(tags):
                w.add_scalar(tag, step + 0.25 * k + offset, step)
        note(ledger, "crashing")
        os._exit(3)


if __name__ == "__main__":
    main(sys.argv[1:])
