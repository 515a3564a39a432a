"""Presence: which agents are online, away or offline, seen the same way by every instance.

An agent's choice (`online` | `away`) is a column; whether they are there at all is whether any
of their console sockets (`handoff_agent_sockets`, one row per open `/ws/agent`, on whichever
instance holds it) was seen within the timeout. Each instance marks its own sockets as seen on a
heartbeat, so the sockets of a killed instance go stale by themselves.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from handoff.models import AWAY, CLAIMED, OFFLINE, ONLINE, Agent, AgentSocket, Conversation, utcnow
from handoff.repository.records import iso


def _connected(cutoff: datetime):
    """SQL: the agent has a socket seen since `cutoff`, or closed their last one since then (a
    console reload is no absence)."""
    return or_(
        exists().where(AgentSocket.agent == Agent.username, AgentSocket.last_seen_at >= cutoff),
        Agent.last_seen_at >= cutoff,
    )


def socket_connected(
    session: Session, socket_id: str, username: str, instance: str, timeout_seconds: float
) -> None:
    """A console socket of `username` opened on `instance`.

    An agent coming back after being gone for longer than the timeout starts `away` (CONTRACT:
    a connected agent is away until it sets online); a reload within it keeps their choice.
    """
    now = utcnow()
    cutoff = now - timedelta(seconds=timeout_seconds)
    agent = session.get(Agent, username, with_for_update=True)
    if agent is None:
        return
    still_there = session.scalar(
        select(exists().where(AgentSocket.agent == username, AgentSocket.last_seen_at >= cutoff))
    )
    if not still_there and (agent.last_seen_at is None or agent.last_seen_at < cutoff):
        agent.status = AWAY
    agent.last_seen_at = now
    session.add(AgentSocket(id=socket_id, agent=username, instance=instance, connected_at=now, last_seen_at=now))
    session.flush()


def socket_closed(session: Session, socket_id: str) -> None:
    now = utcnow()
    username = session.scalar(select(AgentSocket.agent).where(AgentSocket.id == socket_id))
    session.execute(delete(AgentSocket).where(AgentSocket.id == socket_id))
    if username is not None:
        session.execute(
            update(Agent).where(Agent.username == username).values(last_seen_at=now)
            .execution_options(synchronize_session=False)
        )


def sockets_seen(session: Session, socket_ids: Iterable[str], forget_after_seconds: float) -> None:
    """The heartbeat of one instance: its open sockets (and their agents) are there now; socket
    rows nobody has seen for `forget_after_seconds` (a killed instance's) are deleted."""
    now = utcnow()
    ids = list(socket_ids)
    if ids:
        session.execute(
            update(AgentSocket).where(AgentSocket.id.in_(ids)).values(last_seen_at=now)
            .execution_options(synchronize_session=False)
        )
        agents = select(AgentSocket.agent).where(AgentSocket.id.in_(ids)).scalar_subquery()
        session.execute(
            update(Agent).where(Agent.username.in_(agents)).values(last_seen_at=now)
            .execution_options(synchronize_session=False)
        )
    session.execute(
        delete(AgentSocket).where(AgentSocket.last_seen_at < now - timedelta(seconds=forget_after_seconds))
    )


def set_status(session: Session, username: str, status: str) -> None:
    session.execute(
        update(Agent).where(Agent.username == username).values(status=status)
        .execution_options(synchronize_session=False)
    )


def _open_counts(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(Conversation.agent, func.count()).where(Conversation.status == CLAIMED)
        .group_by(Conversation.agent)
    )
    return {agent: count for agent, count in rows if agent}


def presence_list(session: Session, timeout_seconds: float, default_max: int) -> list[dict[str, Any]]:
    """Every active agent with `status` (online | away | offline), load and cap (one query each)."""
    cutoff = utcnow() - timedelta(seconds=timeout_seconds)
    counts = _open_counts(session)
    rows = session.execute(
        select(Agent, _connected(cutoff).label("connected")).where(Agent.active.is_(True)).order_by(Agent.username)
    )
    return [
        {
            "username": agent.username,
            "name": agent.name,
            "tiers": list(agent.tiers or ()),
            "roles": list(agent.roles or ()),
            "status": (agent.status if agent.status in (ONLINE, AWAY) else AWAY) if connected else OFFLINE,
            "open_conversations": counts.get(agent.username, 0),
            "max_concurrent": agent.max_concurrent or default_max,
            "last_seen_at": iso(agent.last_seen_at),
        }
        for agent, connected in rows
    ]


def presence_of(session: Session, username: str, timeout_seconds: float, default_max: int) -> dict[str, Any]:
    return next(p for p in presence_list(session, timeout_seconds, default_max) if p["username"] == username)


def online_usernames(session: Session, timeout_seconds: float, queue: str | None = None) -> list[str]:
    """Agents who are online now (connected, and chose `online`), of `queue` when given."""
    cutoff = utcnow() - timedelta(seconds=timeout_seconds)
    rows = session.execute(
        select(Agent.username, Agent.tiers).where(
            Agent.active.is_(True), Agent.status == ONLINE, _connected(cutoff)
        ).order_by(Agent.username)
    )
    return [username for username, tiers in rows if queue is None or queue in (tiers or ())]
