"""TF1 snippets whose results flow must share with TensorFlow, written against a ``tf`` module.

``make_tf_golden.py`` runs them under TensorFlow's ``tf.compat.v1`` (graph mode, reference
variables) and records ``tf_golden.json``; ``test_tf_golden.py`` runs them with ``flow`` and
compares. Each scenario takes ``tf`` and returns JSON-able data.
"""

import numpy as np


def names(tf):
    """Op, variable, slot and summary names from scopes, reuse and optimizers."""
    tf.reset_default_graph()
    out = []
    tf.constant(5.0, name="c")
    out.append(tf.constant(5.0, name="c").op.name)
    out.append(tf.constant(5.0, name="C").op.name)
    with tf.name_scope("nested") as scope:
        out.append(scope)
        for _ in range(2):
            with tf.name_scope("inner"):
                out.append(tf.constant(1, name="c").op.name)
    with tf.name_scope("a"):
        out.append(tf.Variable([1]).name)
        out.append(tf.get_variable("b", [1]).name)
    with tf.variable_scope("foo") as vs:
        out.append(tf.Variable(1, name="Variable").name)
        x = tf.get_variable("x", [1])
        out.append((x + 1.0).op.name)
    with tf.variable_scope(vs):
        out.append(tf.Variable(1, name="Variable").name)
        out.append((x * 2.0).op.name)
    with tf.variable_scope("foo", reuse=True):
        out.append(tf.get_variable("x").name)
        out.append((x - 1.0).op.name)
    with tf.variable_scope("foo"):
        for _ in range(2):
            with tf.variable_scope(None, default_name="bar"):
                out.append(tf.get_variable("a", [1]).name)
    with tf.variable_scope(vs):
        with tf.variable_scope(None, default_name="bar"):
            out.append(tf.get_variable("c", [1]).name)
    with tf.variable_scope("alpha"):
        with tf.variable_scope("beta"):
            with tf.variable_scope(tf.get_variable_scope()):
                out.append(tf.constant(1.0, name="my_op").op.name)
    w = tf.get_variable("w", [3, 2])
    b = tf.get_variable("bb", [2])
    loss = tf.reduce_sum(tf.matmul(tf.ones([4, 3]), w) + b)
    train = tf.train.AdamOptimizer(0.1).minimize(loss)
    out.append(sorted(v.op.name for v in tf.global_variables()
                      if "Adam" in v.op.name or "power" in v.op.name))
    out.append(train.name)
    momentum = tf.train.MomentumOptimizer(0.1, 0.9).minimize(loss, var_list=[w])
    out.append([v.op.name for v in tf.global_variables() if "Momentum" in v.op.name])
    out.append(momentum.name)
    step = tf.train.get_or_create_global_step()
    out.append(tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=step).name)
    with tf.name_scope("train"):
        s1 = tf.summary.scalar("loss", loss)
    s2 = tf.summary.scalar("loss", loss)
    s3 = tf.summary.scalar("loss", loss)
    out.append([s.op.name for s in (s1, s2, s3)])
    out.append(tf.summary.merge_all().op.name)
    out.append([t.shape.as_list() for t in tf.gradients(loss, [w, b])])
    out.append(tf.gradients(loss, [w])[0].op.name.split("/")[0])
    out.append([tf.random_normal([2]).op.name, tf.truncated_normal([2]).op.name])
    out.append([v.name for v in tf.global_variables()])
    return out


def optimizers(tf):
    """Five steps of each optimizer on a small ReLU net with softmax cross-entropy + L2."""
    rng = np.random.default_rng(0)
    w1_init = rng.normal(size=(4, 5)).astype(np.float32)
    w2_init = rng.normal(size=(5, 3)).astype(np.float32)
    x_val = rng.normal(size=(6, 4)).astype(np.float32)
    y_val = rng.integers(0, 3, 6)
    makers = {
        "GradientDescent": lambda: tf.train.GradientDescentOptimizer(0.1),
        "Momentum": lambda: tf.train.MomentumOptimizer(0.1, 0.9),
        "Nesterov": lambda: tf.train.MomentumOptimizer(0.1, 0.9, use_nesterov=True),
        "Adam": lambda: tf.train.AdamOptimizer(0.05),
    }
    out = {}
    for name, make in makers.items():
        tf.reset_default_graph()
        x = tf.placeholder(tf.float32, [None, 4])
        y = tf.placeholder(tf.int64, [None])
        w1 = tf.get_variable("w1", initializer=w1_init)
        w2 = tf.get_variable("w2", initializer=w2_init)
        logits = tf.matmul(tf.nn.relu(tf.matmul(x, w1)), w2)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=y, logits=logits)) + 0.01 * tf.reduce_sum(tf.square(w1))
        grads = tf.gradients(loss, [w1, w2])
        train = make().minimize(loss)
        feed = {x: x_val, y: y_val}
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            g1, g2 = sess.run(grads, feed)
            for _ in range(5):
                sess.run(train, feed)
            out[name] = {"grads": [g1.tolist(), g2.tolist()],
                         "w1": sess.run(w1).tolist(), "w2": sess.run(w2).tolist(),
                         "loss": float(sess.run(loss, feed))}
    return out
