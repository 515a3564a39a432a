"""The internal API the action server calls (docs/internal-api.md): intake, tickets, and the
messages of a REST-channel user while the conversation is with the agents."""
from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from bot.levels import PRIORITY_LEVELS
from handoff import assignment, claims, integrations, repository, services, waiting
from handoff.errors import BadRequest, Conflict
from handoff.httputil import answer, choice_field, json_body, require_service
from handoff.models import AGENT_MODE, BOT, QUEUES, WAITING, Conversation
from handoff.repository import Escalation
from handoff.state import DATABASE

TICKET_ID = re.compile(r"^T-[A-Z0-9]{6}$")
MAX_ID = 128
MAX_TEXT = 4000  # as the widget's limit (4 kB)


def _optional_str(body: dict[str, Any], name: str, max_len: int = 10_000) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_len:
        raise BadRequest(f"'{name}' must be a string of at most {max_len} characters", code="invalid_field")
    return value


def _optional_object(body: dict[str, Any], name: str) -> dict[str, Any] | None:
    value = body.get(name)
    if value is not None and not isinstance(value, dict):
        raise BadRequest(f"'{name}' must be an object", code="invalid_field")
    return value


def _transcript(body: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    items = body.get("transcript") or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise BadRequest("'transcript' must be a list of {from, text, at}", code="invalid_field")
    return tuple(items)


def parse_escalation(body: dict[str, Any]) -> Escalation:
    conversation_id = body.get("conversation_id")
    if not isinstance(conversation_id, str) or not 0 < len(conversation_id) <= MAX_ID:
        raise BadRequest("'conversation_id' is required", code="invalid_field")
    queue = choice_field(body, "queue", QUEUES, code="invalid_field")
    priority = body.get("priority")
    if priority is not None and priority not in PRIORITY_LEVELS:
        raise BadRequest(f"'priority' must be one of {', '.join(PRIORITY_LEVELS)}", code="invalid_field")
    prioritized = body.get("prioritized", False)
    if not isinstance(prioritized, bool):
        raise BadRequest("'prioritized' must be true or false", code="invalid_field")
    account = _optional_object(body, "account")
    language = _optional_str(body, "language", 8)
    return Escalation(
        conversation_id=conversation_id,
        queue=queue,
        priority=priority,
        prioritized=prioritized,
        user_id=_optional_str(body, "user_id", MAX_ID),
        language=language if language in ("de", "en") else None,
        summary=_optional_str(body, "summary"),
        account=account,
        transcript=_transcript(body),
    )


async def intake(request: web.Request) -> web.Response:
    require_service(request)
    escalation = parse_escalation(await json_body(request))
    result, newly_queued = await integrations.escalate(request.app, escalation)
    if newly_queued:
        await services.announce_escalation(request.app, escalation.conversation_id)
        await services.refresh_positions(request.app, result["queue"])
        await assignment.after_escalation(request.app, escalation.conversation_id)
    return answer(result)


async def create_ticket(request: web.Request) -> web.Response:
    require_service(request)
    body = await json_body(request)
    ticket_id = body.get("ticket_id")
    if not isinstance(ticket_id, str) or not TICKET_ID.match(ticket_id):
        raise BadRequest("'ticket_id' must look like T-4K9Q2M", code="invalid_field")
    data = {
        "ticket_id": ticket_id,
        "conversation_id": _optional_str(body, "conversation_id", MAX_ID),
        "user_id": _optional_str(body, "user_id", MAX_ID),
        "email": _optional_str(body, "email", 320),
        "subject": _optional_str(body, "subject", 1000),
        "description": _optional_str(body, "description", 20_000),
        "language": _optional_str(body, "language", 8),
        "transcript": list(_transcript(body)),
        "account": _optional_object(body, "account"),
        "escalation": _optional_object(body, "escalation"),
    }
    ticket, created = await integrations.store_ticket(request.app, data)
    return answer({"ticket_id": ticket["ticket_id"], "status": ticket["status"]}, status=201 if created else 200)


def _store_for_agents(session: Session, conversation_id: str, text: str) -> dict[str, Any] | None:
    """The user's message, stored for the agents while one has the conversation (waiting or
    claimed), with the conversation's state; None (nothing stored) when it is with the bot."""
    conversation = session.get(Conversation, conversation_id, with_for_update=True)
    if conversation is None or conversation.status not in AGENT_MODE:
        return None
    stored, _, _ = claims.store_user_message(session, conversation_id, text, None, None)
    session.expire(conversation)  # written with Core: the state below is read again
    return {"stored": stored, "conversation": repository.conversation_state(session, conversation_id)}


async def user_message(request: web.Request) -> web.Response:
    """A message the user sent to Rasa directly (its REST channel) while the conversation is
    with the agents: stored in the transcript and pushed to the consoles, as a widget message
    is. `leave: true` takes the conversation out of the queue, `priority: "P2"` corrects its
    level (a "correction, it's P2" the user typed). 409 when it is with the bot."""
    require_service(request)
    conversation_id = request.match_info["id"]
    body = await json_body(request)
    text = body.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        raise BadRequest(f"'text' must be a non-empty string of at most {MAX_TEXT} characters", code="invalid_field")
    leave = body.get("leave", False)
    if not isinstance(leave, bool):
        raise BadRequest("'leave' must be true or false", code="invalid_field")
    priority = body.get("priority")
    if priority is not None and priority not in PRIORITY_LEVELS:
        raise BadRequest(f"'priority' must be one of {', '.join(PRIORITY_LEVELS)}", code="invalid_field")
    found = await request.app[DATABASE].write(_store_for_agents, conversation_id, text)
    if found is None:
        raise Conflict("the conversation is with the bot", code="not_with_agents")
    conversation, stored = found["conversation"], found["stored"]
    if leave and conversation["status"] == WAITING:
        left = await waiting.leave(request.app, conversation, offer=False)
        return answer({"status": BOT if left else conversation["status"], "left": left})
    if priority is not None:
        await waiting.correct_priority(request.app, conversation, priority)
        conversation = await request.app[DATABASE].read(repository.conversation_state, conversation_id)
    elif not await waiting.user_message(request.app, conversation, stored, {}):
        await waiting.for_agents(request.app, conversation, stored)
    return answer({"status": conversation["status"], "position": conversation.get("position"), "left": False,
                   "priority": conversation["priority"]})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/internal/intake", intake)
    app.router.add_post("/internal/tickets", create_ticket)
    app.router.add_post("/internal/conversations/{id}/messages", user_message)
