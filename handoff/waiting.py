"""The user's side while an agent has the conversation (waiting or claimed).

- The queued reply's buttons (docs/architecture.md) reach the service, not Rasa, while the user
  waits: `/leave_queue` takes the conversation out of the queue and back to the bot and offers
  a ticket; `/set_priority{"problem_priority":"Pn"}` corrects the entry's level (its SLA
  deadlines and place follow); the ticket offer's payload (the bot's own,
  `/open_ticket{"ticket_start":"here"}`) leaves the queue and goes on to the bot, whose ticket
  form starts; `/stay_in_queue` keeps the place.
- Any other message while waiting goes to the agents and is stored; the first of each wait is
  acknowledged once ("added for the agent").
- With no agent of the queue online when the user was queued: a note saying so, with the
  ticket and the wait as buttons, after the bot's reply that carried the `queued` marker.
- Typing: the widget's `typing` frame reaches the owning agent's consoles.
"""
from __future__ import annotations

import json
import logging
import time
from typing import Any

from aiohttp import web

from bot.levels import PRIORITY_LEVELS
from handoff import presence, relay, repository, services
from handoff.httputil import answer, require_agent
from handoff.locks import LockTimeout
from handoff.models import CLAIMED, WAITING
from handoff.state import CONFIG, DATABASE, HUB, LOCKS, SLA_TABLE
from handoff.texts import system_text

logger = logging.getLogger(__name__)

# The bot's payloads (actions/escalation.py: LEAVE_QUEUE_PAYLOAD, priority_payload,
# OFFER_PAYLOADS["ticket"]; a test keeps them equal) and the service's own.
LEAVE_QUEUE = "/leave_queue"
SET_PRIORITY = "/set_priority"
PRIORITY_SLOT = "problem_priority"
TICKET = '/open_ticket{"ticket_start":"here"}'
STAY = "/stay_in_queue"


def _priority_of(text: str) -> str | None:
    """The level of a `/set_priority{...}` payload, None for anything else."""
    if not text.startswith(SET_PRIORITY + "{"):
        return None
    try:
        entities = json.loads(text[len(SET_PRIORITY):])
    except ValueError:
        return None
    level = entities.get(PRIORITY_SLOT) if isinstance(entities, dict) else None
    return level if level in PRIORITY_LEVELS else None


def ticket_buttons(language: str | None, wait: bool) -> list[dict[str, str]]:
    buttons = [{"title": system_text("button_ticket", language), "payload": TICKET}]
    if wait:
        buttons.append({"title": system_text("button_wait", language), "payload": STAY})
    return buttons


async def say(app: web.Application, conversation: dict[str, Any], key: str,
              buttons: list[dict[str, str]] | None = None, **values: Any) -> None:
    """A system message in the user's language, stored and pushed (with buttons)."""
    text = system_text(key, conversation.get("language"), **values)
    message = await app[DATABASE].write(
        repository.add_message, conversation["id"], "system", text, buttons=buttons
    )
    frame: dict[str, Any] = {"type": "message", "from": "system", "text": message["text"]}
    if buttons:
        frame["buttons"] = buttons
    await app[HUB].to_conversation(conversation["id"], frame)


def public_message(message: dict[str, Any]) -> dict[str, Any]:
    """A stored message as clients see it (without the row id)."""
    return {k: v for k, v in message.items() if k not in ("id", "relay")}


async def for_agents(app: web.Application, conversation: dict[str, Any], stored: dict[str, Any]) -> None:
    """Push a user message stored while an agent has the conversation to the agents' consoles."""
    await app[HUB].to_agents(
        {"type": "user_message", "conversation_id": conversation["id"], "queue": conversation["queue"],
         "agent": conversation["agent"], "message": public_message(stored)},
        queue=conversation["queue"],
    )


