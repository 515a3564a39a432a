"""Agents: who they are, sign-in, the audit log, and what they do to a conversation (claim,
message, transfer, resolve, release)."""
from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import update
from sqlalchemy.orm import Session

from handoff.errors import Conflict, Forbidden, NotFound
from handoff.models import AGENT_MODE, BOT, CLAIMED, RESOLVED, WAITING, Agent, AgentAction, Conversation, utcnow
from handoff.repository.conversations import add_message, conversation_detail
from handoff.repository.records import AgentInfo, conversation_dict
from handoff.security import hash_password


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


def record_login(session: Session, username: str) -> None:
    audit(session, username, "login")


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


def _with_agents(session: Session, conversation_id: str, agent: AgentInfo, code: str) -> Conversation:
    """Waiting, or claimed by `agent` (not by another); else Conflict with `code`."""
    conversation = _load_for_agent(session, conversation_id, agent)
    if conversation.status == CLAIMED and conversation.agent != agent.username:
        raise Forbidden("another agent owns this conversation", code="not_owner")
    if conversation.status not in AGENT_MODE:
        raise Conflict(f"the conversation is {conversation.status}", code=code)
    return conversation


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
        .values(status=CLAIMED, agent=agent.username, claimed_at=now, updated_at=now, queue_head=False)
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


def transfer(session: Session, conversation_id: str, agent: AgentInfo, queue: str) -> dict[str, Any]:
    """Back to `waiting` in `queue`; the SLA deadlines stay those of the first escalation."""
    conversation = _with_agents(session, conversation_id, agent, code="not_in_queue")
    previous = conversation.queue
    conversation.queue = queue
    conversation.to_queue(utcnow())
    audit(session, agent.username, "transfer", conversation_id, **{"from": previous, "to": queue})
    session.flush()
    return {**conversation_dict(conversation), "previous_queue": previous}


def close(session: Session, conversation_id: str, agent: AgentInfo, how: str) -> dict[str, Any]:
    """`resolve` (done) or `release` (back to the bot); either way Rasa answers next."""
    conversation = _with_agents(session, conversation_id, agent, code="not_with_agent")
    conversation.status = RESOLVED if how == "resolve" else BOT
    conversation.tracker_event_pending = True
    conversation.updated_at = utcnow()
    audit(session, agent.username, how, conversation_id)
    session.flush()
    return conversation_dict(conversation)
