"""An agent's desk around a conversation: internal notes, the CSAT rating, the transcript as
exported, and the agent view of `GET /api/conversations/{id}` (notes and CSAT included).

Notes and ratings are read only through these functions; nothing here is ever pushed to the
user's widget (`handoff/notes.py` pushes notes to agents only)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.redaction import redact
from handoff.errors import Conflict, NotFound
from handoff.models import RESOLVED, Conversation, Csat, Note, utcnow
from handoff.repository.conversations import get_conversation, transcript
from handoff.repository.records import iso


def _conversation(session: Session, conversation_id: str) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id}")
    return conversation


def note_dict(note: Note) -> dict[str, Any]:
    return {"agent": note.agent, "text": note.text, "at": iso(note.at)}


def notes_of(session: Session, conversation_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(select(Note).where(Note.conversation_id == conversation_id).order_by(Note.id))
    return [note_dict(n) for n in rows]


def add_note(session: Session, conversation_id: str, agent: str, text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Store a note (redacted like every text); returns (note, conversation state)."""
    conversation = _conversation(session, conversation_id)
    note = Note(conversation_id=conversation_id, agent=agent, text=redact(text), at=utcnow())
    session.add(note)
    session.flush()
    return note_dict(note), {"id": conversation.id, "queue": conversation.queue, "status": conversation.status}


def csat_of(session: Session, conversation_id: str) -> dict[str, Any] | None:
    """The latest answered rating of the conversation, or None."""
    row = session.scalars(
        select(Csat).where(Csat.conversation_id == conversation_id, Csat.score.is_not(None))
        .order_by(Csat.at.desc(), Csat.id.desc()).limit(1)
    ).first()
    if row is None:
        return None
    return {"score": row.score, "comment": row.comment, "at": iso(row.at), "agent": row.agent}


def agent_view(session: Session, conversation_id: str) -> dict[str, Any]:
    """`GET /api/conversations/{id}` for agents: the conversation with its notes and CSAT."""
    detail = get_conversation(session, conversation_id)
    detail["notes"] = notes_of(session, conversation_id)
    detail["csat"] = csat_of(session, conversation_id)
    return detail


def request_csat(session: Session, conversation_id: str, agent: str | None) -> bool:
    """Ask for a rating after a resolve; an unanswered request of the conversation is replaced.
    False when the conversation is gone or no longer resolved."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None or conversation.status != RESOLVED:
        return False
    session.execute(
        update(Csat).where(Csat.conversation_id == conversation_id, Csat.score.is_(None))
        .values(requested_at=utcnow(), agent=agent).execution_options(synchronize_session=False)
    )
    if session.scalar(select(Csat.id).where(Csat.conversation_id == conversation_id, Csat.score.is_(None))) is None:
        session.add(Csat(conversation_id=conversation_id, agent=agent, requested_at=utcnow()))
    session.flush()
    return True


def answer_csat(session: Session, conversation_id: str, score: int, comment: str | None) -> dict[str, Any]:
    """The user's answer to the open request: once per request (a repeat is `already_rated`)."""
    _conversation(session, conversation_id)
    now = utcnow()
    open_request = session.scalars(
        select(Csat).where(Csat.conversation_id == conversation_id, Csat.score.is_(None))
        .order_by(Csat.id.desc()).limit(1).with_for_update()
    ).first()
    if open_request is None:
        answered = session.scalar(select(Csat.id).where(Csat.conversation_id == conversation_id))
        raise Conflict("this conversation was rated already" if answered else "no rating was asked for",
                       code="already_rated" if answered else "not_requested")
    won = session.execute(
        update(Csat).where(Csat.id == open_request.id, Csat.score.is_(None))
        .values(score=score, comment=redact(comment) if comment else None, at=now)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if not won:  # the same rating arrived on another connection at the same moment
        raise Conflict("this conversation was rated already", code="already_rated")
    return {"score": score, "comment": redact(comment) if comment else None, "at": iso(now)}


def export_transcript(session: Session, conversation_id: str) -> dict[str, Any]:
    """The whole transcript with what it needs to stand alone; every text redacted (again: a
    rule added to `bot.redaction` since a message was stored applies to the export too)."""
    conversation = _conversation(session, conversation_id)
    account = conversation.account or {}
    return {
        "id": conversation.id,
        "status": conversation.status,
        "language": conversation.language,
        "queue": conversation.queue,
        "priority": conversation.priority,
        "account": {k: account.get(k) for k in ("name", "user_name") if account.get(k)},
        "created_at": iso(conversation.created_at),
        "transcript": [{**m, "text": redact(m["text"] or "")} for m in transcript(session, conversation_id)],
    }


def conversation_queue(session: Session, conversation_id: str) -> dict[str, Any]:
    conversation = _conversation(session, conversation_id)
    return {"id": conversation.id, "queue": conversation.queue, "status": conversation.status}


def csat_pending(session: Session, conversation_id: str) -> bool:
    """Whether the conversation has a rating request the user has not answered yet."""
    return session.scalar(
        select(Csat.id).where(Csat.conversation_id == conversation_id, Csat.score.is_(None)).limit(1)
    ) is not None
