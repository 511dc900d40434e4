"""TensorBoard's Rust data server (`tensorboard_data_server`, shipped with the `tensorboard`
test extra) started on a logdir, bound to 127.0.0.1 on a free port, and queried with
TensorBoard's own gRPC client. Shared by the compat tests of tests/board and tests/writer."""

from __future__ import annotations

import subprocess
import time
from contextlib import contextmanager

import grpc
from tensorboard.data import grpc_provider
from tensorboard.data.server_ingester import get_server_binary


@contextmanager
def rust_data_server(logdir, tmp_path, *flags: str):
    """Yield a `GrpcDataProvider` for the data server reading `logdir` once (`--reload=once`),
    with extra command-line `flags`; the server is stopped on exit."""
    port_file = tmp_path / "rust-data-server.port"
    proc = subprocess.Popen(
        [get_server_binary().path, f"--logdir={logdir}", "--reload=once", "--host=127.0.0.1",
         "--port=0", f"--port-file={port_file}", "--die-after-stdin", *flags],
        stdin=subprocess.PIPE)
    try:
        for _ in range(600):  # wait for the port file (bounded; no timing assertion)
            text = port_file.read_text() if port_file.exists() else ""
            if text.endswith("\n") or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the data server exited at startup"
        addr = f"127.0.0.1:{int(text)}"
        with grpc.insecure_channel(addr) as channel:
            yield grpc_provider.GrpcDataProvider(addr, grpc_provider.make_stub(channel))
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
