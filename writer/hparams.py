"""The hparams plugin's summaries: pure builders and the decoder (TensorBoard's hparams plugin).

A value under plugin ``"hparams"`` carries its data in ``SummaryMetadata.plugin_data.content``:
a serialized ``HParamsPluginData`` (``writer/proto/hparams_plugin_data.proto``, version 0)
holding one of an ``Experiment`` (the hyperparameters and metrics of a study), a
``SessionStartInfo`` (one session's hyperparameter values) or a ``SessionEndInfo`` (its
status). The tags are fixed (:data:`EXPERIMENT_TAG`, ...). Writers differ in the tensor
beside it: torch and tensorboardX set none, TF2 a placeholder; readers ignore it.

- :func:`summaries` builds the three Summary protos of one session, the way
  ``torch.utils.tensorboard``'s ``hparams()`` does (its argument rules, its type mapping).
- :func:`decode` turns plugin content into an :class:`HParamsData` of plain Python values,
  or raises :class:`HParamsDataError` saying what is wrong with it.
- :func:`infer_experiment` builds the experiment from sessions when a logdir has none, as
  TensorBoard's hparams backend does.

Nothing here does I/O.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

from google.protobuf import json_format, struct_pb2
from google.protobuf.message import DecodeError

from writer.proto import hparams_api_pb2 as api_pb2
from writer.proto import hparams_plugin_data_pb2 as data_pb2
from writer.proto import summary_pb2

__all__ = [
    "PLUGIN_NAME", "EXPERIMENT_TAG", "SESSION_START_INFO_TAG", "SESSION_END_INFO_TAG",
    "HParamsData", "HParamsDataError", "summaries", "decode", "infer_experiment",
    "experiment_dict", "session_of",
]

PLUGIN_NAME = "hparams"
PLUGIN_DATA_VERSION = 0
EXPERIMENT_TAG = "_hparams_/experiment"
SESSION_START_INFO_TAG = "_hparams_/session_start_info"
SESSION_END_INFO_TAG = "_hparams_/session_end_info"

STATUS_NAMES = {v: k.removeprefix("STATUS_").lower() for k, v in api_pb2.Status.items()}
_TYPE_NAMES = {v: k.removeprefix("DATA_TYPE_").lower() for k, v in api_pb2.DataType.items()}
_DATASET_NAMES = {v: k.removeprefix("DATASET_").lower() for k, v in api_pb2.DatasetType.items()}


class HParamsDataError(ValueError):
    """Plugin content that is not hparams data numboard can read."""


class HParamsData(NamedTuple):
    """One decoded hparams value. ``kind`` names which of the three it is; ``value`` is a
    plain dict (see :func:`experiment_dict`, :func:`decode`). ``notes`` say what was odd but
    still readable (an hparam whose value is a list, say)."""

    kind: str  # "experiment" | "session_start_info" | "session_end_info"
    value: dict
    notes: tuple[str, ...]


# -- building ----------------------------------------------------------------------------


def _summary(tag: str, data: data_pb2.HParamsPluginData) -> summary_pb2.Summary:
    metadata = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(
        plugin_name=PLUGIN_NAME, content=data.SerializeToString()))
    return summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, metadata=metadata)])


def _hparam_value(name: str, value) -> struct_pb2.Value:
    """bool → bool_value, str → string_value, a real number (or a one-element array) →
    number_value; anything else is a mistake that names the value."""
    if isinstance(value, bool):
        return struct_pb2.Value(bool_value=value)
    if isinstance(value, str):
        return struct_pb2.Value(string_value=value)
    if isinstance(value, numbers.Real):
        return struct_pb2.Value(number_value=float(value))
    if getattr(value, "size", None) == 1 or (callable(getattr(value, "numel", None))
                                             and value.numel() == 1):
        return _hparam_value(name, value.item())  # numpy or torch scalar
    raise TypeError(
        f"hyperparameter {name!r}: value must be a bool, str or real number (or a one-element "
        f"tensor), got {value!r} of type {type(value).__name__}; log lists or dicts as a str"
    )


def _type_of(value: struct_pb2.Value) -> int:
    kind = value.WhichOneof("kind")
    return {"number_value": api_pb2.DATA_TYPE_FLOAT64, "string_value": api_pb2.DATA_TYPE_STRING,
            "bool_value": api_pb2.DATA_TYPE_BOOL}.get(kind, api_pb2.DATA_TYPE_UNSET)


def _check_names(what: str, mapping) -> dict:
    if mapping is None:
        return {}
    if not isinstance(mapping, dict):
        raise TypeError(f"{what} must be a dict, got {type(mapping).__name__}")
    for key in mapping:
        if not isinstance(key, str) or not key:
            raise TypeError(f"{what} keys must be non-empty str, got {key!r}")
    return mapping


def summaries(hparam_dict: dict, metric_dict: dict | None = None,
              hparam_domain_discrete: dict | None = None
              ) -> tuple[summary_pb2.Summary, summary_pb2.Summary, summary_pb2.Summary]:
    """The experiment, session-start and session-end Summary protos of one session.

    ``hparam_dict`` maps names to bool/str/number values (``None`` values are left out, as
    torch does); ``metric_dict``'s keys become the experiment's metrics (its values are
    scalars the caller writes); ``hparam_domain_discrete`` gives an hparam's possible values.
    """
    hparam_dict = _check_names("hparam_dict", hparam_dict)
    metric_dict = _check_names("metric_dict", metric_dict)
    domains = _check_names("hparam_domain_discrete", hparam_domain_discrete)
    for name, choices in domains.items():
        if name not in hparam_dict:
            raise ValueError(f"hparam_domain_discrete names {name!r}, which is not in hparam_dict "
                             f"(its keys: {sorted(hparam_dict)})")
        if not isinstance(choices, (list, tuple)) or not choices:
            raise TypeError(f"hparam_domain_discrete[{name!r}] must be a non-empty list of the "
                            f"values {name!r} can take, got {choices!r}")
    start = data_pb2.SessionStartInfo()
    infos = []
    for name, value in hparam_dict.items():
        if value is None:
            continue
        proto_value = _hparam_value(name, value)
        start.hparams[name].CopyFrom(proto_value)
        info = api_pb2.HParamInfo(name=name, type=_type_of(proto_value))
        if name in domains:
            values = [_hparam_value(name, v) for v in domains[name]]
            if any(_type_of(v) != info.type for v in values):
                raise TypeError(f"hparam_domain_discrete[{name!r}] = {domains[name]!r} mixes "
                                f"types; its values must all be of the type of {value!r}")
            info.domain_discrete.values.extend(values)
        infos.append(info)
    metrics = [api_pb2.MetricInfo(name=api_pb2.MetricName(tag=tag)) for tag in metric_dict]
    experiment = api_pb2.Experiment(hparam_infos=infos, metric_infos=metrics)
    end = data_pb2.SessionEndInfo(status=api_pb2.STATUS_SUCCESS)
    return (
        _summary(EXPERIMENT_TAG, data_pb2.HParamsPluginData(experiment=experiment)),
        _summary(SESSION_START_INFO_TAG, data_pb2.HParamsPluginData(session_start_info=start)),
        _summary(SESSION_END_INFO_TAG, data_pb2.HParamsPluginData(session_end_info=end)),
    )


# -- reading -----------------------------------------------------------------------------


def _plain(name: str, value: struct_pb2.Value, notes: list) -> bool | str | float | None:
    """A Value as bool/str/float; other kinds (null, list, struct) become their text and a
    note, so the run still shows them."""
    kind = value.WhichOneof("kind")
    if kind == "number_value":
        return value.number_value
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return value.bool_value
    if kind is None or kind == "null_value":
        notes.append(f"hparam {name!r} has no value")
        return None
    try:
        text = json_format.MessageToJson(value, indent=None)
    except (ValueError, TypeError, RecursionError):  # e.g. NaN inside a list: not JSON
        text = str(value).replace("\n", " ")
    notes.append(f"hparam {name!r} holds a {kind.removesuffix('_value')}, shown as text")
    return text


def _domain(info: api_pb2.HParamInfo, notes: list) -> dict | None:
    which = info.WhichOneof("domain")
    if which == "domain_interval":
        return {"min": info.domain_interval.min_value, "max": info.domain_interval.max_value}
    if which == "domain_discrete":
        return {"values": [_plain(info.name, v, notes) for v in info.domain_discrete.values]}
    return None


def experiment_dict(experiment: api_pb2.Experiment, notes: list | None = None) -> dict:
    """An Experiment as plain data: hparams (name, type, domain, ...) and metrics (tag,
    group, ...), in the experiment's order."""
    notes = [] if notes is None else notes
    return {
        "name": experiment.name,
        "description": experiment.description,
        "time_created_secs": experiment.time_created_secs,
        "hparams": [{
            "name": h.name, "display_name": h.display_name, "description": h.description,
            "type": _TYPE_NAMES.get(h.type, "unset"), "domain": _domain(h, notes),
        } for h in experiment.hparam_infos],
        "metrics": [{
            "tag": m.name.tag, "group": m.name.group, "display_name": m.display_name,
            "description": m.description,
            "dataset_type": _DATASET_NAMES.get(m.dataset_type, "unknown"),
        } for m in experiment.metric_infos],
    }


