"""Object storage under the writers and the board: any fsspec URL (``s3://``, ``gs://``, …).

Local paths never come here: they keep the plain-file fast path (``writer.event_file``). A
location with a URL scheme other than ``file://`` is served by fsspec (``s3://`` needs the
``numboard[s3]`` extra: s3fs). One :class:`Storage` per protocol offers what the event-file
layer needs, each as one request:

- :meth:`Storage.list`: every object under a prefix with its size and identity (ETag, or a
  generation / modification stamp), from one paginated recursive listing. Listings are never
  served from fsspec's cache: another process writes the bucket.
- :meth:`Storage.read`: a ranged read from an offset; :meth:`Storage.put` a whole object;
  :meth:`Storage.delete`; :meth:`Storage.join` concatenates objects on the server (S3
  UploadPartCopy, GCS compose) where the filesystem can.

Credentials and endpoints come from where the cloud libraries look (``AWS_ENDPOINT_URL``,
``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE``, instance roles, …) and from
:func:`set_options` (``board --storage_option key=value``). Their values never appear in an
error message: :func:`describe` masks them.
"""

from __future__ import annotations

import os
import re
import threading
from typing import NamedTuple

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")
# Options the S3 client takes inside client_kwargs rather than as a filesystem argument.
_S3_CLIENT_OPTIONS = {"endpoint_url", "region_name", "verify"}
_SECRET_ENV = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID",
               "GOOGLE_APPLICATION_CREDENTIALS")
_SECRET_OPTION = re.compile(r"key|secret|token|password|credential", re.I)

_options: dict[str, object] = {}
_filesystems: dict[str, object] = {}
_lock = threading.Lock()


class StorageError(OSError):
    """A storage request failed; the message names the location and what to do, never a secret.

    ``kind`` says which: "missing" (no such bucket or object), "denied" (credentials), or
    "unreachable" (the endpoint did not answer, or any other failure).
    """

    def __init__(self, message: str, kind: str = "unreachable"):
        super().__init__(message)
        self.kind = kind


class ObjectInfo(NamedTuple):
    url: str  # protocol://bucket/key
    size: int
    identity: str  # changes when the object is replaced (same key, new content)


def is_url(path) -> bool:
    """True for a location fsspec serves (``s3://b/p``); False for local paths and file://."""
    if not isinstance(path, str):
        return False
    match = _SCHEME.match(path)
    return match is not None and match.group(1).lower() != "file"


def local_path(path: str) -> str:
    """A ``file://`` URL as a plain path; anything else unchanged."""
    return path[len("file://"):] if path.startswith("file://") else path


def protocol_of(url: str) -> str:
    return _SCHEME.match(url).group(1).lower()


