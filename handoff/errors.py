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


class TooManyRequests(HandoffError):
    """429 with `Retry-After` (whole seconds, at least 1)."""

    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, retry_after: float, code: str | None = None) -> None:
        super().__init__(message, code)
        self.retry_after = max(1, int(retry_after + 0.999))

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}
