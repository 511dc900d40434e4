"""Store the text and hparams items of a batch (SPEC §5b); called by ingest.apply_batch.

Text: every step of every tag (TensorBoard keeps 100). HParams: the run's experiment and
session info (board.runs_table.RunHParams). What is wrong with the bytes in a file (text
that is not UTF-8, hparams data of an unknown version, an hparam value of an odd type)
becomes one line in the run's ``errors`` (shown by /api/runs), once per tag and problem;
the rest of the run is stored as usual.
"""

from __future__ import annotations

from writer.events import TextItem

from ..store import RunData, Store


def _note(data: RunData, message: str) -> None:
    if message not in data.errors:
        data.errors.append(message)


def apply_extras(store: Store, run: str, data: RunData, items: list) -> None:
    """Move TextItem / HParamsItem `items` into `data`. Caller holds the store lock."""
    text_steps: dict[str, int] = {}
    hparams_changed = False
    for item in items:
        if type(item) is TextItem:
            data.texts.setdefault(item.tag, {})[item.step] = item
            text_steps[item.tag] = max(item.step, text_steps.get(item.tag, item.step))
            if item.problem:
                _note(data, f"text {item.tag!r}: {item.problem}")
        elif item.problem:
            _note(data, f"{item.tag}: {item.problem}")
        else:
            data.hparams.apply(item.data)
            hparams_changed = True
            for message in item.data.notes:
                _note(data, f"{item.tag}: {message}")
    for tag, step in text_steps.items():
        store.note_change(run, "text", tag, step)
    if hparams_changed:
        store.note_change(run, "hparams", "", 0)
