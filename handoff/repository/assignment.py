"""Assignment: waiting conversations to online agents, reassignment from agents gone offline,
and the first-response alerts of waiting P1/P2 conversations.

Run inside `Database.write`. Concurrent rounds on several instances cannot overfill an agent:
the online agents' rows are locked (`FOR UPDATE`, in username order) for the round, and the
waiting conversations are taken `FOR UPDATE SKIP LOCKED` (PostgreSQL; SQLite's writes are one
at a time anyway). The callers also hold the `assignment` lock (`handoff.locks`).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from handoff.models import CLAIMED, ONLINE, WAITING, Agent, AgentSocket, Conversation, utcnow
from handoff.repository.agents import agent_info, audit
from handoff.repository.presence import _connected, _open_counts
from handoff.repository.queue import urgency_order
from handoff.repository.records import AgentInfo, conversation_dict, iso


def assign_waiting(
    session: Session, timeout_seconds: float, default_max: int, limit: int = 200
) -> list[tuple[dict[str, Any], AgentInfo]]:
    """Give waiting conversations, most urgent first, to the least loaded online agent of their
    tier below their cap. Returns (conversation, agent) of each assignment made."""
    now = utcnow()
    cutoff = now - timedelta(seconds=timeout_seconds)
    agents = session.scalars(
        select(Agent).where(Agent.active.is_(True), Agent.status == ONLINE, _connected(cutoff))
        .order_by(Agent.username).with_for_update(of=Agent)
    ).all()
    if not agents:
        return []
    load = _open_counts(session)
    room = {a.username: (a.max_concurrent or default_max) - load.get(a.username, 0) for a in agents}
    if all(free <= 0 for free in room.values()):
        return []
    queues = sorted({tier for a in agents if room[a.username] > 0 for tier in (a.tiers or ())})
    waiting = session.scalars(
        select(Conversation).where(Conversation.status == WAITING, Conversation.queue.in_(queues))
        .order_by(*urgency_order()).limit(limit).with_for_update(skip_locked=True)
    ).all()
    made = []
    for conversation in waiting:
        candidates = [a for a in agents if room[a.username] > 0 and conversation.queue in (a.tiers or ())]
        if not candidates:
            continue
        agent = min(candidates, key=lambda a: (load.get(a.username, 0), a.username))
        conversation.assign(agent.username, now)
        load[agent.username] = load.get(agent.username, 0) + 1
        room[agent.username] -= 1
        audit(session, agent.username, "claim", conversation.id, assigned=True)
        made.append((conversation, agent_info(agent)))
        if all(free <= 0 for free in room.values()):
            break
    session.flush()
    return [(conversation_dict(c), info) for c, info in made]


def reassign_offline(
    session: Session, timeout_seconds: float, after_seconds: float
) -> list[dict[str, Any]]:
    """Conversations of agents offline for longer than `after_seconds` go back to waiting, at the
    head of their queue. "Offline since" is the agent's last seen socket, or the claim when it
    came later (an agent using the API only is not offline before the claim is that old)."""
    now = utcnow()
    stale = now - timedelta(seconds=after_seconds)
    cutoff = now - timedelta(seconds=timeout_seconds)
    connected = select(AgentSocket.agent).where(AgentSocket.last_seen_at >= cutoff)
    rows = session.execute(
        select(Conversation, Agent.username).join(Agent, Agent.username == Conversation.agent).where(
            Conversation.status == CLAIMED,
            Conversation.claimed_at < stale,
            or_(Agent.last_seen_at.is_(None), Agent.last_seen_at < stale),
            Agent.username.not_in(connected),
        ).with_for_update(of=Conversation, skip_locked=True)
    ).all()
    moved = []
    for conversation, username in rows:
        conversation.to_queue(now, head=True)
        conversation.waiting_ack_at = None
        audit(session, username, "reassign", conversation.id, reason="offline")
        moved.append({**conversation_dict(conversation), "previous_agent": username})
    session.flush()
    return moved


def due_deadline_alerts(session: Session, horizon: datetime, priorities: tuple[str, ...]) -> list[dict[str, Any]]:
    """Waiting conversations of `priorities` whose first response is due before `horizon` and
    nobody is on: each is alerted about once in all (`first_response_alerted_at`)."""
    now = utcnow()
    rows = session.scalars(
        select(Conversation).where(
            Conversation.status == WAITING,
            Conversation.priority.in_(list(priorities)),
            Conversation.first_response_at.is_(None),
            and_(Conversation.first_response_due.is_not(None), Conversation.first_response_due <= horizon),
            Conversation.first_response_alerted_at.is_(None),
        ).with_for_update(skip_locked=True)
    ).all()
    alerts = []
    for conversation in rows:
        conversation.first_response_alerted_at = now
        alerts.append({
            "type": "deadline_alert",
            "conversation_id": conversation.id,
            "queue": conversation.queue,
            "priority": conversation.priority,
            "due": iso(conversation.first_response_due),
            "minutes_left": round((conversation.first_response_due - now).total_seconds() / 60, 1),
        })
    session.flush()
    return alerts


def my_conversations(session: Session, username: str) -> list[dict[str, Any]]:
    """The agent's open (claimed) conversations, oldest claim first."""
    rows = session.scalars(
        select(Conversation).where(Conversation.status == CLAIMED, Conversation.agent == username)
        .order_by(Conversation.claimed_at, Conversation.id)
    )
    return [conversation_dict(c) for c in rows]
