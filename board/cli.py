"""`board` — serve TensorFlow event-file logdirs over HTTP (SPEC §5 CLI).

    board --logdir=logs/                 # http://127.0.0.1:6006/
    board --logdir logs --port 0         # any free port; the URL line says which
    board --logdir_spec a:runs/a,b:runs/b --bind_all --auth_token s3cret
    board --logdir s3://bucket/prefix    # object storage (pip install 'numboard[s3]')

When the socket listens, one line goes to stdout (flushed):
    numboard serving <logdir> at http://127.0.0.1:<port>/
Heavy modules (FastAPI, numpy, protobuf) are imported only after the arguments parse, so
`--help` and `--version` are instant and start-up stays short.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys

from . import __version__

DEFAULT_PORT = 6006
MAX_RECORD_BYTES = 256 << 20  # writer.record.MAX_RECORD_BYTES (not imported: --help stays instant)
TOKEN_ENV = "BOARD_AUTH_TOKEN"
HOSTS_ENV = "BOARD_ALLOWED_HOSTS"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="board", description="numboard: a TensorBoard in pure Python. Serves the "
        "scalars, images, histograms and graphs of TensorFlow event files, live.")
    p.add_argument("--logdir", help="directory to watch; every subdirectory holding an "
                   "events file (name containing 'tfevents') is a run. May not exist yet. "
                   "An object-storage URL (s3://bucket/prefix, gs://…, any fsspec protocol) "
                   "is polled every --reload_interval seconds.")
    p.add_argument("--logdir_spec", help="several logdirs as name:path,name2:path2 "
                   "(run names get the name as prefix)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help=f"port to listen on (default {DEFAULT_PORT}; 0 picks a free one)")
    p.add_argument("--host", default=None,
                   help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--bind_all", action="store_true",
                   help="listen on every network interface (IPv6 and IPv4 where possible); "
                   "browsers then reach it by IP address or this machine's name, other names "
                   "need --allowed_hosts")
    p.add_argument("--allowed_hosts", default=None,
                   help=f"comma-separated host names the board answers to besides localhost, "
                   f"IP addresses and --host (or set {HOSTS_ENV}; '*' for any). Requests "
                   "naming any other host are refused, so a web page cannot reach the board "
                   "through a DNS-rebinding name")
    p.add_argument("--reload_interval", type=float, default=2.0,
                   help="seconds between polls for new data when file-system events are not "
                   "available (default 2; file-system events trigger reads at once; "
                   "0 loads the logdir once and never again)")
    p.add_argument("--auth_token", default=None,
                   help=f"require this token on every request (or set {TOKEN_ENV}); clients "
                   "send 'Authorization: Bearer <token>' or open a page once with ?token=. "
                   "Surrounding whitespace is not part of it; an empty token is refused")
    p.add_argument("--storage_option", action="append", default=[], metavar="KEY=VALUE",
                   help="an option for the object-storage client, repeatable (e.g. "
                   "endpoint_url=http://127.0.0.1:8333, anon=true, profile=dev); credentials "
                   "and endpoints are otherwise read from AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, "
                   "AWS_PROFILE, … as the AWS tools do")
    p.add_argument("--max_record_bytes", type=int, default=MAX_RECORD_BYTES,
                   help="largest event-file record read, in bytes (default 256 MiB, far above "
                   "any real image or graph); a file whose record header claims more is "
                   "reported as corrupt from that record on")
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


def allowed_hosts(args) -> list[str]:
    """Host names to answer besides loopback names and IP addresses: --host, this machine's
    name with --bind_all (the printed URL uses it), and --allowed_hosts / BOARD_ALLOWED_HOSTS."""
    names = [args.host] if args.host else []
    if args.bind_all:
        names.append(socket.gethostname())
    extra = args.allowed_hosts if args.allowed_hosts is not None else os.environ.get(HOSTS_ENV, "")
    return names + [h.strip() for h in extra.split(",") if h.strip()]


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.bind_all and args.host:
        print("board: --host and --bind_all cannot be combined; pick one", file=sys.stderr)
        return 2
    if bool(args.logdir) == bool(args.logdir_spec):
        print("board: pass --logdir PATH (e.g. board --logdir=logs/) or --logdir_spec "
              "name:path,…", file=sys.stderr)
        return 2
    if args.max_record_bytes < 1:
        print(f"board: --max_record_bytes {args.max_record_bytes} must be a positive number of "
              f"bytes (default {MAX_RECORD_BYTES}, 256 MiB)", file=sys.stderr)
        return 2
    if not 0 <= args.port <= 65535:
        print(f"board: --port {args.port} is not a port number (0..65535)", file=sys.stderr)
        return 2
    token = args.auth_token if args.auth_token is not None else os.environ.get(TOKEN_ENV)
    if token is not None and not token.strip():
        given = "--auth_token" if args.auth_token is not None else TOKEN_ENV
        print(f"board: {given} is {token!r}, an empty token that would guard nothing; pass a "
              "real one (e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(24))') "
              f"or leave {given} unset", file=sys.stderr)
        return 2
    args.auth_token = token
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
    from writer.storage import is_url, redact_url  # here: it imports protobuf (slow --help)

    shown = redact_url(shown) if is_url(shown) else shown
    problem = _check_object_logdirs(args)
    if problem:
        sock.close()
        print(f"board: {problem}", file=sys.stderr)
        return 2
    if args.logdir and not is_url(args.logdir) and not os.path.isdir(os.path.expanduser(args.logdir)):
        print(f"board: logdir {args.logdir!r} does not exist yet; waiting for it to appear",
              file=sys.stderr, flush=True)
    return _serve(args, sock, f"numboard serving {shown} at "
                              f"http://{_url_host(args.host, args.bind_all)}:{port}/")


def _check_object_logdirs(args) -> str | None:
    """Why an object-storage logdir cannot be served (bad option, no bucket, denied), or None.

    An endpoint that does not answer is not fatal: the loader reports it in /api/runs and
    polls until the store is back.
    """
    from writer.storage import StorageError, is_url, set_options, storage_for

    from .loader.discover import sources_for

    try:
        set_options(args.storage_option)
        sources = sources_for(args.logdir, args.logdir_spec)
        for source in sources:
            if is_url(source.path):
                storage_for(source.path).check_bucket(source.path)
    except StorageError as exc:
        if exc.kind != "unreachable":
            return str(exc)
        print(f"board: {exc}; serving anyway and retrying", file=sys.stderr, flush=True)
    except ValueError as exc:
        return str(exc)
    return None


# Requests are answered by parallel threads already; an OpenBLAS pool per request spinning
# beside them made smoothing a 5000-point series 40x slower (0.6 -> 28 ms) on a busy machine.
BLAS_THREADS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _serve(args, sock: socket.socket, banner: str) -> int:
    for name, value in BLAS_THREADS.items():  # before numpy is first imported
        os.environ.setdefault(name, value)
    # Until the server is up, SIGTERM and SIGINT end the process at once (nothing is written,
    # and the loader's threads are daemons, so nothing of the board outlives it). Once it is
    # up, uvicorn handles them (a graceful shutdown bounded by timeout_graceful_shutdown that
    # stops the loader) and then re-raises the signal here, which ends main normally.
    served = False

    def on_signal(signum, _frame) -> None:
        if served:
            raise KeyboardInterrupt
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    # Loading starts first: it reads and decodes while this process imports FastAPI and uvicorn.
    from .loader.discover import sources_for
    from .loader.loader import Loader
    from .store import Store

    try:
        sources = sources_for(args.logdir, args.logdir_spec)
    except ValueError as exc:
        print(f"board: {exc}", file=sys.stderr)
        return 2
    loader = Loader(Store(), sources, reload_interval=args.reload_interval,
                    max_record_bytes=args.max_record_bytes)
    loader.start()

    import asyncio

    import uvicorn

    from . import server as http
    from .app import create_app

    app = create_app(auth_token=args.auth_token, allowed_hosts=allowed_hosts(args),
                     loader=loader)
    server = uvicorn.Server(http.config(app, http.raise_file_limit()))

    async def run() -> None:
        nonlocal served
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.005)
        if server.started:
            served = True
            print(banner, flush=True)
        await task

    try:
        with asyncio.Runner(loop_factory=http.loop_factory()) as runner:
            runner.run(run())
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
