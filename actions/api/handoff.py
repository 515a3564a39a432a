"""Client of the live-agent service's internal API (docs/internal-api.md), with an outbox.

`HandoffClient` makes the HTTP calls (aiohttp, timeouts, one pooled session per event loop).
`queue_or_ticket` and `submit_ticket` add what the actions need on top: when the service cannot
be reached, the request becomes a ticket persisted in the accounts database (`action_outbox`),
forwarded by `flush_outbox` once the service answers again, so nothing the user wrote is lost.
The action server runs `flush_outbox` every `OUTBOX_FLUSH_SECONDS` (`outbox_job`) and right
after a call that went through; each run claims the rows it sends (`claim_outbox`: `FOR UPDATE
SKIP LOCKED` and a lease), so several action servers never forward one ticket twice.

    python -m actions.api.handoff flush     # forward what waits in the outbox now
"""
from __future__ import annotations

import asyncio
import logging
import secrets
import string
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator
from urllib.parse import quote

import aiohttp
from sqlalchemy.orm import Session

from bot.accounts import repository
from bot.accounts.db import session_scope
from bot.settings import get_settings

logger = logging.getLogger(__name__)

TIMEOUT = aiohttp.ClientTimeout(total=8, connect=3)
TICKET_ALPHABET = "".join(c for c in string.ascii_uppercase + string.digits if c not in "O0I1")


class HandoffUnavailable(RuntimeError):
    """The live-agent service could not be reached or did not accept the call."""


def new_ticket_id() -> str:
    """`T-` + 6 characters (docs/internal-api.md), without look-alike characters."""
    return "T-" + "".join(secrets.choice(TICKET_ALPHABET) for _ in range(6))


