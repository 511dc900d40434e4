"""Background loading of event files into the store: discover, tail, ingest."""
