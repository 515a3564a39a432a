"""Domain errors of the live-agent service; `app.error_middleware` turns them into JSON answers."""
from __future__ import annotations


class HandoffError(Exception):
    """An error the client caused or may act on; `status` is its HTTP status code."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class BadRequest(HandoffError):
    status = 400
    code = "bad_request"


class Unauthorized(HandoffError):
    status = 401
    code = "unauthorized"


class Forbidden(HandoffError):
    status = 403
    code = "forbidden"


class NotFound(HandoffError):
    status = 404
    code = "not_found"


class Conflict(HandoffError):
    status = 409
    code = "conflict"
