"""Security middleware (SPEC §9): response headers and the optional auth token.

- Every response carries a Content-Security-Policy (no inline script; scripts, styles,
  images and connections from this origin only; inline *styles* are allowed because
  plotly.js writes its own style rules) and `X-Content-Type-Options: nosniff`.
- With a token set (`--auth_token` or BOARD_AUTH_TOKEN) every route, static files and the
  event stream included, needs it: `Authorization: Bearer <token>`, or the cookie that
  visiting any URL with `?token=<token>` sets (the response redirects to the same URL
  without the token, so it does not linger in history or logs). Comparisons use
  hmac.compare_digest. TensorBoard itself has no authentication.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, quote, urlencode

from .errors import error_body

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
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


def _same(a: str, b: bytes) -> bool:
    return hmac.compare_digest(a.encode("utf-8", "surrogateescape"), b)


class TokenAuth:
    """Pure ASGI middleware: refuse every HTTP request that does not carry the token."""

    def __init__(self, app, token: str) -> None:
        if not token:
            raise ValueError("an empty auth token would refuse nothing; pass a non-empty one")
        self.app = app
        self.token = token.encode("utf-8")
        # The cookie holds a digest of the token, so any token text is a valid cookie value.
        self.cookie_value = hashlib.sha256(self.token).hexdigest().encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {}
        for k, v in scope.get("headers", []):
            headers.setdefault(k.decode("latin-1").lower(), v.decode("latin-1"))
        auth = headers.get("authorization", "")
        if auth[:7].lower() == "bearer " and _same(auth[7:].strip(), self.token):
            return await self.app(scope, receive, send)
        query = scope.get("query_string", b"").decode("latin-1")
        pairs = parse_qsl(query, keep_blank_values=True)
        offered = [v for k, v in pairs if k == "token"]
        if offered and _same(offered[-1], self.token):
            rest = urlencode([(k, v) for k, v in pairs if k != "token"])
            path = scope.get("root_path", "") + scope["path"]
            # One leading slash only: "//host/" or "/\\host" would send the browser elsewhere.
            path = "/" + quote(path.lstrip("/\\"), safe="/")
            location = path + (f"?{rest}" if rest else "")
            cookie = f"{COOKIE}={self.cookie_value.decode()}; Path=/; HttpOnly; SameSite=Strict"
            return await _respond(send, 303, b"", [(b"location", location.encode("latin-1")),
                                                   (b"set-cookie", cookie.encode("latin-1"))])
        jar = SimpleCookie()
        try:
            jar.load(headers.get("cookie", ""))
        except Exception:  # a malformed Cookie header is simply no cookie
            jar = SimpleCookie()
        morsel = jar.get(COOKIE)
        if morsel is not None and _same(morsel.value, self.cookie_value):
            return await self.app(scope, receive, send)
        body = json.dumps(error_body(401, "this board needs its auth token: send "
                                          "'Authorization: Bearer <token>' or open any page "
                                          "once with ?token=<token>")).encode()
        return await _respond(send, 401, body, [(b"content-type", b"application/json"),
                                                (b"www-authenticate", b"Bearer")])


async def _respond(send, status: int, body: bytes, headers: list) -> None:
    headers = headers + [(b"content-length", str(len(body)).encode()),
                         (b"content-security-policy", CSP.encode()),
                         (b"x-content-type-options", b"nosniff")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
