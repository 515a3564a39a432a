"""The integrations' outbox: webhook POSTs and emails, sent off the chat's path and retried.

A delivery is a row of `handoff_outbox`, written in the same transaction as the change that
caused it (handoff/integrations.py): it exists exactly when the change does, and it survives a
restart. A worker per service instance claims due rows, sends them and records the outcome.

- Claiming is one short transaction: `SELECT ... FOR UPDATE SKIP LOCKED` picks due rows no other
  instance is claiming at that moment (PostgreSQL; SQLite, which runs one process, serializes its
  writers anyway), and a lease (`next_attempt_at` = now + lease, `locked_by` = this instance)
  keeps the other instances off them while they are sent. No transaction stays open during a
  send. When an instance dies while sending, its lease runs out and any instance tries again.
- Deliveries of one channel with the same ordering key (a conversation) go out one after the
  other, in the order they were written: a row waits while an earlier one is still pending.
- A failure schedules the next try by `Backoff`; once it gives up, the delivery is `failed` and
  stays listed for supervisors (handoff/deliveries.py), who can replay it.

Delivery is at least once: a receiver whose 2xx got lost may see an event twice, with the same
`id` (docs/webhooks.md tells receivers to skip ids they have seen).
"""
from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from datetime import datetime, timedelta
from typing import Any, Iterable, Protocol, Sequence

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from handoff import repository
from handoff.db import Database
from handoff.errors import BadRequest, Conflict, NotFound
from handoff.models import DELIVERED, DELIVERY_STATES, FAILED, PENDING, Delivery, utcnow
from handoff.retry import Backoff

logger = logging.getLogger(__name__)

# A pending delivery that has failed at least once: what supervisors look at with `failed`.
RETRYING = "retrying"
LISTABLE = (*DELIVERY_STATES, RETRYING)
PRUNE_EVERY_SECONDS = 3600.0


class DeliveryError(Exception):
    """A send that did not work. `status`: the receiver's HTTP status or SMTP reply code;
    `permanent` ones (an SMTP 5xx) are not retried but marked failed at once."""

    def __init__(self, message: str, status: int | None = None, permanent: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.permanent = permanent


class Sender(Protocol):
    channel: str

    async def send(self, delivery: dict[str, Any]) -> int:
        """Send one claimed delivery; return the status code, or raise `DeliveryError`."""


def new_event_id() -> str:
    return "evt_" + secrets.token_hex(12)


# --- database work ---------------------------------------------------------------------------

def delivery_dict(row: Delivery, with_payload: bool = False) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": row.id,
        "channel": row.channel,
        "event": row.event,
        "event_id": row.event_id,
        "about": row.ordering_key,
        "status": row.status,
        "retrying": row.status == PENDING and row.last_error is not None,
        "attempts": row.attempts,
        "next_attempt_at": repository.iso(row.next_attempt_at) if row.status == PENDING else None,
        "last_status": row.last_status,
        "last_error": row.last_error,
        "last_attempt_at": repository.iso(row.last_attempt_at),
        "delivered_at": repository.iso(row.delivered_at),
        "replayed_at": repository.iso(row.replayed_at),
        "created_at": repository.iso(row.created_at),
    }
    if with_payload:
        item["payload"] = row.payload
    return item


