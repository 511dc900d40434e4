"""Security middleware (SPEC §9): response headers and the optional auth token.

- Every response carries a Content-Security-Policy (no inline script; scripts, styles,
  images and connections from this origin only; inline *styles* are allowed because
  plotly.js writes its own style rules, and `'unsafe-eval'` because plotly's WebGL traces
  (the Runs tab's parallel coordinates) build their draw functions with `new Function`;
  the page's own code never evaluates strings; TensorBoard's policy allows it too),
  `worker-src 'self'` for the service worker that caches the hashed static files, and
  `X-Content-Type-Options: nosniff`.
- With a token set (`--auth_token` or BOARD_AUTH_TOKEN) every route, static files and the
  event stream included, needs it: `Authorization: Bearer <token>`, or the cookie that
  visiting any URL with `?token=<token>` sets (the response redirects to the same URL
  without the token, so it does not linger in history or logs). Comparisons use
  hmac.compare_digest. TensorBoard itself has no authentication.
- Only known host names are answered (`HostCheck`, against DNS rebinding): loopback names
  and `--host` by default, more with `--allowed_hosts`; IP addresses always.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, quote, urlencode

from .errors import error_body

CSP = ("default-src 'self'; script-src 'self' 'unsafe-eval'; worker-src 'self'; "
       "style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; connect-src 'self'; font-src 'self' data:; "
       "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'")
COOKIE = "board_token"
_EXTRA_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


class SecurityHeaders:
    """Pure ASGI middleware adding the security headers to every HTTP response."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in _EXTRA_HEADERS if k not in names]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
_WHITESPACE = " \t\r\n"


def check_token(token: str) -> str:
    """The token as the board uses it: surrounding whitespace is never part of a token, and a
    token that is empty once stripped is refused (it would guard nothing)."""
    stripped = token.strip(_WHITESPACE)
    if not stripped.strip():
        raise ValueError("the auth token is empty or whitespace, which would guard nothing; "
                         "pass a real one (e.g. --auth_token \"$(python3 -c 'import secrets; "
                         "print(secrets.token_urlsafe(24))')\") or leave the flag and "
                         "BOARD_AUTH_TOKEN unset")
    return stripped


def _header(scope, name: bytes) -> bytes:
    for k, v in scope.get("headers", []):
        if k.lower() == name:
            return v
    return b""


class TokenAuth:
    """Pure ASGI middleware: refuse every HTTP request that does not carry the token.

    One rule for the three carriers: the token is compared as UTF-8 bytes, without the
    whitespace around it, whether it comes in `Authorization: Bearer …` (the header's raw
    bytes), in `?token=…` (percent-decoded bytes) or as the cookie (a digest of the token)."""

    def __init__(self, app, token: str) -> None:
        self.app = app
        self.token = check_token(token).encode("utf-8", "surrogateescape")
        # The cookie holds a digest of the token, so any token text is a valid cookie value.
        self.cookie_value = hashlib.sha256(self.token).hexdigest().encode()

    def _same(self, offered: bytes) -> bool:
        return hmac.compare_digest(offered.strip(_WHITESPACE.encode()), self.token)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        auth = _header(scope, b"authorization")
        if auth[:7].lower() == b"bearer " and self._same(auth[7:]):
            return await self.app(scope, receive, send)
        # latin-1 maps each byte to one character and back: the offered bytes, unchanged.
        query = scope.get("query_string", b"").decode("latin-1")
        pairs = parse_qsl(query, keep_blank_values=True, encoding="latin-1")
        offered = [v for k, v in pairs if k == "token"]
        if offered and self._same(offered[-1].encode("latin-1")):
            rest = urlencode([(k, v) for k, v in pairs if k != "token"], encoding="latin-1")
            path = scope.get("root_path", "") + scope["path"]
            # One leading slash only: "//host/" or "/\\host" would send the browser elsewhere.
            path = "/" + quote(path.lstrip("/\\"), safe="/")
            location = path + (f"?{rest}" if rest else "")
            cookie = f"{COOKIE}={self.cookie_value.decode()}; Path=/; HttpOnly; SameSite=Strict"
            return await _respond(send, 303, b"", [(b"location", location.encode("latin-1")),
                                                   (b"set-cookie", cookie.encode("latin-1"))])
        jar = SimpleCookie()
        try:
            jar.load(_header(scope, b"cookie").decode("latin-1"))
        except Exception:  # a malformed Cookie header is simply no cookie
            jar = SimpleCookie()
        morsel = jar.get(COOKIE)
        if morsel is not None and hmac.compare_digest(morsel.value.encode("latin-1"),
                                                      self.cookie_value):
            return await self.app(scope, receive, send)
        body = json.dumps(error_body(401, "this board needs its auth token: send "
                                          "'Authorization: Bearer <token>' or open any page "
                                          "once with ?token=<token>")).encode()
        return await _respond(send, 401, body, [(b"content-type", b"application/json"),
                                                (b"www-authenticate", b"Bearer")])


def host_name(host: str) -> str:
    """The name in a Host header: without the port, brackets or a trailing dot, lower-case."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class HostCheck:
    """Pure ASGI middleware against DNS rebinding: a page on another site whose name is made
    to resolve to this machine sends its own name as Host, so only the names in `allowed`
    (loopback names by default), IP addresses (which no rebinding can fake) and requests
    without a Host header are answered; "*" allows every name."""

    def __init__(self, app, allowed) -> None:
        self.app = app
        self.allowed = frozenset(host_name(h) for h in allowed)
        self.any = "*" in self.allowed

    def allows(self, host: bytes) -> bool:
        name = host_name(host.decode("latin-1"))
        return self.any or not host or name in self.allowed or _is_ip(name)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        host = _header(scope, b"host")
        if self.allows(host):
            return await self.app(scope, receive, send)
        shown = host.decode("latin-1")[:100]
        body = json.dumps(error_body(400, f"this board does not answer to the host name "
                                          f"{shown!r} (it answers to "
                                          f"{', '.join(sorted(self.allowed))} and IP "
                                          f"addresses); if that name is yours, start it with "
                                          f"--allowed_hosts {host_name(shown) or 'NAME'}"))
        return await _respond(send, 400, body.encode(), [(b"content-type", b"application/json")])


async def _respond(send, status: int, body: bytes, headers: list) -> None:
    headers = headers + [(b"content-length", str(len(body)).encode()),
                         (b"content-security-policy", CSP.encode()),
                         (b"x-content-type-options", b"nosniff")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
