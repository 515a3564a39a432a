"""User messages to the bot: in order, each answered once, retried until a Rasa process answers.

A user message is stored first (`claims.store_user_message`: `relay = 'pending'`). `drain`
then relays the conversation's pending messages one after another while holding the
conversation's lock (`handoff.locks`), on whichever instance received them, and stores each
answer together with the end of its wait (`claims.complete_relay`), then pushes it. When the
conversation is free as its message arrives (the usual case), the widget takes the lock first
and stores the message and reads the next pending one in one transaction
(`claims.store_for_relay`, then `drain_held` with it).

When no Rasa process answers, the message stays pending: the user is told once that the answer
will follow, and the retry job (`handoff.background`) relays it when a process is back; the
answer then arrives in the widget like any other. Before a message is sent again, Rasa's
tracker is asked whether it already holds it (each message carries its id in the metadata,
`handoff.rasa.MESSAGE_KEY`), so a message whose answer was lost is not processed twice.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.levels import PRIORITY_LEVELS
from handoff import claims, integrations, repository, services
from handoff.claims import PendingRelay
from handoff.locks import LockTimeout
from handoff.models import AGENT_MODE
from handoff.rasa import MESSAGE_KEY, RasaUnavailable, RasaUncertain
from handoff.repository import Escalation
from handoff.state import CONFIG, DATABASE, HUB, LOCKS, RASA, RELAY_BACKOFF
from handoff.texts import system_text

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Fresh:
    """The message the current request just stored, with its text as the user wrote it."""

    message_id: int
    text: str


async def drain(app: web.Application, conversation_id: str, fresh: Fresh | None = None) -> None:
    """Relay every pending user message of the conversation, holding its lock."""
    try:
        async with app[LOCKS].hold(conversation_id, app[CONFIG].relay_lock_wait_seconds):
            await drain_held(app, conversation_id, fresh)
    except LockTimeout:
        # Whoever holds the lock relays what is pending before letting go, or the retry job does.
        logger.info("conversation %s busy; its pending messages follow", conversation_id)


async def drain_held(
    app: web.Application, conversation_id: str, fresh: Fresh | None = None,
    pending: PendingRelay | None = None,
) -> None:
    """`drain` for a caller that holds the conversation's lock already; `pending`: the
    conversation's next pending message when the caller read it under the lock
    (`claims.store_for_relay`), else it is read here."""
    database = app[DATABASE]
    if pending is None:
        pending = await database.read(claims.next_pending_relay, conversation_id)
    while pending is not None:
        conversation = pending.conversation
        if conversation["status"] in AGENT_MODE:
            # An agent took the conversation while the message waited: it is the agent's now.
            if await database.write(claims.divert_to_agents, pending.message_id):
                await app[HUB].to_agents(
                    {"type": "user_message", "conversation_id": conversation_id,
                     "queue": conversation["queue"], "agent": conversation["agent"], "message": pending.message},
                    queue=conversation["queue"],
                )
            pending = await database.read(claims.next_pending_relay, conversation_id)
            continue
        if conversation.get("tracker_event_pending"):
            # Rasa must know about the agent conversation before it answers again.
            await services.deliver_tracker_event(app, conversation_id)
        is_fresh = fresh is not None and fresh.message_id == pending.message_id
        try:
            replies = await _answer(app, conversation_id, pending, fresh.text if is_fresh else pending.text,
                                    look_first=not is_fresh)
        except RasaUnavailable as error:
            logger.warning("no answer from Rasa for %s yet (%s); the message waits", conversation_id, error)
            if isinstance(error, RasaUncertain) and not error.finished:
                # A slow process may still be working on it: look again only after the timeout.
                app[RELAY_BACKOFF][conversation_id] = time.monotonic() + app[CONFIG].rasa_timeout_seconds
            if is_fresh:
                await _tell_user_it_waits(app, conversation)
            return
        app[RELAY_BACKOFF].pop(conversation_id, None)
        # the answer stored and the next pending message read in one transaction
        stored, pending = await database.write(claims.complete_relay, pending.message_id, bot_messages(replies),
                                               conversation_id)
        for message in stored:
            await _push_reply(app, conversation, message)


async def _answer(
    app: web.Application, conversation_id: str, pending: PendingRelay, text: str, look_first: bool
) -> list[dict[str, Any]]:
    rasa = app[RASA]
    key = str(pending.message_id)
    metadata = {**pending.metadata, MESSAGE_KEY: key}
    if look_first:
        # Not this request's own message: an earlier attempt may have reached Rasa.
        replies = await rasa.replies_for(conversation_id, key)
        if replies is not None:
            return replies
    try:
        return await rasa.send(conversation_id, text, metadata)
    except RasaUncertain as error:
        if not error.finished:
            raise
        # The process failed or died while answering; what it saved (if anything) is in the
        # tracker, and the next process on the ring takes the message if nothing is.
        replies = await rasa.replies_for(conversation_id, key)
        if replies is not None:
            return replies
        return await rasa.send(conversation_id, text, metadata)


def bot_messages(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rasa's REST replies as the messages to store: text, buttons and the handoff marker."""
    messages = []
    for reply in replies:
        custom = reply.get("custom") if isinstance(reply.get("custom"), dict) else {}
        marker = custom.get("handoff") if isinstance(custom.get("handoff"), dict) else None
        text = reply.get("text") if isinstance(reply.get("text"), str) else ""
        buttons = [
            {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
            for b in reply.get("buttons") or []
            if isinstance(b, dict)
        ]
        if text or buttons or marker:
            messages.append({"text": text, "buttons": buttons or None, "handoff": marker})
    return messages


async def _push_reply(app: web.Application, conversation: dict[str, Any], message: dict[str, Any]) -> None:
    hub = app[HUB]
    conversation_id = conversation["id"]
    if message.get("text") or message.get("buttons"):
        frame: dict[str, Any] = {"type": "message", "from": "bot", "text": message.get("text") or ""}
        if message.get("buttons"):
            frame["buttons"] = message["buttons"]
        await hub.to_conversation(conversation_id, frame)
    marker = message.get("handoff")
    if marker:
        frame = {**marker, "type": "handoff"}
        if marker.get("status") == "queued":
            frame.setdefault("estimated_wait_minutes", await ensure_queued(app, conversation, marker))
        await hub.to_conversation(conversation_id, frame)


async def ensure_queued(app: web.Application, conversation: dict[str, Any], marker: dict[str, Any]) -> int:
    """The bot queued the user: normally the intake did it already; if not, do it here.

    Returns the estimated wait in minutes.
    """
    average = app[CONFIG].average_handling_minutes
    state = await app[DATABASE].read(repository.conversation_state, conversation["id"])
    if state["status"] in AGENT_MODE:
        return state.get("position", 0) * average
    queue = marker.get("queue") if marker.get("queue") in ("tier1", "tier2") else "tier1"
    priority = marker.get("priority") if marker.get("priority") in PRIORITY_LEVELS else None
    escalation = Escalation(
        conversation_id=conversation["id"], queue=queue, priority=priority,
        prioritized=bool(marker.get("prioritized")), user_id=conversation.get("user_id"),
    )
    answer, newly = await integrations.escalate(app, escalation)
    if newly:
        from handoff import assignment

        await services.announce_escalation(app, conversation["id"])
        await assignment.after_escalation(app, conversation["id"])
    return answer["estimated_wait_minutes"]


async def _tell_user_it_waits(app: web.Application, conversation: dict[str, Any]) -> None:
    notice = system_text("rasa_unavailable", conversation.get("language"))
    await app[DATABASE].write(repository.add_message, conversation["id"], "system", notice)
    await app[HUB].to_conversation(conversation["id"], {"type": "message", "from": "system", "text": notice})


def may_retry(app: web.Application, conversation_id: str) -> bool:
    """False while a slow Rasa process may still be answering the conversation's message."""
    until = app[RELAY_BACKOFF].get(conversation_id)
    if until is None:
        return True
    if until <= time.monotonic():
        app[RELAY_BACKOFF].pop(conversation_id, None)
        return True
    return False
