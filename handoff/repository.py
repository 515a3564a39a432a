"""Database work of the live-agent service: plain functions taking a session.

They run inside `Database.read` / `Database.write` (one transaction each, off the event loop)
and return plain dicts, so nothing lazy escapes the session. Every text is redacted before it
is stored.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Sequence

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from bot.redaction import redact
from handoff.errors import Conflict, Forbidden, NotFound
from handoff.models import (
    AGENT_MODE,
    BOT,
    CLAIMED,
    RESOLVED,
    WAITING,
    Agent,
    AgentAction,
    Conversation,
    Message,
    Ticket,
    utcnow,
)
from handoff.security import hash_password
from handoff.sla import SlaTable, deadlines

logger = logging.getLogger(__name__)

PRIORITY_RANK = {"P1": 1, "P2": 2, "P3": 3, "P4": 4}


@dataclass(frozen=True)
class AgentInfo:
    username: str
    name: str
    tiers: tuple[str, ...]
    roles: tuple[str, ...] = ()

    def can_handle(self, queue: str | None) -> bool:
        return queue is None or queue in self.tiers

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def as_dict(self) -> dict[str, Any]:
        return {"username": self.username, "name": self.name, "tiers": list(self.tiers),
                "roles": list(self.roles)}


# --- serialization ---------------------------------------------------------------------------

def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def message_dict(message: Message, agent_names: dict[str, str] | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"from": message.sender, "text": message.text, "at": iso(message.at)}
    if message.buttons:
        item["buttons"] = message.buttons
    if message.handoff:
        item["handoff"] = message.handoff
    if message.agent:
        item["agent"] = message.agent
        item["agent_name"] = (agent_names or {}).get(message.agent, message.agent)
    if message.client_id:
        item["client_id"] = message.client_id
    return item


def sla_dict(conversation: Conversation) -> dict[str, Any]:
    return {
        "first_response_due": iso(conversation.first_response_due),
        "restoration_due": iso(conversation.restoration_due),
        "first_response_at": iso(conversation.first_response_at),
    }


def conversation_dict(conversation: Conversation) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "status": conversation.status,
        "queue": conversation.queue,
        "priority": conversation.priority,
        "prioritized": bool(conversation.prioritized),
        "user_id": conversation.user_id,
        "language": conversation.language,
        "account": conversation.account or {},
        "summary": conversation.summary,
        "agent": conversation.agent,
        "escalated_at": iso(conversation.escalated_at),
        "claimed_at": iso(conversation.claimed_at),
        "sla": sla_dict(conversation),
        "tracker_event_pending": bool(conversation.tracker_event_pending),
        "created_at": iso(conversation.created_at),
        "updated_at": iso(conversation.updated_at),
    }


def transcript(session: Session, conversation_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)
    ).all()
    names: dict[str, str] = {}
    if any(m.agent for m in rows):
        names = dict(session.execute(select(Agent.username, Agent.name)).all())
    return [message_dict(m, names) for m in rows]


def conversation_detail(session: Session, conversation: Conversation) -> dict[str, Any]:
    detail = conversation_dict(conversation)
    detail["transcript"] = transcript(session, conversation.id)
    if conversation.status == WAITING:
        detail["position"] = position_of(session, conversation)
    return detail


# --- queue -----------------------------------------------------------------------------------

def queue_order_key(conversation: Conversation) -> tuple:
    """Most urgent first: prioritized, then P-level, then SLA deadline, then waiting time."""
    deadline = conversation.first_response_due
    waiting_since = conversation.escalated_at or conversation.created_at
    return (
        0 if conversation.prioritized else 1,
        PRIORITY_RANK.get(conversation.priority or "", 9),
        (0, deadline) if deadline else (1, waiting_since),
        waiting_since,
        conversation.id,
    )


def waiting_conversations(session: Session, queues: Iterable[str]) -> list[Conversation]:
    rows = session.scalars(
        select(Conversation).where(
            Conversation.status == WAITING, Conversation.queue.in_(list(queues))
        )
    ).all()
    return sorted(rows, key=queue_order_key)


def position_of(session: Session, conversation: Conversation) -> int:
    """1-based place among the waiting conversations of its own queue."""
    ordered = waiting_conversations(session, [conversation.queue])
    for index, other in enumerate(ordered, start=1):
        if other.id == conversation.id:
            return index
    return len(ordered) + 1


def queue_positions(session: Session, queue: str) -> list[tuple[str, int]]:
    """(conversation id, position) of everyone waiting in `queue`."""
    return [(c.id, n) for n, c in enumerate(waiting_conversations(session, [queue]), start=1)]


def queue_view(session: Session, agent: AgentInfo, average_minutes: int) -> list[dict[str, Any]]:
    ordered = waiting_conversations(session, agent.tiers)
    positions: dict[str, int] = {}
    items = []
    for conversation in ordered:
        positions[conversation.queue] = positions.get(conversation.queue, 0) + 1
        item = conversation_dict(conversation)
        item["position"] = positions[conversation.queue]
        item["estimated_wait_minutes"] = item["position"] * average_minutes
        item["message_count"] = session.scalar(
            select(func.count(Message.id)).where(Message.conversation_id == conversation.id)
        )
        items.append(item)
    return items


# --- conversations from the widget -----------------------------------------------------------

def open_conversation(
    session: Session, wanted_id: str | None, new_id: str, user_id: str | None, language: str | None
) -> tuple[dict[str, Any], list[dict[str, Any]], bool]:
    """Resume `wanted_id` when it exists and belongs to this user, else start `new_id`.

    Returns (conversation, history, resumed). A conversation of a signed-in user is resumed
    only with that user's token: the id alone does not hand over someone else's transcript.
    """
    if wanted_id:
        conversation = session.get(Conversation, wanted_id)
        if conversation is not None and conversation.user_id in (None, user_id):
            if user_id and not conversation.user_id:
                conversation.user_id = user_id
            if language and not conversation.language:
                conversation.language = language
            session.flush()
            return conversation_dict(conversation), transcript(session, conversation.id), True
    conversation = Conversation(id=new_id, status=BOT, user_id=user_id, language=language)
    session.add(conversation)
    session.flush()
    return conversation_dict(conversation), [], False


def conversation_state(session: Session, conversation_id: str) -> dict[str, Any]:
    """The conversation without its transcript (with its position while it waits)."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id}")
    state = conversation_dict(conversation)
    if conversation.status == WAITING:
        state["position"] = position_of(session, conversation)
    return state


