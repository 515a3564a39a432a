"""The internal API the action server calls (docs/internal-api.md): intake and tickets."""
from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from bot.levels import PRIORITY_LEVELS
from handoff import assignment, integrations, services
from handoff.errors import BadRequest
from handoff.httputil import answer, choice_field, json_body, require_service
from handoff.models import QUEUES
from handoff.repository import Escalation

TICKET_ID = re.compile(r"^T-[A-Z0-9]{6}$")
MAX_ID = 128


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


def add_routes(app: web.Application) -> None:
    app.router.add_post("/internal/intake", intake)
    app.router.add_post("/internal/tickets", create_ticket)
