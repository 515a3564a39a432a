"""Conversations as the widget and the agents see them: opening, resuming, messages, state,
the pending `agent_handled` tracker events, and the SLA reminders."""
from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any, Sequence

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from bot.redaction import redact
from handoff.errors import NotFound
from handoff.models import AGENT_MODE, BOT, WAITING, Agent, Conversation, Message, utcnow
from handoff.repository.queue import position_of
from handoff.repository.records import conversation_dict, iso, message_dict


def transcript(session: Session, conversation_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)
    ).all()
    names: dict[str, str] = {}
    if any(m.agent for m in rows):
        names = dict(session.execute(select(Agent.username, Agent.name)).all())
    return [message_dict(m, names) for m in rows]


def _state(session: Session, conversation: Conversation) -> dict[str, Any]:
    state = conversation_dict(conversation)
    if conversation.status == WAITING:
        state["position"] = position_of(session, conversation)
    return state


def conversation_detail(session: Session, conversation: Conversation) -> dict[str, Any]:
    """The conversation with its transcript (and its position while it waits)."""
    return {**_state(session, conversation), "transcript": transcript(session, conversation.id)}


def _get(session: Session, conversation_id: str) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id}")
    return conversation


def get_conversation(session: Session, conversation_id: str) -> dict[str, Any]:
    return conversation_detail(session, _get(session, conversation_id))


def conversation_state(session: Session, conversation_id: str) -> dict[str, Any]:
    """The conversation without its transcript (with its position while it waits)."""
    return _state(session, _get(session, conversation_id))


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


_INSERT_MESSAGES = insert(Message.__table__)
_TOUCH = (
    update(Conversation.__table__)
    .where(Conversation.__table__.c.id == bindparam("conversation_id"))
    .values(updated_at=bindparam("now", type_=Conversation.__table__.c.updated_at.type))
)


def touch_conversation(connection: Connection, conversation_id: str, now: datetime) -> None:
    """The conversation's `updated_at` (Core, with a statement built once: every message does it)."""
    connection.execute(_TOUCH, {"conversation_id": conversation_id, "now": now})


def add_messages(
    session: Session, conversation_id: str, sender: str, items: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """`add_message` for several messages at once (`text`, optional `buttons`, `handoff`): one
    insert and one update of the conversation for all of them (Core: the relay stores every
    bot reply with it, `claims.complete_relay`)."""
    now = utcnow()
    rows = [
        {"conversation_id": conversation_id, "sender": sender, "text": redact(item.get("text") or ""),
         "buttons": [dict(b) for b in item["buttons"]] if item.get("buttons") else None,
         "handoff": item.get("handoff"), "agent": None, "at": now, "client_id": None}
        for item in items
    ]
    if not rows:
        return []
    connection = session.connection()
    connection.execute(_INSERT_MESSAGES, rows)
    touch_conversation(connection, conversation_id, now)
    return [message_dict(SimpleNamespace(**row)) for row in rows]
