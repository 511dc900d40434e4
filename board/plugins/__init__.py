"""One module per data kind: each parses a request, calls an *_impl, and responds."""