def parse_option(text: str) -> tuple[str, object]:
    """``key=value`` (``--storage_option``) -> (key, value); true/false/ints are typed."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ValueError(f"--storage_option {text.split('=')[0]!r}… is not key=value; write e.g. "
                         "--storage_option endpoint_url=http://127.0.0.1:8333")
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return key, lowered == "true"
    if re.fullmatch(r"-?\d+", lowered):
        return key, int(lowered)
    return key, value.strip()


def set_options(pairs: list[str] | dict) -> None:
    """Options for every filesystem opened from now on (the CLI's ``--storage_option``)."""
    parsed = dict(pairs) if isinstance(pairs, dict) else dict(map(parse_option, pairs))
    with _lock:
        _options.clear()
        _options.update(parsed)
        _filesystems.clear()


def describe(exc: BaseException) -> str:
    """``exc`` as one line of text with every credential value masked."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    secrets = [os.environ.get(name) for name in _SECRET_ENV]
    secrets += [str(v) for k, v in _options.items() if _SECRET_OPTION.search(k)]
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return " ".join(text.split())


def redact_url(url: str) -> str:
    """A URL without any user:password part (``s3://key:secret@bucket`` is an fsspec form)."""
    return re.sub(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@]*@", r"\1", url)


def _filesystem(protocol: str):
    with _lock:
        fs = _filesystems.get(protocol)
        if fs is not None:
            return fs
        try:
            import fsspec  # optional: only object-storage locations need it
        except ImportError:
            raise StorageError(f"{protocol}:// locations need fsspec; pip install "
                               "'numboard[s3]'") from None
        kwargs = dict(_options)
        if protocol in ("s3", "s3a"):
            client = {k: kwargs.pop(k) for k in list(kwargs) if k in _S3_CLIENT_OPTIONS}
            if client:
                kwargs["client_kwargs"] = {**kwargs.get("client_kwargs", {}), **client}
        if protocol not in ("memory", "file"):
            kwargs.setdefault("use_listings_cache", False)
        try:
            fs = fsspec.filesystem(protocol, skip_instance_cache=True, **kwargs)
        except ImportError as exc:
            extra = "numboard[s3]" if protocol in ("s3", "s3a") else f"the fsspec {protocol} package"
            raise StorageError(f"{protocol}:// locations need {extra} ({exc.name} is missing); "
                               f"pip install it") from None
        except (TypeError, ValueError) as exc:
            raise StorageError(f"cannot open {protocol}:// storage: {describe(exc)}; check "
                               "the --storage_option values") from None
        _filesystems[protocol] = fs
        return fs


def _identity(info: dict) -> str:
    for key in ("ETag", "etag", "generation", "md5Hash", "LastModified", "mtime", "created"):
        if info.get(key) is not None:
            return str(info[key])
    return ""


class Storage:
    """One protocol's objects through fsspec; every method takes full URLs."""

    def __init__(self, protocol: str):
        self.protocol = protocol
        self.fs = _filesystem(protocol)
        self.can_join = hasattr(self.fs, "merge")

    def path_of(self, url: str) -> str:
        """``url`` without its protocol, as the filesystem spells keys (compare these)."""
        return self.fs._strip_protocol(url).rstrip("/")

    def _url(self, path: str) -> str:
        return self.fs.unstrip_protocol(path)

    def _fail(self, action: str, url: str, exc: BaseException) -> StorageError:
        where = redact_url(url)
        if isinstance(exc, FileNotFoundError):
            return StorageError(f"{action} {where}: not found ({describe(exc)})", "missing")
        if isinstance(exc, PermissionError):
            return StorageError(f"{action} {where}: access denied ({describe(exc)}); check the "
                                "credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
                                "AWS_PROFILE or --storage_option key=… secret=…)", "denied")
        return StorageError(f"{action} {where} failed: {describe(exc)}; check that the "
                            "endpoint is up (AWS_ENDPOINT_URL or --storage_option "
                            "endpoint_url=…)")

    def list(self, url: str) -> list[ObjectInfo]:
        """Every object under the prefix ``url`` (recursively), sorted by URL."""
        path = self.path_of(url)
        try:
            self.fs.invalidate_cache()
            found = self.fs.find(path, detail=True, withdirs=False)
        except FileNotFoundError:
            return []
        except Exception as exc:  # botocore, aiohttp, gcsfs errors have no common base
            raise self._fail("listing", url, exc) from None
        out = [ObjectInfo(self._url(p), int(info.get("size") or 0), _identity(info))
               for p, info in found.items() if info.get("type", "file") != "directory"]
        return sorted(out)

    def check_bucket(self, url: str) -> None:
        """Raise StorageError unless the bucket (or root) of ``url`` can be listed."""
        root = self.path_of(url).split("/", 1)[0]
        try:
            self.fs.invalidate_cache()
            if self.protocol == "memory":
                return
            self.fs.ls(root, detail=False)
        except FileNotFoundError:
            raise StorageError(f"bucket {root!r} of {redact_url(url)} does not exist; create "
                               f"it first (e.g. aws s3 mb {self.protocol}://{root})",
                               "missing") from None
        except Exception as exc:
            raise self._fail("listing the bucket of", url, exc) from None

    def read(self, url: str, start: int = 0, end: int | None = None) -> bytes:
        """Bytes ``start:end`` of an object (a ranged GET)."""
        try:
            return self.fs.cat_file(self.path_of(url), start=start or None, end=end)
        except Exception as exc:
            raise self._fail("reading", url, exc) from None

    def exists(self, url: str) -> bool:
        try:
            return self.fs.exists(self.path_of(url))
        except Exception as exc:
            raise self._fail("looking up", url, exc) from None

    def put(self, url: str, data: bytes) -> None:
        """Store ``data`` as the whole object ``url`` (durable when this returns)."""
        try:
            self.fs.pipe_file(self.path_of(url), bytes(data))
        except Exception as exc:
            raise self._fail("uploading", url, exc) from None

    def delete(self, urls: list[str]) -> None:
        if not urls:
            return
        try:
            self.fs.rm([self.path_of(u) for u in urls])
        except FileNotFoundError:
            pass
        except Exception as exc:
            raise self._fail("deleting", urls[0], exc) from None

    def join(self, url: str, parts: list[str]) -> None:
        """Object ``url`` := the concatenation of ``parts``, on the server (``can_join``)."""
        try:
            self.fs.merge(self.path_of(url), [self.path_of(p) for p in parts])
        except Exception as exc:
            raise self._fail("joining objects into", url, exc) from None


def storage_for(url: str) -> Storage:
    """The :class:`Storage` serving ``url`` (one per protocol, shared)."""
    return Storage(protocol_of(url))
