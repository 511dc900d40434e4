"""One error vocabulary for the HTTP API (SPEC §5 "Errors").

Handlers raise `ApiError` subclasses; the app renders every error, including FastAPI's
validation errors and unexpected exceptions, as `{"error": {"code": int, "message": str}}`.
Messages name the bad value and say what to do; they never include file-system paths.
"""

from __future__ import annotations


class ApiError(Exception):
    """An error whose message is safe to show to the client."""

    code = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(ApiError):
    code = 400


class Unauthorized(ApiError):
    code = 401


class NotFound(ApiError):
    code = 404


class Unavailable(ApiError):
    """Busy: the client may retry (answered with Retry-After)."""

    code = 503


def error_body(code: int, message: str) -> dict:
    """The JSON body of every error response."""
    return {"error": {"code": int(code), "message": str(message)}}
