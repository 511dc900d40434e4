"""Floor 0, the vocabulary every other floor speaks: dtypes, shapes, TensorFlow's error classes."""
