"""`tf.train.Saver`: TensorFlow 1.x checkpoints (V2 format) of a flow graph's variables.

Behaviour follows reference/tf1-semantics.md §7 (TF 1.15 `saver.py`); the files are those of
formats.md §8: `P.index`, `P.data-00000-of-00001`, `P.meta` (a serialized MetaGraphDef) and the
directory's `checkpoint` state file, so TensorFlow reads what this writes and the other way
round. Like TF, the Saver adds its ops to the graph under the name scope `save`
(`save/Const` the filename, `save/SaveV2`, `save/RestoreV2`, `save/Assign_N`,
`save/restore_all`); restoring runs `save/restore_all` with the RestoreV2 outputs fed.

Saving writes the data file, the index, the meta graph and then the state file, each to a
temporary name renamed into place: `latest_checkpoint` never names a half-written checkpoint.
"""

from __future__ import annotations

import os
import time

import numpy as np
from google.protobuf import text_format

from flow.checkpoint import bundle, meta_graph, reader, storage
from flow.checkpoint.reader import CheckpointReader, list_variables, load_checkpoint
from flow.checkpoint.storage import latest_checkpoint
from flow.core import dtypes, errors
from flow.core.tensor_shape import TensorShape
from flow.framework.graph import GraphKeys, get_default_graph
from writer.proto import saver_pb2
from writer.storage import is_url

__all__ = ["Saver", "latest_checkpoint", "load_checkpoint", "list_variables",
           "get_checkpoint_state", "checkpoint_exists", "CheckpointReader"]

_RESTORE_FAILED_KEY = (
    "Restoring from checkpoint failed. This is most likely due to a Variable name or other graph "
    "key that is missing from the checkpoint. Please ensure that you have not altered the graph "
    "expected based on the checkpoint. Original error:\n\n")
_RESTORE_FAILED_MISMATCH = (
    "Restoring from checkpoint failed. This is most likely due to a mismatch between the current "
    "graph and the graph from the checkpoint. Please ensure that you have not altered the graph "
    "expected based on the checkpoint. Original error:\n\n")


def get_checkpoint_state(checkpoint_dir, latest_filename=None):
    """`tf.train.get_checkpoint_state`: the CheckpointState proto, or None."""
    return storage.read_state(os.fspath(checkpoint_dir), latest_filename)


def checkpoint_exists(checkpoint_prefix) -> bool:
    """`tf.train.checkpoint_exists`: True if `P.index` (or a V1 file `P`) is there."""
    prefix = os.fspath(checkpoint_prefix)
    return storage.bundle_exists(prefix) or os.path.isfile(prefix)


def _is_variable(value) -> bool:
    return hasattr(value, "op") and getattr(value.op, "type", "") in ("VariableV2", "Variable")


def _var_list_to_dict(var_list) -> dict:
    """{checkpoint key: variable}, as TF's `op_list_to_dict`."""
    if isinstance(var_list, dict):
        items = list(var_list.items())
    elif isinstance(var_list, list | tuple | set):
        items = []
        for var in sorted(var_list, key=lambda v: getattr(v, "name", "")) \
                if isinstance(var_list, set) else var_list:
            if not _is_variable(var):
                raise TypeError(f"Saver var_list holds {var!r}, which is not a Variable; pass "
                                "variables (tf.global_variables() lists them)")
            items.append((var.op.name, var))
    else:
        raise TypeError(f"Variables to save should be passed in a dict or a list: {var_list!r}")
    out = {}
    for key, var in items:
        if isinstance(var, list | tuple):
            raise TypeError(f"Saver key {key!r} maps to a list; partitioned variables are not "
                            "supported, map each key to one Variable")
        if not _is_variable(var):
            raise TypeError(f"Saver key {key!r} maps to {var!r}, which is not a Variable")
        if key in out:
            raise ValueError(f"At least two variables have the same name: {key}")
        out[key] = var
    return out


