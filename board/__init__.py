"""numboard's board: a FastAPI server that tails TensorFlow event-file logdirs (SPEC §5)."""

__version__ = "0.1.0"
