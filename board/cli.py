"""`board` — serve TensorFlow event-file logdirs over HTTP (SPEC §5 CLI).

    board --logdir=logs/                 # http://127.0.0.1:6006/
    board --logdir logs --port 0         # any free port; the URL line says which
    board --logdir_spec a:runs/a,b:runs/b --bind_all --auth_token s3cret

When the socket listens, one line goes to stdout (flushed):
    numboard serving <logdir> at http://127.0.0.1:<port>/
Heavy modules (FastAPI, numpy, protobuf) are imported only after the arguments parse, so
`--help` and `--version` are instant and start-up stays short.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys

from . import __version__

DEFAULT_PORT = 6006
TOKEN_ENV = "BOARD_AUTH_TOKEN"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="board", description="numboard: a TensorBoard in pure Python. Serves the "
        "scalars, images, histograms and graphs of TensorFlow event files, live.")
    p.add_argument("--logdir", help="directory to watch; every subdirectory holding an "
                   "events file (name containing 'tfevents') is a run. May not exist yet.")
    p.add_argument("--logdir_spec", help="several logdirs as name:path,name2:path2 "
                   "(run names get the name as prefix)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help=f"port to listen on (default {DEFAULT_PORT}; 0 picks a free one)")
    p.add_argument("--host", default=None,
                   help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--bind_all", action="store_true",
                   help="listen on every network interface (IPv6 and IPv4 where possible)")
    p.add_argument("--reload_interval", type=float, default=2.0,
                   help="seconds between polls for new data when file-system events are not "
                   "available (default 2; events from watchfiles trigger reads at once; "
                   "0 loads the logdir once and never again)")
    p.add_argument("--auth_token", default=None,
                   help=f"require this token on every request (or set {TOKEN_ENV}); clients "
                   "send 'Authorization: Bearer <token>' or open a page once with ?token=")
    p.add_argument("--version", action="version", version=f"numboard {__version__}")
    return p


def _listen(host: str | None, port: int, bind_all: bool) -> socket.socket:
    """Bind the listening socket ourselves, so --port 0 can report the real port.

    The socket is created with proto IPPROTO_TCP: asyncio then sets TCP_NODELAY on every
    accepted connection (it checks the proto), so keep-alive responses do not wait ~40 ms
    for delayed ACKs.
    """
    dual = False
    if bind_all:
        dual = socket.has_dualstack_ipv6()
        family, addr = (socket.AF_INET6, "::") if dual else (socket.AF_INET, "0.0.0.0")
    else:
        addr = host or "127.0.0.1"
        family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        if os.name != "nt":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if dual:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind((addr, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


def _url_host(host: str | None, bind_all: bool) -> str:
    if bind_all:
        return socket.gethostname()
    host = host or "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.bind_all and args.host:
        print("board: --host and --bind_all cannot be combined; pick one", file=sys.stderr)
        return 2
    if bool(args.logdir) == bool(args.logdir_spec):
        print("board: pass --logdir PATH (e.g. board --logdir=logs/) or --logdir_spec "
              "name:path,…", file=sys.stderr)
        return 2
    if not 0 <= args.port <= 65535:
        print(f"board: --port {args.port} is not a port number (0..65535)", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="board: %(message)s", stream=sys.stderr)
    logging.getLogger("watchfiles").setLevel(logging.WARNING)  # "N changes detected" per write
    try:
        sock = _listen(args.host, args.port, args.bind_all)
    except OSError as exc:
        print(f"board: cannot listen on port {args.port} ({exc.strerror}); pass --port 0 for "
              "any free port, or another --port", file=sys.stderr)
        return 1
    port = sock.getsockname()[1]
    shown = args.logdir or args.logdir_spec
    if args.logdir and not os.path.isdir(os.path.expanduser(args.logdir)):
        print(f"board: logdir {args.logdir!r} does not exist yet; waiting for it to appear",
              file=sys.stderr, flush=True)
    return _serve(args, sock, f"numboard serving {shown} at "
                              f"http://{_url_host(args.host, args.bind_all)}:{port}/")


# Requests are answered by parallel threads already; an OpenBLAS pool per request spinning
# beside them made smoothing a 5000-point series 40x slower (0.6 -> 28 ms) on a busy machine.
BLAS_THREADS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _serve(args, sock: socket.socket, banner: str) -> int:
    for name, value in BLAS_THREADS.items():  # before numpy is first imported
        os.environ.setdefault(name, value)
    # Loading starts first: worker processes fork before any web-server thread exists, and
    # they decode while this process imports FastAPI and uvicorn.
    from .loader.discover import sources_for
    from .loader.loader import Loader
    from .store import Store

    try:
        sources = sources_for(args.logdir, args.logdir_spec)
    except ValueError as exc:
        print(f"board: {exc}", file=sys.stderr)
        return 2
    loader = Loader(Store(), sources, reload_interval=args.reload_interval)
    loader.start()

    import asyncio

    import uvicorn

    from .app import create_app

    token = args.auth_token or os.environ.get(TOKEN_ENV) or None
    app = create_app(auth_token=token, loader=loader)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                            timeout_graceful_shutdown=1, ws="none")
    server = uvicorn.Server(config)

    async def run() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.005)
        if server.started:
            print(banner, flush=True)
        await task

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
