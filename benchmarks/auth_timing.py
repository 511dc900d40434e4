"""How long the board takes to refuse wrong tokens vs. to accept the right one (SPEC §9).

    .venv/bin/python benchmarks/auth_timing.py [--requests 300]

Starts `board --auth_token T` on a free port and times GET /healthz with the right token and
with wrong tokens of several shapes, interleaved so drift hits all alike. Prints the median and
p90 per case and the ratio to the right token. A figure, never an assertion: the comparison
is hmac.compare_digest, and network noise dwarfs any difference it could leak.
"""

from __future__ import annotations

import argparse
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

BOARD = Path(sys.executable).with_name("board")


def cases(token: str) -> dict[str, dict]:
    other = "A" if token[0] != "A" else "B"
    return {
        "right token": {"Authorization": f"Bearer {token}"},
        "no token": {},
        "short wrong token": {"Authorization": "Bearer x"},
        "right length, first char wrong": {"Authorization": f"Bearer {other}{token[1:]}"},
        "right length, last char wrong": {"Authorization": f"Bearer {token[:-1]}{other}"},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=300)
    n = ap.parse_args().requests
    token = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory() as logdir:
        proc = subprocess.Popen([str(BOARD), "--logdir", logdir, "--port", "0",
                                 f"--auth_token={token}"],  # the token may start with "-"
                                stdout=subprocess.PIPE, text=True)
        try:
            url = re.search(r"http://\S+", proc.stdout.readline()).group(0)
            samples = {name: [] for name in cases(token)}
            with httpx.Client(base_url=url, timeout=15) as c:
                for _ in range(n):
                    for name, headers in cases(token).items():
                        t0 = time.perf_counter()
                        c.get("/healthz", headers=headers)
                        samples[name].append(time.perf_counter() - t0)
        finally:
            proc.terminate()
            proc.wait(10)
    base = statistics.median(samples["right token"])
    print(f"GET /healthz, {n} requests per case, interleaved\n")
    print("| case | median µs | p90 µs | median vs right token |\n|---|---|---|---|")
    for name, xs in samples.items():
        xs.sort()
        med = statistics.median(xs)
        print(f"| {name} | {med * 1e6:.0f} | {xs[int(len(xs) * 0.9)] * 1e6:.0f} | "
              f"{med / base:.2f}× |")


if __name__ == "__main__":
    main()
