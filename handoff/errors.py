"""Domain errors of the live-agent service; `app.error_middleware` turns them into JSON answers."""
from __future__ import annotations

from http import HTTPStatus


class HandoffError(Exception):
    """An error the client caused or may act on: `status` is its HTTP status code; `code`, unless
    the raiser names a finer one, is the status's phrase in snake case ("not_found")."""

    status = HTTPStatus.BAD_REQUEST

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.status.phrase.lower().replace(" ", "_")


def status_error(status: HTTPStatus) -> type[HandoffError]:
    """The HandoffError of `status`, named after its phrase (404: `NotFound`)."""
    name = status.phrase.title().replace(" ", "")
    doc = f"{status.value} {status.phrase}."
    return type(name, (HandoffError,), {"status": status, "__doc__": doc, "__module__": __name__})


BadRequest = status_error(HTTPStatus.BAD_REQUEST)
Unauthorized = status_error(HTTPStatus.UNAUTHORIZED)
Forbidden = status_error(HTTPStatus.FORBIDDEN)
NotFound = status_error(HTTPStatus.NOT_FOUND)
Conflict = status_error(HTTPStatus.CONFLICT)


class TooManyRequests(HandoffError):
    """429 with `Retry-After` (whole seconds, at least 1)."""

    status = HTTPStatus.TOO_MANY_REQUESTS

    def __init__(self, message: str, retry_after: float, code: str | None = None) -> None:
        super().__init__(message, code)
        self.retry_after = max(1, int(retry_after + 0.999))

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}