def decode(content: bytes) -> HParamsData:
    """Plugin content → :class:`HParamsData`; raises :class:`HParamsDataError` for bytes
    that are not HParamsPluginData, a version other than 0, or no data in it."""
    try:
        data = data_pb2.HParamsPluginData.FromString(content)
    except (DecodeError, RecursionError, ValueError) as exc:
        raise HParamsDataError(f"hparams plugin data of {len(content)} bytes does not parse "
                               f"({exc})") from None
    if data.version != PLUGIN_DATA_VERSION:
        raise HParamsDataError(f"hparams plugin data version {data.version} is not supported "
                               f"(only version {PLUGIN_DATA_VERSION} exists)")
    kind = data.WhichOneof("data")
    notes: list[str] = []
    if kind == "experiment":
        value = experiment_dict(data.experiment, notes)
    elif kind == "session_start_info":
        start = data.session_start_info
        value = {"hparams": {k: _plain(k, start.hparams[k], notes) for k in sorted(start.hparams)},
                 "group_name": start.group_name, "model_uri": start.model_uri,
                 "start_time_secs": start.start_time_secs}
    elif kind == "session_end_info":
        end = data.session_end_info
        value = {"status": STATUS_NAMES.get(end.status, "unknown"),
                 "end_time_secs": end.end_time_secs}
    else:
        raise HParamsDataError("hparams plugin data holds no experiment or session info")
    return HParamsData(kind, value, tuple(notes))


