"""Database work that must happen once, however many live-agent instances run.

Plain functions taking a session, like `handoff.repository`; they run inside `Database.write`.
- User messages waiting for the bot (`relay = 'pending'`): stored before they are relayed,
  answered once (the replies and the end of the wait are one transaction), recognised again
  by the widget's `client_id` when a client resends after a reconnect. What goes to Rasa with
  a message (its metadata: the identity token, the locale, as Rasa's tracker keeps them too)
  waits beside it in `relay_metadata` and is cleared once the bot answered.
- The `agent_handled` tracker event: a lease (`tracker_event_claimed_until`, a conditional
  UPDATE like the claim of a conversation) so one instance posts it.
- SLA reminders: the rows are claimed with `FOR UPDATE SKIP LOCKED`, so an instance that
  runs the same round at the same moment skips them instead of warning a second time.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, Sequence

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.orm import Session

from bot.redaction import redact
from handoff.errors import NotFound
from handoff.models import AGENT_MODE, Conversation, Message, utcnow
from handoff.repository import add_messages, conversation_dict, iso, message_dict, touch_conversation

PENDING = "pending"


# --- user messages and the bot ----------------------------------------------------------------
# Every widget message runs these, so they are SQLAlchemy Core statements built once (the ORM's
# unit of work and building a statement per call cost more CPU than the database did:
# docs/benchmarks.md, "The widget path"), run on the session's connection. They return the
# same dicts as the ORM rows would give.

CONVERSATIONS = Conversation.__table__
MESSAGES = Message.__table__
_CONVERSATION = select(CONVERSATIONS).where(CONVERSATIONS.c.id == bindparam("conversation_id"))
_BY_CLIENT_ID = select(MESSAGES).where(
    MESSAGES.c.conversation_id == bindparam("conversation_id"), MESSAGES.c.client_id == bindparam("client_id")
)
_INSERT = insert(MESSAGES)
_NEXT_PENDING = (
    select(MESSAGES)
    .where(MESSAGES.c.conversation_id == bindparam("conversation_id"), MESSAGES.c.relay == PENDING)
    .order_by(MESSAGES.c.id)
    .limit(1)
)
_ANSWER = (
    update(MESSAGES)
    .where(MESSAGES.c.id == bindparam("message_id"), MESSAGES.c.relay == PENDING)
    .values(relay=None, relay_metadata=None)
)
_CONVERSATION_OF = select(MESSAGES.c.conversation_id).where(MESSAGES.c.id == bindparam("message_id"))


def store_user_message(
    session: Session, conversation_id: str, text: str, client_id: str | None,
    metadata: dict[str, Any] | None,
) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """Store the user's message (waiting for the bot unless an agent has the conversation).

    Returns (message, conversation, duplicate): a message whose `client_id` is already stored
    is not stored again (`duplicate` True, the stored one returned). The message dict carries
    its `id`. Written with Core: a `Conversation` the caller loaded in this session keeps its
    old `updated_at` until expired.
    """
    connection = session.connection()
    conversation = connection.execute(_CONVERSATION, {"conversation_id": conversation_id}).first()
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id}")
    if client_id:
        existing = connection.execute(
            _BY_CLIENT_ID, {"conversation_id": conversation_id, "client_id": client_id}
        ).first()
        if existing is not None:
            return message_dict(existing), conversation_dict(conversation), True
    to_bot = conversation.status not in AGENT_MODE
    now = utcnow()
    values = dict(
        conversation_id=conversation_id, sender="user", text=redact(text), at=now, client_id=client_id,
        relay=PENDING if to_bot else None, relay_metadata=(metadata or {}) if to_bot else None,
    )
    message_id = connection.execute(_INSERT, values).inserted_primary_key[0]
    touch_conversation(connection, conversation_id, now)
    stored = message_dict(SimpleNamespace(buttons=None, handoff=None, agent=None, **values))
    stored["id"] = message_id
    return stored, {**conversation_dict(conversation), "updated_at": iso(now)}, False


@dataclass(frozen=True)
class PendingRelay:
    """A user message for the bot. Its `text` is the stored, redacted one: only the first
    attempt (in the request that received it) has the original, secrets included."""

    message_id: int
    text: str
    metadata: dict[str, Any]
    conversation: dict[str, Any]
    message: dict[str, Any]


def store_for_relay(
    session: Session, conversation_id: str, text: str, client_id: str | None,
    metadata: dict[str, Any] | None,
) -> tuple[dict[str, Any], dict[str, Any], bool, PendingRelay | None]:
    """`store_user_message` and, for a new message to the bot, the conversation's next pending
    message (this one, or an older one still waiting), in one transaction: for a caller that
    holds the conversation's lock already (the widget, then `handoff.relay.drain_held`)."""
    stored, conversation, duplicate = store_user_message(session, conversation_id, text, client_id, metadata)
    if duplicate or conversation["status"] in AGENT_MODE:
        return stored, conversation, duplicate, None
    return stored, conversation, duplicate, next_pending_relay(session, conversation_id, conversation)