def add_message(
    session: Session,
    conversation_id: str,
    sender: str,
    text: str,
    *,
    buttons: Sequence[dict[str, Any]] | None = None,
    handoff: dict[str, Any] | None = None,
    agent: str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    message = Message(
        conversation_id=conversation_id,
        sender=sender,
        text=redact(text or ""),
        buttons=[dict(b) for b in buttons] if buttons else None,
        handoff=handoff,
        agent=agent,
        at=at or utcnow(),
    )
    session.add(message)
    session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return message_dict(message)


def add_user_message(session: Session, conversation_id: str, text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Store the user's message; returns (message, conversation) so the caller can route it."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id}")
    message = add_message(session, conversation_id, "user", text)
    return message, conversation_dict(conversation)


def set_language(session: Session, conversation_id: str, language: str) -> None:
    session.execute(
        update(Conversation).where(Conversation.id == conversation_id).values(language=language)
    )


# --- intake (escalation) ---------------------------------------------------------------------

@dataclass(frozen=True)
class Escalation:
    conversation_id: str
    queue: str
    priority: str | None
    prioritized: bool
    user_id: str | None = None
    language: str | None = None
    summary: str | None = None
    account: dict[str, Any] | None = None
    transcript: tuple[dict[str, Any], ...] = ()


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def escalate(
    session: Session, escalation: Escalation, sla_table: SlaTable, average_minutes: int
) -> tuple[dict[str, Any], bool]:
    """Queue the conversation (idempotent); returns (intake answer, whether it newly entered the queue)."""
    now = utcnow()
    conversation = session.get(Conversation, escalation.conversation_id, with_for_update=True)
    if conversation is None:
        conversation = Conversation(id=escalation.conversation_id, status=BOT, created_at=now)
        session.add(conversation)
    if escalation.user_id and not conversation.user_id:
        conversation.user_id = escalation.user_id
    if escalation.language:
        conversation.language = escalation.language
    if escalation.account is not None:
        conversation.account = escalation.account
    if escalation.summary:
        conversation.summary = redact(escalation.summary)
    session.flush()

    has_messages = session.scalar(
        select(exists().where(Message.conversation_id == conversation.id))
    )
    if not has_messages:
        for item in escalation.transcript:
            sender = item.get("from")
            if sender not in ("user", "bot", "agent", "system"):
                continue
            add_message(
                session, conversation.id, sender, str(item.get("text") or ""),
                at=_parse_time(item.get("at")) or now,
            )

    newly_queued = False
    if conversation.status == CLAIMED:
        pass  # an agent already has it: a retried escalation changes nothing
    else:
        if conversation.status != WAITING:
            newly_queued = True
            conversation.status = WAITING
            conversation.escalated_at = now
            conversation.agent = None
            conversation.claimed_at = None
            conversation.first_response_at = None
            conversation.first_response_warned_at = None
            conversation.restoration_warned_at = None
        conversation.queue = escalation.queue
        conversation.priority = escalation.priority
        conversation.prioritized = escalation.prioritized
        conversation.first_response_due, conversation.restoration_due = deadlines(
            sla_table, escalation.priority, escalation.prioritized, conversation.escalated_at or now
        )
    conversation.updated_at = now
    session.flush()
    answer = {
        "conversation_id": conversation.id,
        "status": conversation.status,
        "queue": conversation.queue,
        "priority": conversation.priority,
        "prioritized": bool(conversation.prioritized),
        "position": 0,
        "estimated_wait_minutes": 0,
        "sla": {
            "first_response_due": iso(conversation.first_response_due),
            "restoration_due": iso(conversation.restoration_due),
        },
    }
    if conversation.status == WAITING:
        position = position_of(session, conversation)
        answer["position"] = position
        answer["estimated_wait_minutes"] = position * average_minutes
    return answer, newly_queued


# --- agents ----------------------------------------------------------------------------------

def agent_info(agent: Agent) -> AgentInfo:
    return AgentInfo(agent.username, agent.name, tuple(agent.tiers or ()), tuple(agent.roles or ()))


def find_agent(session: Session, username: str) -> AgentInfo | None:
    agent = session.get(Agent, username)
    if agent is None or not agent.active:
        return None
    return agent_info(agent)


def agent_password_hash(session: Session, username: str) -> tuple[str | None, AgentInfo | None]:
    agent = session.get(Agent, username)
    if agent is None or not agent.active:
        return None, None
    return agent.password_hash, agent_info(agent)


def seed_agents(session: Session, agents: Iterable[dict[str, Any]]) -> list[str]:
    """Create the agents that are missing; existing ones (and their passwords) stay as they are.

    Only the roles of an existing agent follow the file, so a database seeded before roles
    existed gets its supervisor.
    """
    created = []
    for entry in agents:
        username = str(entry["username"])
        roles = [str(role) for role in entry.get("roles") or []]
        existing = session.get(Agent, username)
        if existing is not None:
            if (existing.roles or []) != roles:
                existing.roles = roles
            continue
        session.add(
            Agent(
                username=username,
                name=str(entry.get("name") or username),
                password_hash=hash_password(str(entry["password"])),
                tiers=list(entry.get("tiers") or ["tier1"]),
                roles=roles,
            )
        )
        created.append(username)
    session.flush()
    return created


def audit(
    session: Session, agent: str, action: str, conversation_id: str | None = None, **detail: Any
) -> None:
    session.add(
        AgentAction(agent=agent, action=action, conversation_id=conversation_id, detail=detail or None)
    )


def _load_for_agent(session: Session, conversation_id: str, agent: AgentInfo) -> Conversation:
    conversation = session.get(Conversation, conversation_id, with_for_update=True)
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id}")
    if not agent.can_handle(conversation.queue):
        raise Forbidden(f"{conversation.queue} conversations are not for {agent.username}")
    return conversation


def _owned_by(session: Session, conversation_id: str, agent: AgentInfo) -> Conversation:
    conversation = _load_for_agent(session, conversation_id, agent)
    if conversation.status != CLAIMED:
        raise Conflict("the conversation is not claimed", code="not_claimed")
    if conversation.agent != agent.username:
        raise Forbidden("another agent owns this conversation", code="not_owner")
    return conversation


def get_conversation(session: Session, conversation_id: str) -> dict[str, Any]:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id}")
    return conversation_detail(session, conversation)