class HandoffClient:
    """Calls `POST /internal/intake` and `POST /internal/tickets` with the service token."""

    def __init__(self, base_url: str, service_token: str, timeout: aiohttp.ClientTimeout = TIMEOUT):
        self.base_url = base_url.rstrip("/")
        self.service_token = service_token
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.flushing = False

    def _client_session(self) -> aiohttp.ClientSession:
        # A session belongs to the loop it was made on; tests run several loops in one process.
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            self._session = aiohttp.ClientSession(
                timeout=self.timeout,
                headers={"Authorization": f"Bearer {self.service_token}"},
            )
            self._loop = loop
        return self._session

    async def _post(self, path: str, payload: dict[str, Any], conflict_ok: bool = False) -> dict[str, Any] | None:
        """The service's JSON answer; None for a 409 when `conflict_ok` (a state, not a failure)."""
        url = f"{self.base_url}{path}"
        try:
            async with self._client_session().post(url, json=payload) as response:
                if response.status == 409 and conflict_ok:
                    return None
                if response.status >= 400:
                    body = (await response.text())[:300]
                    raise HandoffUnavailable(f"{path} answered {response.status}: {body}")
                return await response.json()
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            raise HandoffUnavailable(f"{path}: {error.__class__.__name__}: {error}") from error

    async def intake(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue a conversation; the answer holds `position`, `queue`, `priority`, …"""
        return await self._post("/internal/intake", payload)

    async def create_ticket(self, payload: dict[str, Any]) -> dict[str, Any]:
        return await self._post("/internal/tickets", payload)

    async def user_message(self, conversation_id: str, text: str, leave: bool = False,
                           priority: str | None = None) -> dict[str, Any] | None:
        """A REST-channel user's message for the agents (docs/internal-api.md); None when the
        conversation is with the bot again."""
        body: dict[str, Any] = {"text": text, "leave": leave}
        if priority:
            body["priority"] = priority
        return await self._post(f"/internal/conversations/{quote(conversation_id, safe='')}/messages",
                                body, conflict_ok=True)

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


_client: HandoffClient | None = None


def get_client() -> HandoffClient:
    """The action server's client, made on first use from the settings."""
    global _client
    if _client is None:
        settings = get_settings()
        _client = HandoffClient(settings.handoff_url, settings.service_token)
    return _client


def set_client(client: HandoffClient | None) -> None:
    """Replace the process-wide client (tests point it at their own server)."""
    global _client
    _client = client


@dataclass(frozen=True)
class QueueResult:
    """Either the intake answer (`queued`) or the ticket that replaced it (`unavailable`)."""

    status: str  # "queued" | "unavailable"
    answer: dict[str, Any] | None = None
    ticket_id: str | None = None


def ticket_from_intake(intake: dict[str, Any], ticket_id: str) -> dict[str, Any]:
    """The ticket that stands in for an escalation the service could not take."""
    account = intake.get("account") or {}
    summary = intake.get("summary") or ""
    return {
        "ticket_id": ticket_id,
        "conversation_id": intake.get("conversation_id"),
        "user_id": intake.get("user_id"),
        "email": account.get("email"),
        "subject": f"[{intake.get('priority', 'P3')}] {summary[:120]}".strip(),
        "description": summary,
        "language": intake.get("language"),
        "transcript": intake.get("transcript") or [],
        # What the agent would have seen in the queue; the service may ignore it.
        "escalation": {key: intake.get(key) for key in ("queue", "priority", "prioritized")},
        "account": account or None,
    }


@contextmanager
def _writing() -> Iterator[Session]:
    """A session for a write: on SQLite its transaction begins IMMEDIATE, so a writer waits its
    turn (busy timeout) instead of failing when another process writes at the same moment."""
    with session_scope() as session:
        session.connection(execution_options={"sqlite_immediate": True})
        yield session


def _store_in_outbox(kind: str, ticket_id: str, conversation_id: str | None, payload: dict[str, Any]) -> None:
    with _writing() as session:
        repository.add_outbox_entry(session, kind, ticket_id, conversation_id, payload)


_background: set[asyncio.Task] = set()


def _flush_soon(client: HandoffClient) -> None:
    """The service answers again: forward what waits in the outbox without delaying the user."""
    task = asyncio.get_running_loop().create_task(flush_outbox(client))
    _background.add(task)
    task.add_done_callback(_background.discard)


async def wait_for_background() -> None:
    """Let the outbox flushes started by earlier calls finish (tests, shutdown)."""
    while _background:
        await asyncio.gather(*list(_background), return_exceptions=True)


async def queue_or_ticket(intake: dict[str, Any], client: HandoffClient | None = None) -> QueueResult:
    """Queue the conversation, or persist it as a ticket when the service is unreachable."""
    client = client or get_client()
    try:
        answer = await client.intake(intake)
    except HandoffUnavailable as error:
        logger.warning("live-agent service unavailable, escalation becomes a ticket: %s", error)
        ticket_id = new_ticket_id()
        await asyncio.to_thread(
            _store_in_outbox, "ticket", ticket_id, intake.get("conversation_id"),
            ticket_from_intake(intake, ticket_id),
        )
        return QueueResult(status="unavailable", ticket_id=ticket_id)
    _flush_soon(client)
    return QueueResult(status="queued", answer=answer)


async def submit_ticket(ticket: dict[str, Any], client: HandoffClient | None = None) -> bool:
    """Send a web ticket; keep it in the outbox when the service is down. True if delivered now."""
    client = client or get_client()
    try:
        await client.create_ticket(ticket)
    except HandoffUnavailable as error:
        logger.warning("live-agent service unavailable, ticket %s waits in the outbox: %s",
                       ticket["ticket_id"], error)
        await asyncio.to_thread(
            _store_in_outbox, "ticket", ticket["ticket_id"], ticket.get("conversation_id"), ticket
        )
        return False
    _flush_soon(client)
    return True


# An entry being forwarded is another server's for this long (a crashed server's lease runs out).
OUTBOX_LEASE_SECONDS = 60


def _claim(limit: int) -> list[tuple[int, str, dict[str, Any]]]:
    with _writing() as session:
        return repository.claim_outbox(session, limit, OUTBOX_LEASE_SECONDS)


def _mark(entry_id: int, error: str | None) -> None:
    with _writing() as session:
        repository.mark_outbox(session, entry_id, error)


def _release(entry_ids: list[int]) -> None:
    with _writing() as session:
        repository.release_outbox(session, entry_ids)


async def flush_outbox(client: HandoffClient | None = None, limit: int = 50) -> int:
    """Forward waiting tickets in order; stop at the first failure. Returns how many went out."""
    client = client or get_client()
    if client.flushing:  # one flush at a time per process; other processes skip claimed rows
        return 0
    client.flushing = True
    delivered = 0
    try:
        claimed = await asyncio.to_thread(_claim, limit)
        for index, (entry_id, _kind, payload) in enumerate(claimed):
            try:
                await client.create_ticket(payload)
            except HandoffUnavailable as error:
                await asyncio.to_thread(_mark, entry_id, str(error))
                await asyncio.to_thread(_release, [e for e, _, _ in claimed[index + 1:]])
                break
            await asyncio.to_thread(_mark, entry_id, None)
            delivered += 1
    finally:
        client.flushing = False
    if delivered:
        logger.info("forwarded %d waiting ticket(s) to the live-agent service", delivered)
    return delivered


async def outbox_job(interval_seconds: float) -> None:
    """The action server's periodic flush: tickets reach the service even when no call comes."""
    while True:
        await asyncio.sleep(interval_seconds)
        try:
            await flush_outbox()
        except Exception:  # the accounts database may be down too: try again next round
            logger.exception("outbox flush failed")


async def _flush_command() -> int:
    client = get_client()
    try:
        delivered = await flush_outbox(client, limit=10_000)
    finally:
        await client.close()
    print(f"forwarded {delivered} ticket(s)")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] != ["flush"]:
        print(__doc__)
        sys.exit(2)
    sys.exit(asyncio.run(_flush_command()))