class Saver:
    """Saves and restores variables (`tf.compat.v1.train.Saver`); V2 checkpoints only."""

    def __init__(self, var_list=None, reshape=False, sharded=False, max_to_keep=5,
                 keep_checkpoint_every_n_hours=10000.0, name=None, restore_sequentially=False,
                 saver_def=None, builder=None, defer_build=False, allow_empty=False,
                 write_version=saver_pb2.SaverDef.V2, pad_step_number=False,
                 save_relative_paths=False, filename=None):
        if write_version != saver_pb2.SaverDef.V2:
            raise ValueError(f"write_version={write_version!r}: only V2 checkpoints "
                             "(saver_pb2.SaverDef.V2, the default) are supported")
        if saver_def is not None:
            raise ValueError("Saver(saver_def=...) is not supported; build the Saver from "
                             "var_list")
        self._reshape = reshape
        self._max_to_keep = max_to_keep
        self._keep_hours = keep_checkpoint_every_n_hours
        self._pad_step_number = pad_step_number
        self._filename = filename
        self._name = name
        self._last_checkpoints: list[tuple[str, float]] = []
        self._next_keep_time = time.time() + keep_checkpoint_every_n_hours * 3600
        if var_list is None:
            graph = get_default_graph()
            var_list = graph.get_collection(GraphKeys.GLOBAL_VARIABLES) + \
                graph.get_collection(GraphKeys.SAVEABLE_OBJECTS)
        self._vars = _var_list_to_dict(var_list)
        if not self._vars and not allow_empty:
            raise ValueError("No variables to save")
        self.saver_def = None
        if self._vars:
            self._build()

    # -- graph ops -----------------------------------------------------------------
    def _build(self) -> None:
        graphs = {v.graph for v in self._vars.values()}
        if len(graphs) != 1:
            raise ValueError("Saver var_list mixes variables of different graphs; build the "
                             "Saver from variables of one graph")
        graph = graphs.pop()
        keys = sorted(self._vars, key=lambda k: k.encode())
        var_tensors = [self._vars[k].op.outputs[0] for k in keys]
        var_dtypes = [self._vars[k].dtype.base_dtype for k in keys]
        string = dtypes.string
        scalar = TensorShape([])

        def const(value, name):
            arr = np.array(value, dtype=object)
            return graph.create_op("Const", [], {"dtype": string, "value": arr}, name=name,
                                   dtypes_=[string], shapes=[arr.shape]).outputs[0]

        with graph.as_default(), graph.name_scope(self._name or "save") as scope:
            with graph.name_scope("filename"):
                default = const(self._filename or "model", "input")
            filename = graph.create_op("PlaceholderWithDefault", [default],
                                       {"dtype": string, "shape": scalar}, name=scope + "filename/",
                                       dtypes_=[string], shapes=[()]).outputs[0]
            filename = graph.create_op("PlaceholderWithDefault", [filename],
                                       {"dtype": string, "shape": scalar}, name="Const",
                                       dtypes_=[string], shapes=[()]).outputs[0]
            with graph.name_scope("SaveV2"):
                names = const(keys, "tensor_names")
                slices = const([""] * len(keys), "shape_and_slices")
            save = graph.create_op("SaveV2", [filename, names, slices, *var_tensors],
                                   {"dtypes": var_dtypes}, name=scope + "SaveV2/")
            done = graph.create_op("Identity", [filename],
                                   {"T": string, "_class": [f"loc:@{filename.op.name}"]},
                                   name="control_dependency", dtypes_=[string], shapes=[()],
                                   control_inputs=[save]).outputs[0]
            with graph.name_scope("RestoreV2"):
                names = const(keys, "tensor_names")
                slices = const([""] * len(keys), "shape_and_slices")
            restore = graph.create_op(
                "RestoreV2", [filename, names, slices], {"dtypes": var_dtypes},
                name=scope + "RestoreV2/", dtypes_=var_dtypes,
                shapes=[v.get_shape() for v in var_tensors])
            assigns = [graph.create_op(
                "Assign", [var, value],
                {"T": var.dtype.base_dtype, "use_locking": True, "validate_shape": True,
                 "_class": [f"loc:@{var.op.name}"]},
                name="Assign", dtypes_=[var.dtype], shapes=[var.get_shape()])
                for var, value in zip(var_tensors, restore.outputs, strict=True)]
            restore_all = graph.create_op("NoOp", [], {}, name="restore_all",
                                          control_inputs=assigns)
        self._graph = graph
        self._keys = keys
        self._var_tensors = var_tensors
        self._restore_outputs = restore.outputs
        self._restore_all = restore_all
        self.saver_def = saver_pb2.SaverDef(
            filename_tensor_name=filename.name, save_tensor_name=done.name,
            restore_op_name=restore_all.name, max_to_keep=self._max_to_keep or 0,
            keep_checkpoint_every_n_hours=self._keep_hours, version=saver_pb2.SaverDef.V2)

    def as_saver_def(self):
        return self.saver_def

    def to_proto(self, export_scope=None):
        return self.saver_def

    # -- bookkeeping (max_to_keep) ---------------------------------------------------------
    @property
    def last_checkpoints(self) -> list[str]:
        """The kept checkpoint prefixes, oldest first."""
        return [p for p, _ in self._last_checkpoints]

    def set_last_checkpoints_with_time(self, last_checkpoints_with_time):
        self._last_checkpoints = [(p, float(t)) for p, t in last_checkpoints_with_time]

    def recover_last_checkpoints(self, checkpoint_paths):
        """Adopt existing checkpoints (e.g. from `get_checkpoint_state`) for max_to_keep."""
        now = time.time()
        self._last_checkpoints = [(p, now) for p in checkpoint_paths if checkpoint_exists(p)]

    def _record(self, prefix: str, meta_suffix: str) -> list[tuple[str, float]]:
        """Add `prefix` as newest; return the checkpoints that fall out of the window.
        With max_to_keep None or 0 nothing is tracked (and nothing deleted), as in TF."""
        if not self._max_to_keep:
            return []
        self._last_checkpoints = [(p, t) for p, t in self._last_checkpoints if p != prefix]
        self._last_checkpoints.append((prefix, time.time()))
        doomed = []
        while self._max_to_keep and len(self._last_checkpoints) > self._max_to_keep:
            doomed.append(self._last_checkpoints.pop(0))
        return doomed

    def _delete_old(self, doomed, meta_suffix: str) -> None:
        for prefix, stamp in doomed:
            if stamp > self._next_keep_time:  # keep one every keep_checkpoint_every_n_hours
                self._next_keep_time += self._keep_hours * 3600
                continue
            storage.delete_bundle(prefix, meta_suffix)

    # -- save ------------------------------------------------------------------------------
    def save(self, sess, save_path, global_step=None, latest_filename=None,
             meta_graph_suffix="meta", write_meta_graph=True, write_state=True,
             strip_default_attrs=False, save_debug_info=False):
        """Write the checkpoint files for prefix `save_path[-global_step]`; return the prefix."""
        if not hasattr(sess, "run") or not hasattr(sess, "graph"):
            raise TypeError(f"'sess' must be a Session; {sess!r}")
        if latest_filename and os.path.split(latest_filename)[0]:
            raise ValueError("'latest_filename' must not contain path components")
        save_path = os.fspath(save_path)
        if global_step is not None:
            if not isinstance(global_step, int | np.integer):
                global_step = sess.run(global_step)
            fmt = "%s-%08d" if self._pad_step_number else "%s-%d"
            prefix = fmt % (save_path, int(global_step))
        else:
            prefix = save_path
        if os.path.basename(save_path) == (latest_filename or storage.STATE_FILENAME):
            raise ValueError(f"save_path {save_path!r} would overwrite the checkpoint state file "
                             "of its directory; choose another name, e.g. model.ckpt")
        parent = os.path.dirname(save_path) or "."
        if not is_url(parent) and not os.path.isdir(parent):
            raise ValueError(f"Parent directory of {save_path} doesn't exist, can't save.")
        if self.saver_def is None:
            return None
        values = sess.run(self._var_tensors)
        storage.write_bundle(prefix, dict(zip(self._keys, values, strict=True)))
        if write_meta_graph:
            self.export_meta_graph(f"{prefix}.{meta_graph_suffix}")
        if write_state:
            doomed = self._record(prefix, meta_graph_suffix)
            kept = self.last_checkpoints
            if kept[-1:] != [prefix]:
                kept.append(prefix)
            storage.write_state(parent, prefix, kept, latest_filename=latest_filename)
            self._delete_old(doomed, meta_graph_suffix)
        return prefix

    def export_meta_graph(self, filename=None, collection_list=None, as_text=False,
                          export_scope=None, clear_devices=False, clear_extraneous_savers=False,
                          strip_default_attrs=False, save_debug_info=False):
        """The MetaGraphDef of the Saver's graph; also written to `filename` if given."""
        graph = getattr(self, "_graph", None)
        if graph is None:
            graph = get_default_graph()
        meta = meta_graph.build_meta_graph(graph, self.saver_def, collection_list)
        if filename:
            data = text_format.MessageToString(meta).encode() if as_text else \
                meta.SerializeToString()
            storage.atomic_write(filename, data)
        return meta

    # -- restore ---------------------------------------------------------------------------
    def restore(self, sess, save_path):
        """Assign every variable of this Saver its value from checkpoint `save_path`."""
        if save_path is None:
            raise ValueError("Can't load save_path when it is None.")
        save_path = os.fspath(save_path)
        if not storage.bundle_exists(save_path):
            hint = ""
            if os.path.isdir(save_path):
                hint = (" (it is a directory; pass a prefix such as "
                        "tf.train.latest_checkpoint(dir))")
            elif save_path.endswith((".index", ".meta")) or ".data-" in save_path:
                hint = (" (pass the prefix, without the file suffix: "
                        f"{save_path.rsplit('.', 1)[0]!r})")
            elif os.path.isfile(save_path):
                hint = (" (a file, but no prefix.index next to it: only V2 checkpoints can be "
                        "restored)")
            raise ValueError(f"The passed save_path is not a valid checkpoint: {save_path}{hint}")
        if self.saver_def is None:
            return
        ckpt = reader.open_bundle(save_path)
        missing = [k for k in self._keys if k not in ckpt.entries]
        if missing:
            raise errors.NotFoundError(None, None, _RESTORE_FAILED_KEY + self._missing_message(
                missing, ckpt, save_path))
        feed = {}
        for key, var, out in zip(self._keys, self._var_tensors, self._restore_outputs,
                                 strict=True):
            feed[out] = self._checked_value(key, var, ckpt, save_path)
        sess.run(self._restore_all, feed_dict=feed)

    def _missing_message(self, missing, ckpt, save_path) -> str:
        lines = [reader.describe_missing(missing[0], ckpt.entries, save_path)]
        if len(missing) > 1:
            lines.append(f"Also missing: {', '.join(missing[1:])}.")
        unused = sorted(set(ckpt.entries) - set(self._keys))
        if unused:
            lines.append(f"Checkpoint keys no variable asked for: {', '.join(unused[:10])}"
                         + (", ..." if len(unused) > 10 else "") + ".")
        lines.append("To load a key under another name, pass a dict to the Saver: "
                     "tf.train.Saver({'name_in_checkpoint': variable}).")
        return "\n".join(lines)

    def _checked_value(self, key, var, ckpt, save_path) -> np.ndarray:
        entry = ckpt.entries[key]
        want = var.dtype.base_dtype
        if entry.dtype != want.as_datatype_enum:
            raise errors.InvalidArgumentError(None, None, _RESTORE_FAILED_MISMATCH + (
                f"tensor_name = {key}; expected dtype {want.kernel_name} does not equal original "
                f"dtype {dtypes.as_dtype(entry.dtype).kernel_name}: variable {var.op.name!r} is "
                f"{want.name} in the graph but {dtypes.as_dtype(entry.dtype).name} in "
                f"checkpoint {save_path}"))
        graph_shape = var.get_shape()
        stored = bundle.entry_shape(entry)
        if graph_shape.is_fully_defined() and tuple(graph_shape.as_list()) != stored:
            same_size = int(np.prod(stored)) == graph_shape.num_elements()
            if not (self._reshape and same_size):
                raise errors.InvalidArgumentError(None, None, _RESTORE_FAILED_MISMATCH + (
                    f"Assign requires shapes of both tensors to match. lhs shape= "
                    f"{graph_shape.as_list()} rhs shape= {list(stored)}\n"
                    f"Variable {var.op.name!r} has shape {graph_shape.as_list()} in the graph, "
                    f"but key {key!r} in checkpoint {save_path} has shape {list(stored)}."))
        try:
            value = ckpt.read(key)
        except FileNotFoundError as err:
            raise errors.NotFoundError(None, None, str(err)) from None
        except bundle.BundleError as err:
            raise errors.DataLossError(None, None, f"checkpoint {save_path}: {err}") from None
        if graph_shape.is_fully_defined():
            value = value.reshape(graph_shape.as_list())
        return value