def enqueue(
    session: Session, channel: str, event: str, ordering_key: str, payload: dict[str, Any],
    event_id: str | None = None,
) -> dict[str, Any]:
    """Add a delivery, due now, to the caller's transaction."""
    row = Delivery(
        channel=channel, event=event, event_id=event_id or new_event_id(), ordering_key=ordering_key,
        payload=payload, status=PENDING, attempts=0, next_attempt_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return delivery_dict(row)


def _first_in_line() -> Any:
    """No earlier delivery of the same channel and ordering key is still pending."""
    earlier = aliased(Delivery)
    return ~exists().where(
        earlier.channel == Delivery.channel,
        earlier.ordering_key == Delivery.ordering_key,
        earlier.status == PENDING,
        earlier.id < Delivery.id,
    )


def next_due(session: Session, channels: Sequence[str]) -> datetime | None:
    """When the earliest delivery that may go next is due (None: nothing pending)."""
    return session.scalar(
        select(func.min(Delivery.next_attempt_at)).where(
            Delivery.status == PENDING, Delivery.channel.in_(list(channels)), _first_in_line()
        )
    )


def claim_due(
    session: Session, channels: Sequence[str], instance: str, lease_seconds: float, limit: int
) -> list[dict[str, Any]]:
    """Lease up to `limit` due deliveries to `instance`; rows other instances hold are skipped."""
    now = utcnow()
    rows = session.scalars(
        select(Delivery)
        .where(
            Delivery.status == PENDING,
            Delivery.channel.in_(list(channels)),
            Delivery.next_attempt_at <= now,
            _first_in_line(),
        )
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for row in rows:
        row.attempts += 1
        row.locked_by = instance
        row.last_attempt_at = now
        row.next_attempt_at = now + timedelta(seconds=lease_seconds)
    session.flush()
    return [delivery_dict(row, with_payload=True) for row in rows]


def _leased(session: Session, delivery_id: int, instance: str) -> Delivery | None:
    """The delivery, if `instance` still holds its lease (else another instance took over)."""
    row = session.get(Delivery, delivery_id, with_for_update=True)
    if row is None or row.status != PENDING or row.locked_by != instance:
        return None
    return row


def record_sent(session: Session, delivery_id: int, instance: str, status: int) -> None:
    row = _leased(session, delivery_id, instance)
    if row is None:
        return
    row.status = DELIVERED
    row.delivered_at = utcnow()
    row.last_status = status
    row.last_error = None
    row.locked_by = None


def record_failure(
    session: Session, delivery_id: int, instance: str, error: DeliveryError, backoff: Backoff
) -> dict[str, Any] | None:
    """Schedule the next try, or mark the delivery failed when `backoff` gives up."""
    row = _leased(session, delivery_id, instance)
    if row is None:
        return None
    now = utcnow()
    age = (now - (row.replayed_at or row.created_at)).total_seconds()
    wait = None if error.permanent else backoff.delay(row.attempts, age)
    row.last_status = error.status
    row.last_error = str(error)[:1000] or error.__class__.__name__
    row.locked_by = None
    if wait is None:
        row.status = FAILED
    else:
        row.next_attempt_at = now + timedelta(seconds=wait)
    return delivery_dict(row)


def release(session: Session, delivery_ids: Iterable[int], instance: str) -> None:
    """Give back leases of sends that a shutdown interrupted: they are due again at once."""
    ids = list(delivery_ids)
    if not ids:
        return
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids), Delivery.locked_by == instance, Delivery.status == PENDING)
        .values(locked_by=None, next_attempt_at=utcnow(), attempts=Delivery.attempts - 1)
        .execution_options(synchronize_session=False)
    )


