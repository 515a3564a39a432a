"""Outbound webhooks (docs/webhooks.md): the events, their payloads, and the signed POST.

Three events, each written to the outbox once per occurrence, in the transaction of the change:
`conversation.escalated` (a conversation entered the queue), `conversation.resolved` (an agent
resolved it) and `ticket.created`. The payload is a snapshot taken then: the conversation as
`GET /api/conversations/{id}` shows it (transcript included, redacted like everything stored,
with the account summary), or the ticket.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import Any, Callable
from urllib.parse import urlsplit

import aiohttp
from sqlalchemy.orm import Session

from handoff import outbox, repository
from handoff.models import utcnow
from handoff.outbox import DeliveryError

CHANNEL = "webhook"
ESCALATED = "conversation.escalated"
RESOLVED = "conversation.resolved"
TICKET_CREATED = "ticket.created"
EVENTS = (ESCALATED, RESOLVED, TICKET_CREATED)
SIGNATURE_HEADER = "X-Bolt-Signature"
USER_AGENT = "Bolt-Webhooks/1"


def conversation_event(session: Session, event: str, conversation_id: str) -> dict[str, Any]:
    """Write `event` about the conversation, as it stands in this transaction, to the outbox."""
    event_id = outbox.new_event_id()
    payload = {
        "event": event,
        "id": event_id,
        "at": repository.iso(utcnow()),
        "conversation": repository.get_conversation(session, conversation_id),
    }
    return outbox.enqueue(session, CHANNEL, event, f"conversation:{conversation_id}", payload, event_id)


def ticket_event(session: Session, ticket: dict[str, Any]) -> dict[str, Any]:
    """Write `ticket.created`; a ticket of a conversation lines up behind that conversation's events."""
    event_id = outbox.new_event_id()
    payload = {"event": TICKET_CREATED, "id": event_id, "at": repository.iso(utcnow()), "ticket": ticket}
    key = f"conversation:{ticket['conversation_id']}" if ticket.get("conversation_id") else f"ticket:{ticket['ticket_id']}"
    return outbox.enqueue(session, CHANNEL, TICKET_CREATED, key, payload, event_id)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `X-Bolt-Signature` value: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`."""
    mac = hmac.new(secret.encode("utf-8"), str(timestamp).encode("ascii") + b"." + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def check_url(url: str) -> str:
    """Refuse a webhook URL the service could never POST to (at start-up, not at the first event)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"HANDOFF_WEBHOOK_URL must be an http(s) URL, not {url!r}")
    return url


class WebhookSender:
    """POSTs a delivery's payload, signed when it is sent (each try carries a fresh timestamp,
    so a retry an hour later still passes the receiver's five-minute window)."""

    channel = CHANNEL

    def __init__(
        self, http: aiohttp.ClientSession, url: str, secret: str, timeout_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.http = http
        self.url = check_url(url)
        self.secret = secret
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self.clock = clock

    async def send(self, delivery: dict[str, Any]) -> int:
        body = json.dumps(delivery["payload"], ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "X-Bolt-Event": delivery["event"],
            "X-Bolt-Delivery": delivery["event_id"],
            SIGNATURE_HEADER: signature(self.secret, int(self.clock()), body),
        }
        try:
            async with self.http.post(
                self.url, data=body, headers=headers, timeout=self.timeout, allow_redirects=False
            ) as response:
                status = response.status
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            detail = str(error) or error.__class__.__name__
            raise DeliveryError(f"could not reach the receiver: {detail}") from None
        if not 200 <= status < 300:
            raise DeliveryError(f"the receiver answered HTTP {status}", status=status)
        return status
