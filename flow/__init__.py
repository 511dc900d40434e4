# ruff: noqa: F401 - this module re-exports the public TF names
"""flow: a numpy TensorFlow-1.x-style graph runtime — ``import flow as tf`` runs TF1 code.

Graph + Session + Tensor + Variable, placeholders with feed/fetch, ``get_variable`` +
``variable_scope``, autodiff and optimizers, ``train.Saver`` checkpoints and ``summary`` ops
(SPEC §4). Behaviour and error texts follow TF 1.15 (``reference/tf1-semantics.md``).
"""

import sys as _sys
from types import SimpleNamespace as _Namespace

from flow import app, contrib, data, layers, losses, nn, summary, train
from flow import tf_logging as logging
from flow.app import flags
from flow.client.session import ConfigProto, InteractiveSession, Session, get_default_session
from flow.core import dtypes, errors
from flow.core.dtypes import (
    DType,
    as_dtype,
    bool,
    complex64,
    complex128,
    double,
    float16,
    float32,
    float64,
    half,
    int8,
    int16,
    int32,
    int64,
    string,
    uint8,
    uint16,
    uint32,
    uint64,
)
from flow.core.errors import unsupported_module as _unsupported_module
from flow.core.tensor_shape import Dimension, TensorShape
from flow.framework.build import (
    constant,
    convert_to_tensor,
    group,
    no_op,
    placeholder,
    placeholder_with_default,
)
from flow.framework.graph import (
    Graph,
    GraphKeys,
    Operation,
    Tensor,
    add_to_collection,
    add_to_collections,
    control_dependencies,
    device,
    get_collection,
    get_collection_ref,
    get_default_graph,
    name_scope,
    reset_default_graph,
)
from flow.io import gfile as _gfile
from flow.ops import array_ops as _array_ops
from flow.ops import math_ops as _math_ops
from flow.ops import overloads as _overloads
from flow.ops.clip_ops import clip_by_global_norm, clip_by_norm, global_norm
from flow.ops.control_flow_ops import case, cond, while_loop
from flow.ops.gradients import gradients
from flow.ops.indexed_slices import IndexedSlices, IndexedSlicesValue
from flow.ops.init_ops import (
    constant_initializer,
    glorot_normal_initializer,
    glorot_uniform_initializer,
    ones_initializer,
    random_normal,
    random_normal_initializer,
    random_uniform,
    random_uniform_initializer,
    set_random_seed,
    truncated_normal,
    truncated_normal_initializer,
    uniform_unit_scaling_initializer,
    variance_scaling_initializer,
    zeros_initializer,
)
from flow.ops.logging_ops import Print
from flow.ops.logging_ops import print_v2 as print
from flow.ops.scope import (
    AUTO_REUSE,
    VariableScope,
    get_local_variable,
    get_variable,
    get_variable_scope,
    variable_op_scope,
    variable_scope,
)
from flow.ops.tensor_array_ops import TensorArray
from flow.ops.variables import (
    Variable,
    all_variables,
    assign,
    assign_add,
    assign_sub,
    global_variables,
    global_variables_initializer,
    initialize_all_variables,
    local_variables,
    local_variables_initializer,
    model_variables,
    scatter_add,
    scatter_sub,
    scatter_update,
    trainable_variables,
    variables_initializer,
)
from writer.proto.config_pb2 import RunMetadata, RunOptions

for _module in (_math_ops, _array_ops):  # the wrappers of flow.ops under TF's names
    for _name in _module.__all__:
        globals().setdefault(_name, getattr(_module, _name))

newaxis = None
VERSION = __version__ = "1.15.0"  # the TensorFlow API level flow follows
GRAPH_DEF_VERSION = 134
initializers = _Namespace(
    zeros=zeros_initializer, ones=ones_initializer, constant=constant_initializer,
    random_uniform=random_uniform_initializer, random_normal=random_normal_initializer,
    truncated_normal=truncated_normal_initializer, variance_scaling=variance_scaling_initializer,
    glorot_uniform=glorot_uniform_initializer, glorot_normal=glorot_normal_initializer,
    global_variables=global_variables_initializer, variables=variables_initializer,
)
random = _Namespace(set_random_seed=set_random_seed, uniform=random_uniform,
                    normal=random_normal, truncated_normal=truncated_normal,
                    log_uniform_candidate_sampler=nn.log_uniform_candidate_sampler,
                    uniform_candidate_sampler=nn.uniform_candidate_sampler,
                    fixed_unigram_candidate_sampler=nn.fixed_unigram_candidate_sampler)
gfile = _Namespace(**{n: getattr(_gfile, n) for n in _gfile.TF1_NAMES})
io = _Namespace(gfile=_Namespace(**{n: getattr(_gfile, n) for n in _gfile.IO_NAMES}))
compat = _Namespace(v1=_sys.modules[__name__])  # tf.compat.v1 is flow itself
_sys.modules[__name__ + ".compat"] = compat  # so that `import flow.compat.v1 as tf` works
_sys.modules[__name__ + ".compat.v1"] = _sys.modules[__name__]


def disable_v2_behavior():
    """flow is TF1 graph mode already: nothing to disable."""


disable_eager_execution = disable_v2_behavior

# modules of TensorFlow that flow does not implement: their attribute access says so
_UNSUPPORTED = ("estimator", "distribute", "keras", "lite", "saved_model", "feature_column",
                "tpu", "autograph", "function", "lookup", "sparse", "signal", "strings",
                "xla", "quantization", "profiler", "debugging", "experimental", "hub")


def __getattr__(name):
    if name in _UNSUPPORTED:
        raise _unsupported_module(f"tf.{name}")
    raise AttributeError(f"module 'flow' has no attribute {name!r}: flow does not implement "
                         f"tf.{name}")
