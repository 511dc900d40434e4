"""Floor 2, the graph: ``Graph``/``Operation``/``Tensor`` (``graph``), how a node enters it
(``build``: ``apply``, ``constant``, ``convert_to_tensor``, ``placeholder``) and how it leaves as a
``GraphDef`` (``graph_def``, ``tensor_util``)."""
