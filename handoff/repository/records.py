"""The plain values the repository hands out: dicts built from rows, and who an agent is."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from handoff.models import Conversation, Message


@dataclass(frozen=True)
class AgentInfo:
    username: str
    name: str
    tiers: tuple[str, ...]
    roles: tuple[str, ...] = ()

    def can_handle(self, queue: str | None) -> bool:
        return queue is None or queue in self.tiers

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def as_dict(self) -> dict[str, Any]:
        return {"username": self.username, "name": self.name, "tiers": list(self.tiers),
                "roles": list(self.roles)}


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def message_dict(message: Message, agent_names: dict[str, str] | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"from": message.sender, "text": message.text, "at": iso(message.at)}
    if message.buttons:
        item["buttons"] = message.buttons
    if message.handoff:
        item["handoff"] = message.handoff
    if message.agent:
        item["agent"] = message.agent
        item["agent_name"] = (agent_names or {}).get(message.agent, message.agent)
    if message.client_id:
        item["client_id"] = message.client_id
    return item


def sla_dict(conversation: Conversation) -> dict[str, Any]:
    return {
        "first_response_due": iso(conversation.first_response_due),
        "restoration_due": iso(conversation.restoration_due),
        "first_response_at": iso(conversation.first_response_at),
    }


def conversation_dict(conversation: Conversation) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "status": conversation.status,
        "queue": conversation.queue,
        "priority": conversation.priority,
        "prioritized": bool(conversation.prioritized),
        "user_id": conversation.user_id,
        "language": conversation.language,
        "account": conversation.account or {},
        "summary": conversation.summary,
        "agent": conversation.agent,
        "escalated_at": iso(conversation.escalated_at),
        "claimed_at": iso(conversation.claimed_at),
        "sla": sla_dict(conversation),
        "tracker_event_pending": bool(conversation.tracker_event_pending),
        "created_at": iso(conversation.created_at),
        "updated_at": iso(conversation.updated_at),
    }
