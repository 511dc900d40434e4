"""A small byte-bounded LRU of encoded responses, so a series that has not changed since the
last identical request costs a dictionary lookup, not a JSON encode and a gzip.

A response is kept only when the same key is asked for a second time (a "doorkeeper": one-off
requests, such as a script walking every series once, do not fill memory), unless the cache
admits on first sight (graph layouts, which cost seconds to remake). Entries are
stored in the encoding the client negotiated (gzip for browsers and httpx), which
is about 2.5 times smaller than the JSON. Keys include the series' generation number
(board.store), so any new point or purge makes old entries unreachable; they age out by size.
"""

from __future__ import annotations

import threading
import zlib
from collections import OrderedDict

try:  # ISA-L's deflate: the same gzip format, about three times faster than zlib's level 1
    from isal import isal_zlib as _deflate
except ImportError:  # a platform without its wheel: zlib
    _deflate = zlib

from starlette.responses import Response

GZIP_LEVEL = 1
GZIP_MIN = 1024
MAX_BYTES = 32 << 20
SEEN_KEYS = 4096


class EncodedCache:
    def __init__(self, max_bytes: int = MAX_BYTES, admit_first: bool = False) -> None:
        self.max_bytes = max_bytes
        self.admit_first = admit_first  # keep a body the first time (costly to remake)
        self.size = 0
        self._items: OrderedDict = OrderedDict()
        self._seen: OrderedDict = OrderedDict()  # keys asked for once (bounded)
        self._lock = threading.Lock()

    def respond(self, request, key, make_body) -> Response:
        """The cached response for `key`, or `make_body()` (JSON bytes) encoded and kept."""
        gzip = "gzip" in request.headers.get("accept-encoding", "")
        key = (key, gzip)
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
        if hit is None:
            body = make_body()
            hit = (gzip_bytes(body), True) if gzip and len(body) >= GZIP_MIN else (body, False)
            self._put(key, hit)
        data, zipped = hit
        headers = {"Vary": "Accept-Encoding"}
        if zipped:
            headers["Content-Encoding"] = "gzip"
        return Response(data, media_type="application/json", headers=headers)

    def _put(self, key, entry) -> None:
        cost = len(entry[0])
        if cost > self.max_bytes // 8:
            return
        with self._lock:
            if not self.admit_first and self._seen.pop(key, None) is None:
                self._seen[key] = True
                while len(self._seen) > SEEN_KEYS:
                    self._seen.popitem(last=False)
                return
            old = self._items.pop(key, None)
            if old is not None:
                self.size -= len(old[0])
            self._items[key] = entry
            self.size += cost
            while self.size > self.max_bytes and self._items:
                _, (data, _z) = self._items.popitem(last=False)
                self.size -= len(data)


def gzip_bytes(body: bytes) -> bytes:
    """A gzip member (RFC 1952) of `body`, fast level: responses are on the hot path."""
    c = _deflate.compressobj(GZIP_LEVEL, _deflate.DEFLATED, 31)
    return c.compress(body) + c.flush()
