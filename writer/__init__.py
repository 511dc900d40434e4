"""numboard's event-file library: TensorFlow-compatible writing and reading (SPEC §3).

Layers, each in its own module: ``proto/`` (message layouts) → ``summary`` (pure Summary
builders) → ``record`` (TFRecord framing, pure) with ``crc`` (masked CRC32C) →
``event_file`` (the only file I/O: tail reader and appender) → ``summary_writer``
(``SummaryWriter``). ``events`` turns Event protos into the plain items the board shows.
"""

from writer import summary
from writer.summary_writer import SummaryWriter

__all__ = ["SummaryWriter", "summary"]
