"""``tf.contrib.rnn``: the RNN cells of ``tf.nn.rnn_cell`` and ``static_rnn`` under contrib's
names, as TF 1.15 exports them there."""

from flow.layers.rnn import static_bidirectional_rnn, static_rnn
from flow.layers.rnn_cell import (
    BasicLSTMCell,
    BasicRNNCell,
    DropoutWrapper,
    GRUCell,
    LSTMCell,
    LSTMStateTuple,
    MultiRNNCell,
    RNNCell,
)

__all__ = ["BasicLSTMCell", "BasicRNNCell", "DropoutWrapper", "GRUCell", "LSTMCell",
           "LSTMStateTuple", "MultiRNNCell", "RNNCell", "static_bidirectional_rnn", "static_rnn"]