async def user_message(app: web.Application, conversation: dict[str, Any], stored: dict[str, Any],
                       metadata: dict[str, Any]) -> bool:
    """A user message stored while an agent has the conversation. True when the service acted
    on it (a queue button) and it goes no further; False: it is for the agents."""
    text = (stored.get("text") or "").strip()
    status = conversation["status"]
    level = _priority_of(text)
    if text == LEAVE_QUEUE:
        if status == WAITING:
            await leave(app, conversation)
        else:
            await say(app, conversation, "leave_queue_claimed")
        return True
    if level is not None:
        await correct_priority(app, conversation, level)
        return True
    if text == TICKET and status == WAITING:
        left = await leave(app, conversation, offer=False)
        if left:
            # Back with the bot: the payload goes on to Rasa, whose ticket form starts.
            await app[DATABASE].write(repository.hand_to_bot, stored["id"], metadata)
            await relay.drain(app, conversation["id"], relay.Fresh(stored["id"], text))
        return True
    if text == STAY and status == WAITING:
        state = await app[DATABASE].read(repository.conversation_state, conversation["id"])
        await say(app, conversation, "stay_in_queue", position=state.get("position", 1))
        return True
    if status == WAITING and await app[DATABASE].write(repository.acknowledge_waiting, conversation["id"]):
        await say(app, conversation, "waiting_ack")
    return False


async def leave(app: web.Application, conversation: dict[str, Any], offer: bool = True) -> bool:
    """The user leaves the queue: back to the bot (with `agent_handled` in Rasa's tracker)."""
    left = await app[DATABASE].write(repository.leave_queue, conversation["id"])
    if left is None:
        return False
    if offer:
        # Rasa learns first that the agent part is over (the ticket path does it in its relay).
        try:
            async with app[LOCKS].hold(left["id"], wait_seconds=5):
                await services.deliver_tracker_event(app, left["id"])
        except LockTimeout:
            pass  # the retry job or the next message to Rasa delivers it
    hub = app[HUB]
    await hub.to_agents({"type": "left", "conversation_id": left["id"], "status": left["status"],
                         "queue": left["queue"], "agent": None, "by": None}, queue=left["queue"])
    if offer:
        await say(app, left, "left_queue", buttons=ticket_buttons(left.get("language"), wait=False))
    await hub.to_conversation(left["id"], {"type": "mode", "mode": "bot", "status": left["status"]})
    await services.refresh_positions(app, left["queue"])
    return True


async def correct_priority(app: web.Application, conversation: dict[str, Any], level: str) -> None:
    state = await app[DATABASE].write(repository.set_priority, conversation["id"], level, app[SLA_TABLE])
    if state is None:
        return
    if state["status"] == WAITING:
        await services.refresh_positions(app, state["queue"])
        await say(app, state, "priority_changed_waiting", priority=level, position=state["position"])
    else:
        await say(app, state, "priority_changed", priority=level)
    await app[HUB].to_agents({"type": "priority_changed", "conversation_id": state["id"], "status": state["status"],
                              "queue": state["queue"], "priority": level, "agent": state["agent"]},
                             queue=state["queue"])


async def nobody_online_note(app: web.Application, conversation_id: str) -> None:
    """After the user was queued: if no agent of the queue is online, say so and offer the
    ticket or to wait."""
    state = await app[DATABASE].read(repository.conversation_state, conversation_id)
    if state["status"] != WAITING or await presence.agent_online(app, state["queue"]):
        return
    await say(app, state, "nobody_online", buttons=ticket_buttons(state.get("language"), wait=True))


class TypingGate:
    """At most one typing push per connection and interval."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.last = 0.0

    def open(self) -> bool:
        now = time.monotonic()
        if now - self.last < self.interval:
            return False
        self.last = now
        return True


async def user_typing(app: web.Application, conversation_id: str) -> bool:
    """The widget's `typing`: to the owning agent's consoles; True when pushed."""
    owner = await app[DATABASE].read(repository.owner_of, conversation_id)
    if owner is None:
        return False
    await app[HUB].to_agents({"type": "typing", "conversation_id": conversation_id}, agent=owner)
    return True


async def agent_typing(request: web.Request) -> web.Response:
    """`POST /api/conversations/{id}/typing`: the owner is typing; the widget shows it."""
    agent = await require_agent(request)
    conversation_id = request.match_info["id"]
    await request.app[DATABASE].read(repository.require_owner, conversation_id, agent)
    delivered = await request.app[HUB].to_conversation(
        conversation_id, {"type": "typing", "from": "agent", "agent": agent.name}
    )
    return answer({"delivered": delivered})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/conversations/{id}/typing", agent_typing)
