"""Regenerate ``tf_golden.json`` with TensorFlow (a manual step; never a CI dependency).

    pip install tensorflow-cpu   # in a separate virtualenv
    python tests/data/flow_golden/make_tf_golden.py
"""

import json
import os
import sys

import tensorflow as tf2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tf1_scenarios  # noqa: E402

tf = tf2.compat.v1
tf.disable_eager_execution()
tf.disable_resource_variables()  # TF1's reference variables, as flow has

golden = {"tensorflow_version": tf2.__version__,
          "names": tf1_scenarios.names(tf),
          "optimizers": tf1_scenarios.optimizers(tf)}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tf_golden.json")
with open(path, "w") as f:
    json.dump(golden, f, indent=1)
print(f"wrote {path}")
