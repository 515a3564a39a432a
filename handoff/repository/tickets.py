"""Tickets: web tickets and the escalations that became tickets (idempotent by ticket id)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.redaction import redact
from handoff.errors import NotFound
from handoff.models import Ticket
from handoff.repository.records import iso


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