def next_pending_relay(
    session: Session, conversation_id: str, conversation: dict[str, Any] | None = None
) -> PendingRelay | None:
    """The conversation's oldest user message the bot has not answered yet (with the
    conversation, read unless `conversation` is given: its dict as read in this transaction)."""
    connection = session.connection()
    message = connection.execute(_NEXT_PENDING, {"conversation_id": conversation_id}).first()
    if message is None:
        return None
    if conversation is None:
        conversation = conversation_dict(
            connection.execute(_CONVERSATION, {"conversation_id": conversation_id}).first()
        )
    return PendingRelay(
        message_id=message.id, text=message.text, metadata=dict(message.relay_metadata or {}),
        conversation=conversation, message=message_dict(message),
    )


def complete_relay(
    session: Session, message_id: int, replies: Sequence[dict[str, Any]], conversation_id: str | None = None,
) -> tuple[list[dict[str, Any]], PendingRelay | None]:
    """Store the bot's replies and end the wait of the user message, in one transaction, and
    read the conversation's next pending message in it (the relay's next step: one round trip
    to the database per relayed message instead of two).

    Returns the stored replies (with `buttons` and `handoff` when they had them) and the next
    pending message. A message that is no longer pending (another instance answered it)
    stores nothing. `conversation_id`: the message's, when the caller knows it.
    """
    connection = session.connection()
    answered = connection.execute(_ANSWER, {"message_id": message_id}).rowcount == 1
    if conversation_id is None:
        conversation_id = connection.execute(_CONVERSATION_OF, {"message_id": message_id}).scalar()
    stored = add_messages(session, conversation_id, "bot", replies) if answered else []
    return stored, next_pending_relay(session, conversation_id) if conversation_id else None


def divert_to_agents(session: Session, message_id: int) -> bool:
    """An agent took the conversation while the message waited: it is theirs, not the bot's."""
    return session.execute(
        update(Message)
        .where(Message.id == message_id, Message.relay == PENDING)
        .values(relay=None, relay_metadata=None)
        .execution_options(synchronize_session=False)
    ).rowcount == 1


def conversations_waiting_for_the_bot(session: Session, older_than: datetime, limit: int = 100) -> list[str]:
    """Conversations with a user message the bot has not answered, stored before `older_than`."""
    rows = session.execute(
        select(Message.conversation_id)
        .where(Message.relay == PENDING, Message.at < older_than)
        .group_by(Message.conversation_id)
        .order_by(Message.conversation_id)
        .limit(limit)
    ).scalars()
    return list(rows)


# --- the agent_handled tracker event ----------------------------------------------------------

def claim_tracker_event(session: Session, conversation_id: str, lease_seconds: float) -> bool:
    """Take the lease of the conversation's pending event; True when this caller may post it."""
    now = utcnow()
    return session.execute(
        update(Conversation)
        .where(
            Conversation.id == conversation_id,
            Conversation.tracker_event_pending.is_(True),
            or_(Conversation.tracker_event_claimed_until.is_(None),
                Conversation.tracker_event_claimed_until < now),
        )
        .values(tracker_event_claimed_until=now + timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False)
    ).rowcount == 1


def finish_tracker_event(session: Session, conversation_id: str, delivered: bool) -> None:
    values: dict[str, Any] = {"tracker_event_claimed_until": None}
    if delivered:
        values["tracker_event_pending"] = False
    session.execute(
        update(Conversation).where(Conversation.id == conversation_id).values(**values)
        .execution_options(synchronize_session=False)
    )


def unclaimed_tracker_events(session: Session, limit: int = 100) -> list[str]:
    now = utcnow()
    return list(session.scalars(
        select(Conversation.id)
        .where(
            Conversation.tracker_event_pending.is_(True),
            or_(Conversation.tracker_event_claimed_until.is_(None),
                Conversation.tracker_event_claimed_until < now),
        )
        .order_by(Conversation.updated_at)
        .limit(limit)
    ))


# --- SLA reminders ----------------------------------------------------------------------------

# The deadlines warned about: (kind, when it is due, when it was warned about, when it was met
# early: a first response needs no warning once it is given; a restoration has no such column).
SLA_DEADLINES = (
    ("first_response", Conversation.first_response_due, Conversation.first_response_warned_at,
     Conversation.first_response_at),
    ("restoration", Conversation.restoration_due, Conversation.restoration_warned_at, None),
)


def due_sla_warnings(session: Session, horizon: datetime) -> list[dict[str, Any]]:
    """Conversations whose deadline falls before `horizon`, each warned about once in all.

    `FOR UPDATE SKIP LOCKED` (PostgreSQL): a row another instance is warning about right now
    is skipped; once that instance commits, the row carries its `*_warned_at`.
    """
    now = utcnow()
    warnings = []
    for kind, due, warned, met in SLA_DEADLINES:
        conditions = [Conversation.status.in_(AGENT_MODE), due.is_not(None), due <= horizon, warned.is_(None)]
        if met is not None:
            conditions.append(met.is_(None))
        for conversation in session.scalars(
            select(Conversation).where(*conditions).with_for_update(skip_locked=True)
        ).all():
            setattr(conversation, warned.key, now)
            warnings.append((kind, getattr(conversation, due.key), conversation))
    session.flush()
    return [
        {
            "type": "sla_warning",
            "deadline": kind,
            "conversation_id": conversation.id,
            "queue": conversation.queue,
            "priority": conversation.priority,
            "agent": conversation.agent,
            "due": iso(due),
            "minutes_left": round((due - now).total_seconds() / 60, 1),
        }
        for kind, due, conversation in warnings
    ]
