"""Checkpoint files on disk: atomic writes, the state file, load_checkpoint/list_variables."""

import os
import shutil

import ckpt_golden as golden
import numpy as np
import pytest

from flow import dtypes, errors
from flow.checkpoint import reader, storage

pytestmark = pytest.mark.integration


def _copy(prefix, tmp_path):
    """Copy a golden checkpoint's directory into tmp_path; return the new prefix."""
    src = golden.ROOT / prefix.split("/")[0]
    dst = tmp_path / src.name
    shutil.copytree(src, dst)
    return str(dst / prefix.split("/")[1])


def test_write_bundle_leaves_only_the_two_files(tmp_path):
    prefix = str(tmp_path / "m")
    storage.write_bundle(prefix, {"a": np.arange(3, dtype=np.float32)})
    assert sorted(os.listdir(tmp_path)) == ["m.data-00000-of-00001", "m.index"]
    assert (tmp_path / "m.index").read_bytes()[:9] == bytes.fromhex("000006" "08011a020801")


def test_atomic_write_failure_leaves_nothing_behind(tmp_path):
    target = tmp_path / "no_such_dir" / "f"
    with pytest.raises(FileNotFoundError):
        storage.atomic_write(target, b"x")
    storage.atomic_write(tmp_path / "f", b"old")
    storage.atomic_write(tmp_path / "f", b"new")
    assert os.listdir(tmp_path) == ["f"] and (tmp_path / "f").read_bytes() == b"new"


def test_state_file_is_tensorflow_text_format_with_relative_paths(tmp_path):
    storage.write_state(str(tmp_path), str(tmp_path / "model.ckpt-2"),
                        [str(tmp_path / "model.ckpt-1"), str(tmp_path / "model.ckpt-2")])
    assert (tmp_path / "checkpoint").read_text() == (
        'model_checkpoint_path: "model.ckpt-2"\n'
        'all_model_checkpoint_paths: "model.ckpt-1"\n'
        'all_model_checkpoint_paths: "model.ckpt-2"\n')
    state = storage.read_state(str(tmp_path))
    assert state.model_checkpoint_path == str(tmp_path / "model.ckpt-2")
    assert list(state.all_model_checkpoint_paths)[0] == str(tmp_path / "model.ckpt-1")


def test_latest_checkpoint_of_tensorflow_directory(tmp_path):
    prefix = _copy("mlp/model.ckpt-2", tmp_path)
    assert storage.latest_checkpoint(os.path.dirname(prefix)) == prefix
    os.remove(prefix + ".index")
    assert storage.latest_checkpoint(os.path.dirname(prefix)) is None


def test_latest_checkpoint_none_cases(tmp_path):
    assert storage.latest_checkpoint(str(tmp_path)) is None
    (tmp_path / "checkpoint").write_text("this is { not text format")
    assert storage.latest_checkpoint(str(tmp_path)) is None
    (tmp_path / "checkpoint").write_text('all_model_checkpoint_paths: "x"\n')
    with pytest.raises(ValueError, match="Invalid checkpoint state loaded from"):
        storage.latest_checkpoint(str(tmp_path))


@pytest.mark.parametrize("prefix", golden.PREFIXES)
def test_load_checkpoint_reads_tensorflow_values_exactly(prefix):
    ckpt = reader.load_checkpoint(golden.path(prefix))
    expected = golden.tensors(prefix)
    shapes = ckpt.get_variable_to_shape_map()
    assert shapes == {k: list(v.shape) for k, v in expected.items()}
    for name, want in expected.items():
        got = ckpt.get_tensor(name)
        assert ckpt.has_tensor(name)
        assert golden.same(np.asarray(got, dtype=want.dtype), want), name
        assert ckpt.get_variable_to_dtype_map()[name] == dtypes.as_dtype(want.dtype)


def test_scalars_come_back_as_numpy_scalars_and_bytes():
    ckpt = reader.load_checkpoint(golden.path("dtypes/model.ckpt"))
    assert type(ckpt.get_tensor("scalars/f32")) is np.float32
    assert ckpt.get_tensor("scalars/s") == b"just one string"
    assert ckpt.get_variable_to_dtype_map()["s"] == dtypes.string


def test_list_variables_of_a_directory():
    listed = reader.list_variables(str(golden.ROOT / "mlp"))
    assert listed[:3] == [("beta1_power", []), ("beta2_power", []), ("global_step", [])]
    assert ("layer1/weights/Adam_1", [4, 3]) in listed


def test_missing_key_names_key_checkpoint_and_closest_keys():
    ckpt = reader.load_checkpoint(golden.path("mlp/model.ckpt-2"))
    with pytest.raises(errors.NotFoundError) as info:
        ckpt.get_tensor("layer1/weight")
    msg = str(info.value)
    assert "Key layer1/weight not found in checkpoint" in msg
    assert golden.path("mlp/model.ckpt-2") in msg
    assert "Closest keys in the checkpoint: layer1/weights" in msg


def test_missing_checkpoint_names_the_file(tmp_path):
    with pytest.raises(errors.NotFoundError, match="Failed to find any matching files for"):
        reader.load_checkpoint(str(tmp_path / "nope"))
    with pytest.raises(errors.NotFoundError, match="pass the prefix .*without '.index'"):
        reader.load_checkpoint(golden.path("blog/model.ckpt") + ".index")
    with pytest.raises(ValueError, match="Couldn't find 'checkpoint' file"):
        reader.load_checkpoint(str(tmp_path))


def test_truncated_index_names_the_file(tmp_path):
    prefix = _copy("blog/model.ckpt", tmp_path)
    raw = open(prefix + ".index", "rb").read()
    open(prefix + ".index", "wb").write(raw[:-10])
    with pytest.raises(errors.DataLossError, match=r"model\.ckpt\.index.*truncated"):
        reader.load_checkpoint(prefix)


def test_truncated_data_file_names_file_and_tensor(tmp_path):
    prefix = _copy("blog/model.ckpt", tmp_path)
    data = prefix + ".data-00000-of-00001"
    open(data, "wb").write(open(data, "rb").read()[:30])
    ckpt = reader.load_checkpoint(prefix)
    with pytest.raises(errors.DataLossError, match=r"'v2' needs bytes.*data-00000-of-00001.*truncated"):
        ckpt.get_tensor("v2")
    os.remove(data)
    with pytest.raises(errors.NotFoundError, match="data-00000-of-00001.*needed for tensor 'v1'"):
        ckpt.get_tensor("v1")


def test_corrupt_data_names_the_tensor(tmp_path):
    prefix = _copy("mlp/model.ckpt-2", tmp_path)
    ckpt = reader.load_checkpoint(prefix)
    data = prefix + ".data-00000-of-00001"
    raw = bytearray(open(data, "rb").read())
    entry = ckpt._bundle.entries["layer2/biases"]
    raw[entry.offset] ^= 0xFF
    open(data, "wb").write(bytes(raw))
    with pytest.raises(errors.DataLossError, match="'layer2/biases': checksum mismatch"):
        ckpt.get_tensor("layer2/biases")


def test_delete_bundle_removes_all_files(tmp_path):
    prefix = _copy("blog/model.ckpt", tmp_path)
    storage.delete_bundle(prefix)
    assert os.listdir(os.path.dirname(prefix)) == ["checkpoint"]