def prune(session: Session, keep_delivered_seconds: float, keep_failed_seconds: float) -> int:
    """Delete what need not be kept: payloads hold transcripts, so they go once they served."""
    now = utcnow()
    result = session.execute(
        delete(Delivery)
        .where(or_(
            and_(Delivery.status == DELIVERED, Delivery.delivered_at < now - timedelta(seconds=keep_delivered_seconds)),
            and_(Delivery.status == FAILED, Delivery.last_attempt_at < now - timedelta(seconds=keep_failed_seconds)),
        ))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def list_deliveries(session: Session, states: Iterable[str], limit: int) -> list[dict[str, Any]]:
    """Newest first; `retrying` selects pending deliveries that have failed at least once."""
    conditions = []
    for state in states:
        if state not in LISTABLE:
            raise BadRequest(f"'status' must be among {', '.join(LISTABLE)}", code="invalid_status")
        if state == RETRYING:
            conditions.append(and_(Delivery.status == PENDING, Delivery.last_error.is_not(None)))
        else:
            conditions.append(Delivery.status == state)
    query = select(Delivery).order_by(Delivery.id.desc()).limit(limit)
    if conditions:
        query = query.where(or_(*conditions))
    return [delivery_dict(row) for row in session.scalars(query)]


def get_delivery(session: Session, delivery_id: int) -> dict[str, Any]:
    row = session.get(Delivery, delivery_id)
    if row is None:
        raise NotFound(f"no delivery {delivery_id}")
    return delivery_dict(row, with_payload=True)


def replay(session: Session, delivery_id: int, agent: str) -> dict[str, Any]:
    """Send a failed (or retrying) delivery again now, with the same event id."""
    row = session.get(Delivery, delivery_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no delivery {delivery_id}")
    now = utcnow()
    if row.status == DELIVERED:
        raise Conflict("this delivery has arrived already", code="already_delivered")
    if row.status == PENDING and row.locked_by and row.next_attempt_at > now:
        raise Conflict("this delivery is being sent right now", code="in_flight")
    row.status = PENDING
    row.attempts = 0
    row.locked_by = None
    row.next_attempt_at = now
    row.replayed_at = now
    kind, _, subject = row.ordering_key.partition(":")
    repository.audit(
        session, agent, "replay", subject if kind == "conversation" else None,
        delivery=row.id, event=row.event, event_id=row.event_id,
    )
    session.flush()
    return delivery_dict(row)


# --- the worker ------------------------------------------------------------------------------

class Outbox:
    """Claims due deliveries of the channels it has senders for, sends them, records the outcome.

    `wake()` after writing a delivery makes it go out at once; otherwise the worker sleeps until
    the next delivery is due, looking at least every `poll_seconds` (for rows other instances
    wrote).
    """

    def __init__(
        self, database: Database, senders: Iterable[Sender], *, backoff: Backoff,
        lease_seconds: float, poll_seconds: float, batch: int,
        keep_delivered_seconds: float = 7 * 86400, keep_failed_seconds: float = 30 * 86400,
    ) -> None:
        self.database = database
        self.senders = {sender.channel: sender for sender in senders}
        self.backoff = backoff
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.instance = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._stopping = False
        self._in_flight: set[int] = set()
        self.keep_delivered_seconds = keep_delivered_seconds
        self.keep_failed_seconds = keep_failed_seconds
        self._pruned_at = 0.0

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(self.senders)

    def wake(self) -> None:
        self._wake.set()

    async def run_once(self) -> int:
        """Claim one batch and send it; returns how many deliveries were claimed."""
        if not self.senders:
            return 0
        claimed = await self.database.write(
            claim_due, self.channels, self.instance, self.lease_seconds, self.batch
        )
        if claimed:
            outcomes = await asyncio.gather(*(self._deliver(d) for d in claimed), return_exceptions=True)
            for outcome in outcomes:
                if isinstance(outcome, BaseException):  # recording failed: the lease runs out, a retry follows
                    logger.error("recording a delivery's outcome failed: %r", outcome)
        return len(claimed)

    async def _deliver(self, delivery: dict[str, Any]) -> None:
        self._in_flight.add(delivery["id"])
        try:
            status = await self.senders[delivery["channel"]].send(delivery)
        except DeliveryError as error:
            logger.warning(
                "%s %s (%s) try %d failed: %s", delivery["channel"], delivery["event"],
                delivery["event_id"], delivery["attempts"], error,
            )
            await self.database.write(record_failure, delivery["id"], self.instance, error, self.backoff)
        except asyncio.CancelledError:
            raise  # stays in flight: `stop` gives its lease back
        except Exception as error:  # a sender bug: keep the traceback, retry like any failure
            logger.exception("%s %s (%s) raised", delivery["channel"], delivery["event"], delivery["event_id"])
            await self.database.write(
                record_failure, delivery["id"], self.instance,
                DeliveryError(f"internal error: {error.__class__.__name__}"), self.backoff,
            )
        else:
            await self.database.write(record_sent, delivery["id"], self.instance, status)
        self._in_flight.discard(delivery["id"])

    async def _seconds_until_due(self) -> float:
        due = await self.database.read(next_due, self.channels)
        if due is None:
            return self.poll_seconds
        return min(self.poll_seconds, max(0.0, (due - utcnow()).total_seconds()))

    async def _prune_now_and_then(self) -> None:
        loop = asyncio.get_running_loop()
        if loop.time() - self._pruned_at >= PRUNE_EVERY_SECONDS:
            self._pruned_at = loop.time()
            pruned = await self.database.write(prune, self.keep_delivered_seconds, self.keep_failed_seconds)
            if pruned:
                logger.info("outbox: %d old deliveries deleted", pruned)

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                await self._prune_now_and_then()
                claimed = await self.run_once()
                wait = 0.0 if claimed >= self.batch else await self._seconds_until_due()
                if not claimed:
                    wait = max(wait, 0.05)  # a due row another instance holds: don't spin
            except Exception:  # the database may be busy or gone for a moment: try again later
                logger.exception("outbox round failed")
                wait = self.poll_seconds
            if wait > 0 and not self._stopping:
                try:
                    await asyncio.wait_for(self._wake.wait(), wait)
                except asyncio.TimeoutError:
                    pass

    def start(self) -> None:
        if self.senders and self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="handoff-outbox")

    async def stop(self, grace_seconds: float = 5.0) -> None:
        """Let sends under way finish for a moment; give back the leases of the rest."""
        if self._task is None:
            return
        self._stopping = True
        self.wake()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace_seconds)
        except asyncio.TimeoutError:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        except Exception:
            logger.exception("outbox worker ended with an error")
        self._task = None
        if self._in_flight:
            await self.database.write(release, list(self._in_flight), self.instance)
            self._in_flight.clear()
