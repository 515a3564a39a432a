"""The intake: a conversation enters the queue (docs/internal-api.md, or a relayed `queued` marker)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from bot.redaction import redact
from handoff.models import BOT, CLAIMED, WAITING, Conversation, Message, utcnow
from handoff.repository.conversations import add_message
from handoff.repository.queue import position_of
from handoff.repository.records import iso
from handoff.sla import SlaTable, deadlines


@dataclass(frozen=True)
class Escalation:
    conversation_id: str
    queue: str
    priority: str | None
    prioritized: bool
    user_id: str | None = None
    language: str | None = None
    summary: str | None = None
    account: dict[str, Any] | None = None
    transcript: tuple[dict[str, Any], ...] = ()


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def escalate(
    session: Session, escalation: Escalation, sla_table: SlaTable, average_minutes: int
) -> tuple[dict[str, Any], bool]:
    """Queue the conversation (idempotent); returns (intake answer, whether it newly entered the queue)."""
    now = utcnow()
    conversation = session.get(Conversation, escalation.conversation_id, with_for_update=True)
    if conversation is None:
        conversation = Conversation(id=escalation.conversation_id, status=BOT, created_at=now)
        session.add(conversation)
    if escalation.user_id and not conversation.user_id:
        conversation.user_id = escalation.user_id
    if escalation.language:
        conversation.language = escalation.language
    if escalation.account is not None:
        conversation.account = escalation.account
    if escalation.summary:
        conversation.summary = redact(escalation.summary)
    session.flush()

    has_messages = session.scalar(
        select(exists().where(Message.conversation_id == conversation.id))
    )
    if not has_messages:
        for item in escalation.transcript:
            sender = item.get("from")
            if sender not in ("user", "bot", "agent", "system"):
                continue
            add_message(
                session, conversation.id, sender, str(item.get("text") or ""),
                at=_parse_time(item.get("at")) or now,
            )

    newly_queued = False
    if conversation.status == CLAIMED:
        pass  # an agent already has it: a retried escalation changes nothing
    else:
        if conversation.status != WAITING:
            newly_queued = True
            conversation.to_queue(now)
            conversation.escalated_at = now
            conversation.first_response_at = None
            conversation.first_response_warned_at = None
            conversation.restoration_warned_at = None
            conversation.first_response_alerted_at = None
            conversation.waiting_ack_at = None
        conversation.queue = escalation.queue
        conversation.priority = escalation.priority
        conversation.prioritized = escalation.prioritized
        conversation.first_response_due, conversation.restoration_due = deadlines(
            sla_table, escalation.priority, escalation.prioritized, conversation.escalated_at or now
        )
    conversation.updated_at = now
    session.flush()
    answer = {
        "conversation_id": conversation.id,
        "status": conversation.status,
        "queue": conversation.queue,
        "priority": conversation.priority,
        "prioritized": bool(conversation.prioritized),
        "position": 0,
        "estimated_wait_minutes": 0,
        "sla": {
            "first_response_due": iso(conversation.first_response_due),
            "restoration_due": iso(conversation.restoration_due),
        },
    }
    if conversation.status == WAITING:
        position = position_of(session, conversation)
        answer["position"] = position
        answer["estimated_wait_minutes"] = position * average_minutes
    return answer, newly_queued
