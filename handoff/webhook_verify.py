"""Verify a Bolt webhook on the receiving side (docs/webhooks.md).

Standard library only, so a receiver can copy this file as it is. The tests verify the service's
deliveries with it, and docs/webhooks.md shows `verify_webhook` exactly as it is here.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections import OrderedDict

TOLERANCE_SECONDS = 300  # five minutes


class InvalidSignature(ValueError):
    """Not a genuine, fresh Bolt webhook: answer 400 and ignore the request."""


def verify_webhook(body: bytes, signature_header: str | None, secret: str,
                   tolerance: int = TOLERANCE_SECONDS, now: float | None = None) -> dict:
    """The event of a genuine webhook signed less than `tolerance` seconds ago.

    `body` is the raw request body (bytes, before any JSON parsing) and `signature_header`
    the value of `X-Bolt-Signature`: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
    Raises `InvalidSignature` for a missing or malformed header, a timestamp outside the
    window (a replayed or very late request) or a signature that does not match.
    """
    if not signature_header:
        raise InvalidSignature("no X-Bolt-Signature header")
    timestamp, signatures = None, []
    for part in signature_header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)  # any one of several may match (room for a secret rotation)
    if timestamp is None or not signatures:
        raise InvalidSignature("malformed X-Bolt-Signature header")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise InvalidSignature("timestamp outside the tolerance window")
    signed = str(timestamp).encode("ascii") + b"." + body
    expected = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise InvalidSignature("signature does not match")
    try:
        return json.loads(body)
    except ValueError:
        raise InvalidSignature("the body is not JSON") from None


class SeenEvents:
    """Event ids seen lately, to process each event once.

    A replay of a captured request inside the five-minute window carries an id already seen; a
    retry of a delivery whose answer got lost carries its id too (with a fresh signature).
    Remember ids for as long as the sender retries (a day) to skip both.
    """

    def __init__(self, keep_seconds: float = 24 * 3600, limit: int = 100_000) -> None:
        self.keep_seconds = keep_seconds
        self.limit = limit
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first_time(self, event_id: str, now: float | None = None) -> bool:
        current = time.time() if now is None else now
        while self._seen and (
            len(self._seen) >= self.limit or next(iter(self._seen.values())) < current - self.keep_seconds
        ):
            self._seen.popitem(last=False)
        if event_id in self._seen:
            return False
        self._seen[event_id] = current
        return True
