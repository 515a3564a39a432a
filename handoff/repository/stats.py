"""Numbers of the support operation, computed by the database: the `/metrics` series that are
facts of rows (`handoff/metrics.py`) and the supervisors' day (`GET /api/stats/today`).

Each is a handful of aggregate queries (COUNT/SUM with CASE per histogram bucket), the same on
SQLite and PostgreSQL except how the seconds between two timestamps are written.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Sequence

from sqlalchemy import and_, case, column, distinct, exists, func, inspect, literal, or_, select, table
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from handoff.models import AGENT_MODE, QUEUES, WAITING, AgentAction, Conversation, Csat, Message, Ticket, utcnow

PRIORITIES = ("P1", "P2", "P3", "P4")
# bolt_wait_seconds: escalation to the first agent message.
WAIT_BUCKETS = (30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0)
CSAT_BUCKETS = (1.0, 2.0, 3.0, 4.0, 5.0)
RASA_EVENTS = table("events", column("type_name"), column("intent_name"), column("timestamp"))
FALLBACK_INTENT = "nlu_fallback"


def seconds_between(session: Session, later: Any, earlier: Any) -> ColumnElement[float]:
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return func.extract("epoch", later - earlier)


def _histogram(session: Session, value: ColumnElement[float], buckets: Sequence[float], *where: Any) -> dict[str, Any]:
    """{"buckets": [(le, cumulative count)...], "count", "sum"} in one query."""
    columns = [func.sum(case((value <= le, 1), else_=0)) for le in buckets]
    row = session.execute(select(func.count(), func.coalesce(func.sum(value), 0.0), *columns).where(*where)).one()
    count, total = int(row[0] or 0), float(row[1] or 0.0)
    return {"buckets": [(le, int(n or 0)) for le, n in zip(buckets, row[2:])], "count": count, "sum": total}


def _answered(session: Session) -> tuple[ColumnElement[float], list[Any]]:
    wait = seconds_between(session, Conversation.first_response_at, Conversation.escalated_at)
    return wait, [Conversation.first_response_at.is_not(None), Conversation.escalated_at.is_not(None),
                  Conversation.first_response_at >= Conversation.escalated_at]


def _breached(now: datetime) -> ColumnElement[bool]:
    """A first-response deadline missed: answered after it, or still unanswered with the agents."""
    return and_(Conversation.first_response_due.is_not(None), or_(
        Conversation.first_response_at > Conversation.first_response_due,
        and_(Conversation.first_response_at.is_(None), Conversation.first_response_due < now,
             Conversation.status.in_(AGENT_MODE)),
    ))


def _has_user_message() -> ColumnElement[bool]:
    return exists().where(Message.conversation_id == Conversation.id, Message.sender == "user")


def _bot_only() -> ColumnElement[bool]:
    """Never queued for an agent and no ticket: the bot answered alone."""
    return and_(Conversation.escalated_at.is_(None), _has_user_message(),
                ~exists().where(Ticket.conversation_id == Conversation.id))


def metrics_snapshot(session: Session) -> dict[str, Any]:
    now = utcnow()
    waiting = {(q, p): 0 for q in QUEUES for p in PRIORITIES}
    for queue, priority, count in session.execute(
        select(Conversation.queue, Conversation.priority, func.count())
        .where(Conversation.status == WAITING).group_by(Conversation.queue, Conversation.priority)
    ):
        waiting[(queue or "none", priority or "none")] = count
    breaches = {p: 0 for p in PRIORITIES}
    for priority, count in session.execute(
        select(Conversation.priority, func.count()).where(_breached(now)).group_by(Conversation.priority)
    ):
        breaches[priority or "none"] = count
    wait, answered = _answered(session)
    outcomes = {
        "bot_only": session.scalar(select(func.count()).select_from(Conversation).where(_bot_only())),
        "escalated": session.scalar(select(func.count()).where(Conversation.escalated_at.is_not(None))),
        # A conversation resolved twice (escalated again after a resolve) counts once per resolve.
        "resolved": session.scalar(
            select(func.count()).select_from(AgentAction)
            .where(AgentAction.action == "resolve",
                   exists().where(Conversation.id == AgentAction.conversation_id))),
        "ticket": session.scalar(select(func.count()).select_from(Ticket)),
    }
    return {
        "waiting": waiting,
        "breaches": breaches,
        "wait": _histogram(session, wait, WAIT_BUCKETS, *answered),
        "csat": _histogram(session, Csat.score * 1.0, CSAT_BUCKETS, Csat.score.is_not(None)),
        "outcomes": {k: int(v or 0) for k, v in outcomes.items()},
        "bot": bot_answers(session),
    }


def bot_answers(session: Session) -> dict[str, int] | None:
    """User messages Rasa understood and those it fell back on (its tracker store shares the
    database: user events in `events`, `intent_name` nlu_fallback); None without the table."""
    if not inspect(session.connection()).has_table("events"):
        return None
    row = session.execute(
        select(func.count(), func.coalesce(func.sum(case((RASA_EVENTS.c.intent_name == FALLBACK_INTENT, 1), else_=0)), 0))
        .select_from(RASA_EVENTS).where(RASA_EVENTS.c.type_name == "user")
    ).one()
    return {"messages": int(row[0] or 0), "fallbacks": int(row[1] or 0)}


def start_of_day(now: datetime | None = None) -> datetime:
    now = now or utcnow()
    return now.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


def today(session: Session) -> dict[str, Any]:
    """The supervisors' page: since 00:00 UTC."""
    now = utcnow()
    midnight = start_of_day(now)
    started_today = Conversation.created_at >= midnight
    volume = session.scalar(select(func.count()).select_from(Conversation).where(started_today, _has_user_message())) or 0
    bot_only = session.scalar(select(func.count()).select_from(Conversation).where(started_today, _bot_only())) or 0
    escalated_today = Conversation.escalated_at >= midnight
    wait, answered = _answered(session)
    average_wait = session.scalar(select(func.avg(wait)).where(escalated_today, *answered))
    csat = session.execute(select(func.count(), func.avg(Csat.score)).where(Csat.score.is_not(None), Csat.at >= midnight)).one()
    waiting_by_queue = dict(session.execute(
        select(Conversation.queue, func.count()).where(Conversation.status == WAITING).group_by(Conversation.queue)).all())
    return {
        "since": midnight.isoformat(),
        "volume": volume,
        "escalated": session.scalar(select(func.count()).where(escalated_today)) or 0,
        "waiting": sum(waiting_by_queue.values()),
        "waiting_by_queue": {q: waiting_by_queue.get(q, 0) for q in QUEUES},
        "sla_breaches": session.scalar(select(func.count()).where(escalated_today, _breached(now))) or 0,
        "average_wait_seconds": round(float(average_wait), 1) if average_wait is not None else None,
        "csat": {"count": int(csat[0] or 0), "average": round(float(csat[1]), 2) if csat[1] is not None else None},
        "tickets": session.scalar(select(func.count()).select_from(Ticket).where(Ticket.created_at >= midnight)) or 0,
        "bot_only": bot_only,
        "bot_only_share": round(bot_only / volume, 3) if volume else None,
    }
