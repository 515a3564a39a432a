"""What happens around a state change: the transcript entry, the pushes, the Rasa event."""
from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from handoff import claims, repository
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
    """Append `agent_handled` to Rasa's tracker, once: the caller holds the conversation's
    lock, and the event's lease (`claims.claim_tracker_event`) keeps any other instance off
    it meanwhile. On failure it stays pending for the retry job. True when delivered now."""
    database = app[DATABASE]
    if not await database.write(claims.claim_tracker_event, conversation_id,
                                app[CONFIG].tracker_event_lease_seconds):
        return False  # delivered already, or another instance is delivering it right now
    delivered = False
    try:
        delivered = await app[RASA].agent_handled(conversation_id)
    finally:
        await database.write(claims.finish_tracker_event, conversation_id, delivered)
    return delivered


async def refresh_positions(app: web.Application, *queues: str | None) -> None:
    """Tell waiting users whose place in the queue may have changed where they stand now."""
    hub = app[HUB]
    average = app[CONFIG].average_handling_minutes
    for queue in {q for q in queues if q}:
        positions = await app[DATABASE].read(repository.queue_positions, queue)
        for conversation_id, position in positions:
            # The user's socket may be on any instance: the bus finds it (or nobody listens).
            await hub.to_conversation(conversation_id, {
                "type": "queue", "queue": queue, "position": position,
                "estimated_wait_minutes": position * average,
            })
