"""Queue order and positions, computed by the database.

Most urgent first: put back by the reassignment (its agent went offline), prioritized, then P1..P4 (no level after P4), then the first-response SLA
deadline (none after any), then waiting since (entering the queue, else creation), and the id,
so that the order is total. A position is the place within the conversation's own queue:
`ROW_NUMBER() OVER (PARTITION BY queue ORDER BY <that order>)`, one query for a whole queue
(SQLite >= 3.25 and PostgreSQL both have window functions).
"""
from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from bot.levels import PRIORITY_RANK
from handoff.models import WAITING, Conversation, Message
from handoff.repository.records import AgentInfo, conversation_dict


def urgency_order() -> list[ColumnElement[Any]]:
    """ORDER BY terms of the queue, most urgent first (the order of the module docstring)."""
    return [
        # Put back because its agent went offline: it was the most urgent once already.
        Conversation.queue_head.desc(),
        Conversation.prioritized.desc(),
        case(PRIORITY_RANK, value=Conversation.priority, else_=len(PRIORITY_RANK) + 1),
        # `IS NULL` sorts the deadlines first on both databases (NULLS LAST needs SQLite 3.30).
        Conversation.first_response_due.is_(None),
        Conversation.first_response_due,
        func.coalesce(Conversation.escalated_at, Conversation.created_at),
        Conversation.id,
    ]


def _position() -> ColumnElement[int]:
    return func.row_number().over(
        partition_by=Conversation.queue, order_by=urgency_order()
    ).label("position")


def _waiting_in(queues: Iterable[str]) -> ColumnElement[bool]:
    return and_(Conversation.status == WAITING, Conversation.queue.in_(list(queues)))


def position_of(session: Session, conversation: Conversation) -> int:
    """1-based place among the waiting conversations of its own queue."""
    waiting = _waiting_in([conversation.queue])
    ranked = select(Conversation.id, _position()).where(waiting).subquery()
    position = session.scalar(select(ranked.c.position).where(ranked.c.id == conversation.id))
    if position is not None:
        return position
    # Not waiting (any more): it would come after everyone who is.
    return 1 + session.scalar(select(func.count()).select_from(Conversation).where(waiting))


def queue_positions(session: Session, queue: str) -> list[tuple[str, int]]:
    """(conversation id, position) of everyone waiting in `queue`, in queue order."""
    position = _position()
    rows = session.execute(
        select(Conversation.id, position).where(_waiting_in([queue])).order_by(position)
    )
    return [(conversation_id, number) for conversation_id, number in rows]


def queue_view(session: Session, agent: AgentInfo, average_minutes: int) -> list[dict[str, Any]]:
    """What `agent` sees: the waiting conversations of their tiers, most urgent first, each with
    its position in its own queue, estimated wait and message count (one query)."""
    message_count = (
        select(func.count(Message.id))
        .where(Message.conversation_id == Conversation.id)
        .correlate(Conversation)
        .scalar_subquery()
        .label("message_count")
    )
    query = (
        select(Conversation, _position(), message_count)
        .where(_waiting_in(agent.tiers))
        .order_by(*urgency_order())
    )
    items = []
    for conversation, position, count in session.execute(query):
        item = conversation_dict(conversation)
        item["position"] = position
        item["estimated_wait_minutes"] = position * average_minutes
        item["message_count"] = count
        items.append(item)
    return items
