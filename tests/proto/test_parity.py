"""Our protos against TensorBoard's copies of TensorFlow's: same fields, same bytes.

For every message that TensorBoard also ships, the descriptors must agree field by field
(name, number, type, repeated-ness, referenced type name), and a fully populated message must
survive ours → theirs → ours with identical bytes. Both sets import in one process.
"""

import importlib

import pytest
from google.protobuf import descriptor as D

pytestmark = pytest.mark.compat

OURS = [
    "types", "tensor_shape", "resource_handle", "tensor", "histogram", "summary", "event",
    "attr_value", "versions", "node_def", "op_def", "function", "graph", "saver", "variable",
    "meta_graph", "allocation_description", "tensor_description", "step_stats", "config",
]
PLUGINS = {  # our plugin_data message -> TensorBoard module holding it
    "ScalarPluginData": "tensorboard.plugins.scalar.plugin_data_pb2",
    "ImagePluginData": "tensorboard.plugins.image.plugin_data_pb2",
    "HistogramPluginData": "tensorboard.plugins.histogram.plugin_data_pb2",
    "TextPluginData": "tensorboard.plugins.text.plugin_data_pb2",
}
HPARAMS = {  # our hparams module -> TensorBoard's (every message of ours has a twin there)
    "hparams_api": "tensorboard.plugins.hparams.api_pb2",
    "hparams_plugin_data": "tensorboard.plugins.hparams.plugin_data_pb2",
}
# Fields we leave out on purpose (each pulls in a large tree of messages numboard never reads).
OMITTED = {
    ("NodeDef", "experimental_type"),
    ("OpDef.ArgDef", "experimental_full_type"),
    ("GraphDef", "debug_info"),
    ("MetaGraphDef", "object_graph_def"),
    ("TensorInfo.CompositeTensor", "type_spec"),
    ("RunOptions", "debug_options"),
    ("RunMetadata", "cost_graph"),
}


def _local(full_name):
    return full_name.split(".", 1)[1]


def _pairs():
    for mod in OURS:
        ours = importlib.import_module(f"writer.proto.{mod}_pb2")
        theirs = importlib.import_module(f"tensorboard.compat.proto.{mod}_pb2")
        for name in ours.DESCRIPTOR.message_types_by_name:
            yield getattr(ours, name), getattr(theirs, name)
    ours = importlib.import_module("writer.proto.plugin_data_pb2")
    for name, tb_mod in PLUGINS.items():
        yield getattr(ours, name), getattr(importlib.import_module(tb_mod), name)
    for mod, tb_mod in HPARAMS.items():
        ours, theirs = importlib.import_module(f"writer.proto.{mod}_pb2"), importlib.import_module(tb_mod)
        for name in ours.DESCRIPTOR.message_types_by_name:
            yield getattr(ours, name), getattr(theirs, name)


PAIRS = list(_pairs())
IDS = [o.DESCRIPTOR.full_name for o, _ in PAIRS]


def _field_sig(f):
    ref = f.message_type or f.enum_type
    return (f.name, f.number, f.type, f.is_repeated, _local(ref.full_name) if ref else None)


def _compare(ours, theirs):
    assert ours.name == theirs.name
    where = _local(ours.full_name)
    for tf in theirs.fields:
        if (where, tf.name) in OMITTED:
            assert tf.name not in ours.fields_by_name
            continue
        assert tf.name in ours.fields_by_name, f"{where}.{tf.name} missing"
        assert _field_sig(ours.fields_by_name[tf.name]) == _field_sig(tf), f"{where}.{tf.name}"
    extra = set(ours.fields_by_name) - set(theirs.fields_by_name)
    assert not extra, f"{where} has fields TensorBoard lacks: {extra}"
    for e in theirs.enum_types:
        ours_e = ours.enum_types_by_name[e.name]
        assert [(v.name, v.number) for v in ours_e.values] == [(v.name, v.number) for v in e.values]
    for n in theirs.nested_types:
        _compare(ours.nested_types_by_name[n.name], n)


@pytest.mark.parametrize("pair", PAIRS, ids=IDS)
def test_descriptor_parity(pair):
    ours, theirs = pair
    _compare(ours.DESCRIPTOR, theirs.DESCRIPTOR)


