"""Tables of the live-agent service (prefixed `handoff_`: the database is shared with the accounts)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import declarative_base, declared_attr, relationship
from sqlalchemy.sql import false
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
Base = declarative_base(metadata=metadata)

# Conversation states. `bot`: Rasa answers; `waiting`: queued for an agent; `claimed`: an agent
# owns it; `resolved`: an agent closed it (Rasa answers the next message again).
BOT, WAITING, CLAIMED, RESOLVED = "bot", "waiting", "claimed", "resolved"
AGENT_MODE = (WAITING, CLAIMED)
QUEUES = ("tier1", "tier2")
# An agent's chosen presence; `offline` (no socket) is computed, never stored.
ONLINE, AWAY, OFFLINE = "online", "away", "offline"
AGENT_STATUSES = (ONLINE, AWAY)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out (SQLite keeps no time zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


class OfConversation:
    """The id and the conversation of a row that belongs to one (a message, a note, a rating)."""

    id = Column(Integer, primary_key=True, autoincrement=True)

    @declared_attr
    def conversation_id(cls) -> Column:
        return Column(String(128), ForeignKey("handoff_conversations.id"), nullable=False, index=True)


class Agent(Base):
    __tablename__ = "handoff_agents"

    username = Column(String(64), primary_key=True)
    name = Column(String(200), nullable=False)
    password_hash = Column(String(255), nullable=False)
    tiers = Column(JSON, nullable=False, default=list)
    # Extra rights beside the tiers: `supervisor` (see fixtures/demo.yml). None means none.
    roles = Column(JSON)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    # Tokens issued at or before this moment are refused (set when a supervisor disables the agent).
    sessions_revoked_at = Column(UTCDateTime)
    # Presence (handoff/presence.py): what the agent chose (`online` | `away`); `offline` is no
    # console socket seen for `presence_timeout_seconds` on any instance (handoff_agent_sockets).
    status = Column(String(8), nullable=False, default=AWAY, server_default=AWAY)
    # At most this many claimed conversations are assigned to the agent (None: the config's default).
    max_concurrent = Column(Integer)
    # The last moment one of the agent's console sockets was seen (heartbeat or close).
    last_seen_at = Column(UTCDateTime)


class RevokedSession(Base):
    """A signed-out agent token (its `jti`), refused until it would have expired anyway."""

    __tablename__ = "handoff_revoked_sessions"

    session_id = Column(String(64), primary_key=True)
    agent = Column(String(64), nullable=False)
    expires_at = Column(UTCDateTime, nullable=False, index=True)
    revoked_at = Column(UTCDateTime, nullable=False, default=utcnow)


class AgentSocket(Base):
    """One open `/ws/agent` socket, on whichever instance holds it; kept fresh by that
    instance's heartbeat, so a socket of a killed instance goes stale by itself."""

    __tablename__ = "handoff_agent_sockets"

    id = Column(String(64), primary_key=True)
    agent = Column(String(64), ForeignKey("handoff_agents.username"), nullable=False)
    instance = Column(String(80), nullable=False)
    connected_at = Column(UTCDateTime, nullable=False, default=utcnow)
    last_seen_at = Column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (Index("ix_handoff_agent_sockets_agent_last_seen_at", "agent", "last_seen_at"),)


class Conversation(Base):
    __tablename__ = "handoff_conversations"

    id = Column(String(128), primary_key=True)  # Rasa's sender id
    status = Column(String(16), nullable=False, default=BOT)
    queue = Column(String(16))
    priority = Column(String(4))
    prioritized = Column(Boolean, nullable=False, default=False)
    user_id = Column(String(128), index=True)
    language = Column(String(8))
    account = Column(JSON)
    summary = Column(Text)
    agent = Column(String(64), ForeignKey("handoff_agents.username"))
    escalated_at = Column(UTCDateTime)  # when it entered the queue: the waiting-time tiebreak
    claimed_at = Column(UTCDateTime)
    first_response_due = Column(UTCDateTime)
    restoration_due = Column(UTCDateTime)
    first_response_at = Column(UTCDateTime)
    first_response_warned_at = Column(UTCDateTime)
    restoration_warned_at = Column(UTCDateTime)
    # The agent_handled slot still has to reach Rasa's tracker (Rasa was down at release).
    tracker_event_pending = Column(Boolean, nullable=False, default=False)
    # An instance is delivering that event until then (a lease, so it is posted once).
    tracker_event_claimed_until = Column(UTCDateTime)
    # Put back by the reassignment (its agent went offline): first in its queue until claimed.
    queue_head = Column(Boolean, nullable=False, default=False, server_default=false())
    # The user was told once per wait that their messages are kept for the agent.
    waiting_ack_at = Column(UTCDateTime)
    # Every online agent of the tier was alerted that the first-response deadline nears.
    first_response_alerted_at = Column(UTCDateTime)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = Column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    messages = relationship(
        "Message", order_by="Message.id", back_populates="conversation", lazy="raise"
    )

    def to_queue(self, now: datetime, *, head: bool = False) -> None:
        """Waiting in its queue with no agent on it; `head`: first in the queue until claimed."""
        self.status = WAITING
        self.agent = None
        self.claimed_at = None
        self.queue_head = head
        self.updated_at = now

    def assign(self, agent: str, now: datetime) -> None:
        """Claimed by `agent` (the conditional UPDATE of `repository.claim` writes the same)."""
        self.status = CLAIMED
        self.agent = agent
        self.claimed_at = now
        self.queue_head = False
        self.updated_at = now

    __table_args__ = (
        Index("ix_handoff_conversations_status_queue", "status", "queue"),
        Index("ix_handoff_conversations_status_agent", "status", "agent"),
    )