def claim(session: Session, conversation_id: str, agent: AgentInfo) -> tuple[dict[str, Any], bool]:
    """Exactly one agent wins: the conditional UPDATE only matches a still waiting row.

    Returns (conversation, True) for the winner, (conversation, False) for a repeated claim
    by the agent who already holds it.
    """
    now = utcnow()
    won = session.execute(
        update(Conversation)
        .where(
            Conversation.id == conversation_id,
            Conversation.status == WAITING,
            Conversation.queue.in_(list(agent.tiers)),
        )
        .values(status=CLAIMED, agent=agent.username, claimed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    conversation = session.get(Conversation, conversation_id, populate_existing=True)
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id}")
    if won:
        audit(session, agent.username, "claim", conversation_id)
        return conversation_detail(session, conversation), True
    if not agent.can_handle(conversation.queue):
        raise Forbidden(f"{conversation.queue} conversations are not for {agent.username}")
    if conversation.status == CLAIMED and conversation.agent == agent.username:
        return conversation_detail(session, conversation), False
    if conversation.status == CLAIMED:
        raise Conflict(f"already claimed by {conversation.agent}", code="already_claimed")
    raise Conflict(f"the conversation is {conversation.status}, not waiting", code="not_waiting")


def agent_message(
    session: Session, conversation_id: str, agent: AgentInfo, text: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    conversation = _owned_by(session, conversation_id, agent)
    if conversation.first_response_at is None:
        conversation.first_response_at = utcnow()
    message = add_message(session, conversation_id, "agent", text, agent=agent.username)
    audit(session, agent.username, "message", conversation_id)
    return message, conversation_dict(conversation)


def transfer(
    session: Session, conversation_id: str, agent: AgentInfo, queue: str,
    sla_table: SlaTable,
) -> dict[str, Any]:
    conversation = _load_for_agent(session, conversation_id, agent)
    if conversation.status == CLAIMED and conversation.agent != agent.username:
        raise Forbidden("another agent owns this conversation", code="not_owner")
    if conversation.status not in AGENT_MODE:
        raise Conflict(f"the conversation is {conversation.status}", code="not_in_queue")
    previous = conversation.queue
    conversation.queue = queue
    conversation.status = WAITING
    conversation.agent = None
    conversation.claimed_at = None
    conversation.updated_at = utcnow()
    audit(session, agent.username, "transfer", conversation_id, **{"from": previous, "to": queue})
    session.flush()
    return {**conversation_dict(conversation), "previous_queue": previous}


def close(session: Session, conversation_id: str, agent: AgentInfo, how: str) -> dict[str, Any]:
    """`resolve` (done) or `release` (back to the bot); either way Rasa answers next."""
    conversation = _load_for_agent(session, conversation_id, agent)
    if conversation.status == CLAIMED and conversation.agent != agent.username:
        raise Forbidden("another agent owns this conversation", code="not_owner")
    if conversation.status not in AGENT_MODE:
        raise Conflict(f"the conversation is {conversation.status}", code="not_with_agent")
    conversation.status = RESOLVED if how == "resolve" else BOT
    conversation.tracker_event_pending = True
    conversation.updated_at = utcnow()
    audit(session, agent.username, how, conversation_id)
    session.flush()
    return conversation_dict(conversation)


def tracker_event_delivered(session: Session, conversation_id: str) -> None:
    session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(tracker_event_pending=False)
    )


def pending_tracker_events(session: Session) -> list[str]:
    return list(
        session.scalars(select(Conversation.id).where(Conversation.tracker_event_pending.is_(True)))
    )


def record_login(session: Session, username: str) -> None:
    audit(session, username, "login")


# --- SLA reminders ---------------------------------------------------------------------------

def due_sla_warnings(session: Session, horizon: datetime) -> list[dict[str, Any]]:
    """Conversations whose deadline falls before `horizon`, each warned about once."""
    now = utcnow()
    warnings = []
    first = session.scalars(
        select(Conversation).where(
            Conversation.status.in_(AGENT_MODE),
            Conversation.first_response_at.is_(None),
            Conversation.first_response_due.is_not(None),
            Conversation.first_response_due <= horizon,
            Conversation.first_response_warned_at.is_(None),
        )
    ).all()
    for conversation in first:
        conversation.first_response_warned_at = now
        warnings.append(("first_response", conversation.first_response_due, conversation))
    restore = session.scalars(
        select(Conversation).where(
            Conversation.status.in_(AGENT_MODE),
            Conversation.restoration_due.is_not(None),
            Conversation.restoration_due <= horizon,
            Conversation.restoration_warned_at.is_(None),
        )
    ).all()
    for conversation in restore:
        conversation.restoration_warned_at = now
        warnings.append(("restoration", conversation.restoration_due, conversation))
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


# --- tickets ---------------------------------------------------------------------------------

def ticket_dict(ticket: Ticket) -> dict[str, Any]:
    return {
        "ticket_id": ticket.id,
        "status": ticket.status,
        "conversation_id": ticket.conversation_id,
        "user_id": ticket.user_id,
        "email": ticket.email,
        "subject": ticket.subject,
        "description": ticket.description,
        "language": ticket.language,
        "transcript": ticket.transcript or [],
        "account": ticket.account,
        "escalation": ticket.escalation,
        "created_at": iso(ticket.created_at),
    }


def store_ticket(session: Session, data: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Idempotent by ticket id; returns (ticket, created)."""
    existing = session.get(Ticket, data["ticket_id"])
    if existing is not None:
        return ticket_dict(existing), False
    ticket = Ticket(
        id=data["ticket_id"],
        conversation_id=data.get("conversation_id"),
        user_id=data.get("user_id"),
        email=data.get("email"),
        subject=redact(data.get("subject") or ""),
        description=redact(data.get("description") or ""),
        language=data.get("language"),
        transcript=[
            {**item, "text": redact(str(item.get("text") or ""))} for item in data.get("transcript") or []
        ],
        account=data.get("account"),
        escalation=data.get("escalation"),
    )
    session.add(ticket)
    session.flush()
    return ticket_dict(ticket), True


def list_tickets(session: Session, status: str | None, limit: int) -> list[dict[str, Any]]:
    query = select(Ticket).order_by(Ticket.created_at.desc(), Ticket.id).limit(limit)
    if status:
        query = query.where(Ticket.status == status)
    return [ticket_dict(t) for t in session.scalars(query)]


def get_ticket(session: Session, ticket_id: str) -> dict[str, Any]:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"no ticket {ticket_id}")
    return ticket_dict(ticket)