def test_enum_parity():
    from tensorboard.compat.proto import summary_pb2 as tb_summary
    from tensorboard.compat.proto import types_pb2 as tb_types
    from tensorboard.plugins.hparams import api_pb2 as tb_hparams

    from writer.proto import hparams_api_pb2, summary_pb2, types_pb2

    for ours, theirs in [(types_pb2.DataType, tb_types.DataType),
                         (summary_pb2.DataClass, tb_summary.DataClass),
                         (hparams_api_pb2.DataType, tb_hparams.DataType),
                         (hparams_api_pb2.DatasetType, tb_hparams.DatasetType),
                         (hparams_api_pb2.Status, tb_hparams.Status)]:
        assert dict(ours.items()) == dict(theirs.items())


_SCALARS = {
    D.FieldDescriptor.TYPE_DOUBLE: -2.5, D.FieldDescriptor.TYPE_FLOAT: 1.5,
    D.FieldDescriptor.TYPE_INT64: -(2**40), D.FieldDescriptor.TYPE_UINT64: 2**63 + 5,
    D.FieldDescriptor.TYPE_INT32: -7, D.FieldDescriptor.TYPE_FIXED64: 2**50,
    D.FieldDescriptor.TYPE_FIXED32: 0xDEADBEEF, D.FieldDescriptor.TYPE_BOOL: True,
    D.FieldDescriptor.TYPE_STRING: "tag/é", D.FieldDescriptor.TYPE_BYTES: b"\x00\xffpng",
    D.FieldDescriptor.TYPE_UINT32: 4000000000, D.FieldDescriptor.TYPE_SINT32: -3,
    D.FieldDescriptor.TYPE_SINT64: -(2**33), D.FieldDescriptor.TYPE_SFIXED32: -9,
    D.FieldDescriptor.TYPE_SFIXED64: -(2**45),
}


def _value(f):
    if f.type == D.FieldDescriptor.TYPE_ENUM:
        return f.enum_type.values[-1].number
    return _SCALARS[f.type]


def populate(msg, choice=0, depth=0):
    """Set every field (one member per oneof, picked by `choice`), nesting up to depth 3."""
    desc = msg.DESCRIPTOR
    for f in desc.fields:
        oneof = f.containing_oneof
        if oneof is not None and len(oneof.fields) > 1:
            if oneof.fields[choice % len(oneof.fields)] is not f:
                continue
        if f.message_type is not None and f.message_type.GetOptions().map_entry:
            key_f, val_f = f.message_type.fields_by_name["key"], f.message_type.fields_by_name["value"]
            target = getattr(msg, f.name)
            if val_f.message_type is not None:
                if depth < 3:
                    populate(target[_value(key_f)], choice, depth + 1)
            else:
                target[_value(key_f)] = _value(val_f)
        elif f.message_type is not None:
            if depth >= 3 or f.message_type.full_name == "google.protobuf.Any":
                continue
            sub = getattr(msg, f.name).add() if f.is_repeated else getattr(msg, f.name)
            populate(sub, choice, depth + 1)
            if not f.is_repeated:
                sub.SetInParent()
        elif f.is_repeated:
            getattr(msg, f.name).extend([_value(f), _value(f)])
        else:
            setattr(msg, f.name, _value(f))
    return msg


@pytest.mark.parametrize("pair", PAIRS, ids=IDS)
def test_round_trip_through_tensorboard(pair):
    ours, theirs = pair
    widest = max([len(o.fields) for o in ours.DESCRIPTOR.oneofs] or [1])
    for choice in range(widest):
        original = populate(ours(), choice)
        wire = original.SerializeToString(deterministic=True)
        assert wire, "a populated message serializes to something"
        parsed = theirs.FromString(wire)
        back = parsed.SerializeToString(deterministic=True)
        assert back == wire
        assert ours.FromString(back) == original


def test_both_packages_share_one_process():
    from tensorboard.compat.proto import event_pb2 as tb_event

    from writer.proto import event_pb2

    assert event_pb2.Event.DESCRIPTOR.full_name == "numboard.Event"
    assert tb_event.Event.DESCRIPTOR.full_name == "tensorboard.Event"
    assert event_pb2.Event.DESCRIPTOR.file.pool is tb_event.Event.DESCRIPTOR.file.pool