class Message(OfConversation, Base):
    __tablename__ = "handoff_messages"

    sender = Column(String(8), nullable=False)  # user | bot | agent | system
    text = Column(Text, nullable=False, default="")
    buttons = Column(JSON)
    handoff = Column(JSON)  # the bot's handoff marker, when this reply carried one
    agent = Column(String(64))
    at = Column(UTCDateTime, nullable=False, default=utcnow)
    # The widget's id of a user message: a resend after a reconnect is recognised by it.
    client_id = Column(String(64))
    # `pending` while the bot has yet to answer this user message (Rasa down or busy); NULL
    # once answered, and for every message that never goes to the bot.
    relay = Column(String(8), index=True)
    # What goes to Rasa with it (the identity token, the locale) while it waits; then cleared.
    relay_metadata = Column(JSON)

    conversation = relationship("Conversation", back_populates="messages", lazy="raise")

    __table_args__ = (
        Index("uq_handoff_messages_client_id", "conversation_id", "client_id", unique=True),
    )


class Ticket(Base):
    __tablename__ = "handoff_tickets"

    id = Column(String(16), primary_key=True)  # T-XXXXXX, chosen by the caller
    conversation_id = Column(String(128))
    user_id = Column(String(128), index=True)
    email = Column(String(320))
    subject = Column(Text, nullable=False, default="")
    description = Column(Text, nullable=False, default="")
    language = Column(String(8))
    transcript = Column(JSON, nullable=False, default=list)
    # What the agent would have seen in the queue when a ticket replaced an escalation.
    account = Column(JSON)
    escalation = Column(JSON)
    status = Column(String(16), nullable=False, default="open")
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)


class AgentAction(Base):
    """Audit log: who did what to which conversation, and when."""

    __tablename__ = "handoff_agent_actions"

    id = Column(Integer, primary_key=True, autoincrement=True)
    agent = Column(String(64), nullable=False, index=True)
    # login, claim, message, transfer, resolve, release; the security events of
    # handoff.repository.sessions.SECURITY_ACTIONS (sign-in refused or throttled, logout, disable)
    action = Column(String(32), nullable=False)
    conversation_id = Column(String(128), index=True)
    detail = Column(JSON)
    at = Column(UTCDateTime, nullable=False, default=utcnow, index=True)


# Outbox delivery states: `pending` (due at next_attempt_at, or leased by an instance until then),
# `delivered`, `failed` (given up: undeliverable until a supervisor replays it).
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
DELIVERY_STATES = (PENDING, DELIVERED, FAILED)


class Delivery(Base):
    """One webhook POST or one email to send, written in the transaction of what caused it.

    The outbox (handoff/outbox.py) claims due rows, sends them off the chat's path and
    retries with backoff, so a delivery survives a restart and a receiver that is down.
    """

    __tablename__ = "handoff_outbox"

    id = Column(Integer, primary_key=True, autoincrement=True)
    channel = Column(String(16), nullable=False)  # webhook | email
    event = Column(String(64), nullable=False)  # conversation.escalated, ..., transcript_email
    # The event's id as the receiver sees it; the same on every retry and replay.
    event_id = Column(String(64), nullable=False, unique=True)
    # Deliveries with the same key (one conversation, one ticket) go out in order of id.
    ordering_key = Column(String(160), nullable=False)
    payload = Column(JSON, nullable=False)
    status = Column(String(16), nullable=False, default=PENDING)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(UTCDateTime, nullable=False, default=utcnow)
    locked_by = Column(String(80))  # the instance holding the lease until next_attempt_at
    last_status = Column(Integer)  # HTTP status or SMTP reply code of the last attempt
    last_error = Column(Text)
    last_attempt_at = Column(UTCDateTime)
    delivered_at = Column(UTCDateTime)
    # A supervisor's replay starts the retry schedule (and its give-up clock) anew.
    replayed_at = Column(UTCDateTime)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (
        Index("ix_handoff_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_handoff_outbox_ordering_key", "ordering_key", "id"),
    )


class Note(OfConversation, Base):
    """An agent's internal note on a conversation: agents see it, the user never does."""

    __tablename__ = "handoff_notes"

    agent = Column(String(64), nullable=False)
    text = Column(Text, nullable=False)
    at = Column(UTCDateTime, nullable=False, default=utcnow)


class Csat(OfConversation, Base):
    """One rating asked for after a resolve (`requested_at`), answered or not (`score`)."""

    __tablename__ = "handoff_csat"

    agent = Column(String(64))  # who resolved it
    requested_at = Column(UTCDateTime, nullable=False, default=utcnow)
    score = Column(Integer)  # 1..5; NULL while unanswered
    comment = Column(Text)
    at = Column(UTCDateTime, index=True)  # when it was answered


class Job(Base):
    """A periodic job done once across every instance: whoever moves `next_run_at` runs it."""

    __tablename__ = "handoff_jobs"

    name = Column(String(64), primary_key=True)
    next_run_at = Column(UTCDateTime, nullable=False)
    last_run_by = Column(String(80))
    last_result = Column(JSON)
