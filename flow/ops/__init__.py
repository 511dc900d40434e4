"""Floor 3, the op builders: the functions under TensorFlow's names that add nodes to a graph
(``math_ops``, ``array_ops``, ``nn_ops``, ``init_ops``, ``variables``, ``scope``, ``gradients``),
each node a row of the op table (``flow.kernels``). ``overloads`` gives Tensor its operators.
"""
