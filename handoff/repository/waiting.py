"""The user's side of the queue: leaving it, correcting the priority, the one acknowledgement
of messages written while waiting."""
from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from handoff.errors import Conflict, Forbidden, NotFound
from handoff.models import AGENT_MODE, BOT, CLAIMED, WAITING, Agent, Conversation, Message, utcnow
from handoff.repository.queue import position_of
from handoff.repository.records import AgentInfo, conversation_dict
from handoff.sla import SlaTable, deadlines


def _get(session: Session, conversation_id: str) -> Conversation:
    conversation = session.get(Conversation, conversation_id, with_for_update=True)
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id}")
    return conversation


def leave_queue(session: Session, conversation_id: str) -> dict[str, Any] | None:
    """Out of the queue and back to the bot (Rasa learns it by `agent_handled`, like a
    release). None when it was not waiting (claimed meanwhile, or left already)."""
    conversation = _get(session, conversation_id)
    if conversation.status != WAITING:
        return None
    conversation.status = BOT
    conversation.agent = None
    conversation.queue_head = False
    conversation.tracker_event_pending = True
    conversation.updated_at = utcnow()
    session.flush()
    return conversation_dict(conversation)


def set_priority(
    session: Session, conversation_id: str, level: str, sla_table: SlaTable
) -> dict[str, Any] | None:
    """The user's correction of the level while waiting or with an agent; the deadlines follow
    it (counted from the escalation). Returns the conversation (with its position while it
    waits), or None when it is with the bot."""
    conversation = _get(session, conversation_id)
    if conversation.status not in AGENT_MODE:
        return None
    conversation.priority = level
    since = conversation.escalated_at or conversation.created_at or utcnow()
    conversation.first_response_due, conversation.restoration_due = deadlines(
        sla_table, level, bool(conversation.prioritized), since
    )
    conversation.first_response_warned_at = None
    conversation.restoration_warned_at = None
    conversation.first_response_alerted_at = None
    conversation.updated_at = utcnow()
    session.flush()
    state = conversation_dict(conversation)
    if conversation.status == WAITING:
        state["position"] = position_of(session, conversation)
    return state


def acknowledge_waiting(session: Session, conversation_id: str) -> bool:
    """True once per wait: the caller tells the user their messages are kept for the agent."""
    return session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.status == WAITING,
               Conversation.waiting_ack_at.is_(None))
        .values(waiting_ack_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount == 1


def owner_of(session: Session, conversation_id: str) -> str | None:
    """The agent who has the conversation now, if it is claimed."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None or conversation.status != CLAIMED:
        return None
    return conversation.agent


def hand_to_bot(session: Session, message_id: int, metadata: dict[str, Any]) -> None:
    """A message stored for the agents goes to the bot after all (the user left the queue)."""
    session.execute(
        update(Message).where(Message.id == message_id)
        .values(relay="pending", relay_metadata=metadata or {})
        .execution_options(synchronize_session=False)
    )


def require_owner(session: Session, conversation_id: str, agent: AgentInfo) -> None:
    """403/409 unless `agent` owns the conversation (typing, like messages, is the owner's)."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id}")
    if not agent.can_handle(conversation.queue):
        raise Forbidden(f"{conversation.queue} conversations are not for {agent.username}")
    if conversation.status != CLAIMED:
        raise Conflict("the conversation is not claimed", code="not_claimed")
    if conversation.agent != agent.username:
        raise Forbidden("another agent owns this conversation", code="not_owner")


def queue_status(session: Session, conversation_id: str, average_minutes: int) -> dict[str, Any]:
    """What a (re)connecting widget shows: the place and wait while waiting, the agent's display
    name while claimed; empty with the bot."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None or conversation.status not in AGENT_MODE:
        return {}
    if conversation.status == WAITING:
        position = position_of(session, conversation)
        return {"queue": conversation.queue, "position": position,
                "estimated_wait_minutes": position * average_minutes}
    agent = session.get(Agent, conversation.agent) if conversation.agent else None
    return {"agent": agent.name if agent is not None else conversation.agent}
