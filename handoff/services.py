"""What happens around a state change: the transcript entry, the pushes, the Rasa event."""
from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from handoff import repository
from handoff.repository import AgentInfo
from handoff.state import CONFIG, DATABASE, HUB, RASA
from handoff.texts import system_text

logger = logging.getLogger(__name__)


async def announce_escalation(app: web.Application, conversation_id: str) -> None:
    """Tell the agents who can take it that a conversation is waiting."""
    detail = await app[DATABASE].read(repository.conversation_state, conversation_id)
    if detail["status"] != "waiting":
        return
    detail["estimated_wait_minutes"] = detail["position"] * app[CONFIG].average_handling_minutes
    await app[HUB].to_agents({"type": "escalation", "conversation": detail}, queue=detail["queue"])


async def tell_user(
    app: web.Application, conversation: dict[str, Any], key: str, mode: str, **values: Any
) -> None:
    """Store a system message in the user's language and push it with the new mode."""
    text = system_text(key, conversation.get("language"), **values)
    message = await app[DATABASE].write(
        repository.add_message, conversation["id"], "system", text
    )
    hub = app[HUB]
    await hub.to_conversation(conversation["id"], {"type": "message", "from": "system", "text": message["text"]})
    frame: dict[str, Any] = {"type": "mode", "mode": mode, "status": conversation["status"]}
    if values.get("agent"):
        frame["agent"] = values["agent"]
    await hub.to_conversation(conversation["id"], frame)


async def push_conversation_event(
    app: web.Application, event: str, conversation: dict[str, Any], agent: AgentInfo
) -> None:
    await app[HUB].to_agents(
        {
            "type": event,
            "conversation_id": conversation["id"],
            "status": conversation["status"],
            "queue": conversation["queue"],
            "agent": conversation["agent"],
            "by": agent.username,
        },
        queue=conversation["queue"],
    )


async def deliver_tracker_event(app: web.Application, conversation_id: str) -> bool:
    """Append `agent_handled` to Rasa's tracker; on failure it stays pending for a retry."""
    if await app[RASA].agent_handled(conversation_id):
        await app[DATABASE].write(repository.tracker_event_delivered, conversation_id)
        return True
    return False


async def deliver_pending_tracker_events(app: web.Application) -> None:
    for conversation_id in await app[DATABASE].read(repository.pending_tracker_events):
        if not await deliver_tracker_event(app, conversation_id):
            break  # Rasa is still down; the next round tries again


async def refresh_positions(app: web.Application, *queues: str | None) -> None:
    """Tell waiting users whose place in the queue may have changed where they stand now."""
    hub = app[HUB]
    average = app[CONFIG].average_handling_minutes
    for queue in {q for q in queues if q}:
        positions = await app[DATABASE].read(repository.queue_positions, queue)
        for conversation_id, position in positions:
            if conversation_id in hub.widgets:
                await hub.to_conversation(conversation_id, {
                    "type": "queue", "queue": queue, "position": position,
                    "estimated_wait_minutes": position * average,
                })
