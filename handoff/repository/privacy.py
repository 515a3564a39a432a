"""A user's data: export, deletion, the retention purge; and the audit log that records them.

What belongs to a user: their conversations (messages, notes, CSAT), their tickets (by user id
or by one of their conversations), the outbox rows about either (webhook and email payloads
carry transcripts), the action server's outbox rows of their conversations, and Rasa's
tracker events of their conversations (the tracker store shares the database: table `events`,
keyed by `sender_id`, which is our conversation id). The Rasa tables are looked up, not
assumed: a database without a tracker store (the service's tests) has none to delete.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import column, delete, func, inspect, or_, select, table, update
from sqlalchemy.orm import Session

from handoff.errors import NotFound
from handoff.models import AGENT_MODE, AgentAction, Conversation, Csat, Delivery, Job, Message, Note, Ticket, utcnow
from handoff.repository.desk import agent_view
from handoff.repository.records import iso
from handoff.repository.tickets import ticket_dict

# Rasa's SQLTrackerStore (rasa/core/tracker_store.py, SQLEvent) and the action server's outbox.
RASA_EVENTS = table("events", column("sender_id"), column("timestamp"))
ACTION_OUTBOX = table("action_outbox", column("conversation_id"))
SYSTEM_AGENT = "system"  # the audit log's agent for what no agent did (the retention purge)


def audit_dict(row: AgentAction) -> dict[str, Any]:
    return {"id": row.id, "agent": row.agent, "action": row.action, "conversation_id": row.conversation_id,
            "detail": row.detail or {}, "at": iso(row.at)}


def list_audit(session: Session, actions: list[str], agent: str | None, conversation_id: str | None,
               limit: int, before: int | None) -> list[dict[str, Any]]:
    """Newest first; `before` (an id) pages further back."""
    query = select(AgentAction).order_by(AgentAction.id.desc()).limit(limit)
    if actions:
        query = query.where(AgentAction.action.in_(actions))
    if agent:
        query = query.where(AgentAction.agent == agent)
    if conversation_id:
        query = query.where(AgentAction.conversation_id == conversation_id)
    if before:
        query = query.where(AgentAction.id < before)
    return [audit_dict(row) for row in session.scalars(query)]


def _user_conversation_ids(session: Session, user_id: str) -> list[str]:
    return list(session.scalars(select(Conversation.id).where(Conversation.user_id == user_id).order_by(Conversation.created_at)))


def _user_tickets(session: Session, user_id: str, conversation_ids: list[str]) -> Any:
    condition = Ticket.user_id == user_id
    if conversation_ids:
        condition = or_(condition, Ticket.conversation_id.in_(conversation_ids))
    return select(Ticket).where(condition).order_by(Ticket.created_at)


def export_user(session: Session, user_id: str, agent: str) -> dict[str, Any]:
    """Every conversation (transcript, notes, CSAT) and ticket of the user; audited. 404 when
    nothing of the user is stored."""
    ids = _user_conversation_ids(session, user_id)
    tickets = [ticket_dict(t) for t in session.scalars(_user_tickets(session, user_id, ids))]
    if not ids and not tickets:
        raise NotFound(f"no data of user {user_id}")
    session.add(AgentAction(agent=agent, action="export", detail={"user_id": user_id,
                            "conversations": len(ids), "tickets": len(tickets)}))
    return {"user_id": user_id, "exported_at": iso(utcnow()),
            "conversations": [agent_view(session, cid) for cid in ids], "tickets": tickets}


def _has_table(session: Session, name: str) -> bool:
    return inspect(session.connection()).has_table(name)


def _chunks(items: list[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _delete_conversations(session: Session, ids: list[str]) -> dict[str, int]:
    counts = {"conversations": 0, "messages": 0, "notes": 0, "csat": 0, "outbox": 0, "tracker_events": 0,
              "action_outbox": 0}
    rasa = _has_table(session, "events")
    actions = _has_table(session, "action_outbox")
    for chunk in _chunks(ids):
        keys = [f"conversation:{cid}" for cid in chunk]
        for name, statement in (
            ("messages", delete(Message).where(Message.conversation_id.in_(chunk))),
            ("notes", delete(Note).where(Note.conversation_id.in_(chunk))),
            ("csat", delete(Csat).where(Csat.conversation_id.in_(chunk))),
            ("outbox", delete(Delivery).where(Delivery.ordering_key.in_(keys))),
            ("conversations", delete(Conversation).where(Conversation.id.in_(chunk))),
        ):
            counts[name] += session.execute(statement.execution_options(synchronize_session=False)).rowcount
        if rasa:
            counts["tracker_events"] += session.execute(
                delete(RASA_EVENTS).where(RASA_EVENTS.c.sender_id.in_(chunk))).rowcount
        if actions:
            counts["action_outbox"] += session.execute(
                delete(ACTION_OUTBOX).where(ACTION_OUTBOX.c.conversation_id.in_(chunk))).rowcount
    return counts


def _delete_tickets(session: Session, ticket_ids: list[str]) -> dict[str, int]:
    counts = {"tickets": 0, "outbox": 0}
    for chunk in _chunks(ticket_ids):
        counts["outbox"] += session.execute(delete(Delivery).where(
            Delivery.ordering_key.in_([f"ticket:{tid}" for tid in chunk])).execution_options(synchronize_session=False)).rowcount
        counts["tickets"] += session.execute(delete(Ticket).where(Ticket.id.in_(chunk))
                                             .execution_options(synchronize_session=False)).rowcount
    return counts


def _merge(*parts: dict[str, int]) -> dict[str, int]:
    total: dict[str, int] = {}
    for part in parts:
        for key, value in part.items():
            total[key] = total.get(key, 0) + value
    return total


def delete_user_data(session: Session, user_id: str, agent: str) -> dict[str, Any]:
    """Delete everything of the user (see the module's docstring); audited with the counts.
    404 when nothing of the user is stored (a second delete)."""
    ids = _user_conversation_ids(session, user_id)
    ticket_ids = list(session.scalars(_user_tickets(session, user_id, ids).with_only_columns(Ticket.id)))
    if not ids and not ticket_ids:
        raise NotFound(f"no data of user {user_id}")
    counts = _merge(_delete_tickets(session, ticket_ids), _delete_conversations(session, ids))
    session.add(AgentAction(agent=agent, action="delete", detail={"user_id": user_id, **counts}))
    return {"user_id": user_id, "deleted": counts, "conversation_ids": ids}


def claim_job(session: Session, name: str, every_seconds: float, instance: str) -> bool:
    """Whether this instance runs `name` now: the one conditional UPDATE that moves the job's
    next run past now wins, on however many instances (SQLite and PostgreSQL alike)."""
    from datetime import timedelta

    now = utcnow()
    return session.execute(
        update(Job).where(Job.name == name, Job.next_run_at <= now)
        .values(next_run_at=now + timedelta(seconds=every_seconds), last_run_by=instance)
        .execution_options(synchronize_session=False)
    ).rowcount == 1


def _purge_rasa_only_trackers(session: Session, cutoff: datetime, limit: int) -> int:
    """Rasa trackers (REST channel users the widget never saw) whose latest event is older than
    `cutoff`: deleted whole, never cut in the middle (Rasa rebuilds a tracker from what is left)."""
    if not _has_table(session, "events"):
        return 0
    with_agents = select(Conversation.id).where(Conversation.status.in_(AGENT_MODE))
    stale = list(session.scalars(
        select(RASA_EVENTS.c.sender_id).where(RASA_EVENTS.c.sender_id.not_in(with_agents))
        .group_by(RASA_EVENTS.c.sender_id).having(func.max(RASA_EVENTS.c.timestamp) < cutoff.timestamp())
        .limit(limit)
    ))
    deleted = 0
    for chunk in _chunks(stale):
        deleted += session.execute(delete(RASA_EVENTS).where(RASA_EVENTS.c.sender_id.in_(chunk))).rowcount
    return deleted


def purge_expired(session: Session, cutoff: datetime, limit: int = 5000) -> dict[str, int]:
    """Delete transcripts (conversations with their messages, notes, ratings, tracker events,
    outbox rows) untouched since `cutoff`, and tickets created before it. A conversation still
    with the agents (waiting or claimed) is kept whatever its age."""
    ids = list(session.scalars(
        select(Conversation.id).where(Conversation.updated_at < cutoff, Conversation.status.not_in(AGENT_MODE))
        .order_by(Conversation.updated_at).limit(limit)
    ))
    ticket_ids = list(session.scalars(select(Ticket.id).where(Ticket.created_at < cutoff).limit(limit)))
    counts = _merge(_delete_tickets(session, ticket_ids), _delete_conversations(session, ids),
                    {"tracker_events": _purge_rasa_only_trackers(session, cutoff, limit)})
    if ids or ticket_ids:
        session.add(AgentAction(agent=SYSTEM_AGENT, action="purge", detail={"before": iso(cutoff), **counts}))
    session.execute(update(Job).where(Job.name == "retention_purge").values(last_result=counts)
                    .execution_options(synchronize_session=False))
    return counts