def _type_name(value) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    if isinstance(value, float):
        return "float64"
    return None


def infer_experiment(sessions: dict[str, dict], metric_tags: dict[str, list[str]]) -> dict:
    """The experiment TensorBoard infers when no run holds one.

    ``sessions`` maps a session's run to its hparam values; ``metric_tags`` maps every run to
    its scalar tags. Each hparam's type is its values' common type (``string`` when they
    differ); strings and bools get the distinct values as a discrete domain, numbers an
    interval. The metrics are the scalar tags of each session's run and of the runs under
    it, with ``group`` the path below the session (``""`` for the session's own run).
    """
    values: dict[str, list] = {}
    for hparams in sessions.values():
        for name, value in hparams.items():
            values.setdefault(name, []).append(value)
    infos = []
    for name in sorted(values):
        kinds = {_type_name(v) for v in values[name]} - {None}
        if not kinds:
            continue
        kind = kinds.pop() if len(kinds) == 1 else "string"
        seen = values[name]
        if kind == "float64":
            numbers_ = [v for v in seen if isinstance(v, float)]
            domain = {"min": min(numbers_), "max": max(numbers_)}
        else:
            distinct = {(v if kind == "bool" else _as_text(v)) for v in seen if v is not None}
            domain = {"values": sorted(distinct, key=str)}
        infos.append({"name": name, "display_name": "", "description": "", "type": kind,
                      "domain": domain})
    metrics = set()
    for run, tags in metric_tags.items():
        session = session_of(run, sessions)
        if session is None:
            continue
        group = "" if run == session else run[len(session) + 1:] if session != "." else run
        metrics.update((tag, group) for tag in tags)
    return {"name": "", "description": "", "time_created_secs": 0.0, "hparams": infos,
            "metrics": [{"tag": tag, "group": group, "display_name": "", "description": "",
                         "dataset_type": "unknown"} for tag, group in sorted(metrics)]}


def _as_text(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def session_of(run: str, sessions) -> str | None:
    """The session ``run`` belongs to: itself, or its nearest ancestor that is a session."""
    path = run
    while True:
        if path in sessions:
            return path
        if path in ("", "."):
            return None
        path = path.rsplit("/", 1)[0] if "/" in path else "."
