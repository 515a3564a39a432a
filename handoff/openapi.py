"""The OpenAPI 3 description of the HTTP API, served at `GET /openapi.json` (hand-written)."""
from __future__ import annotations

from typing import Any

from bot.levels import PRIORITY_LEVELS

ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {400: "bad input", 401: "no or invalid token", 403: "the agent lacks the right",
            404: "unknown conversation", 409: "conflict (e.g. claimed by another agent)",
            413: "body too large", 429: "too many failed sign-ins: wait `Retry-After` seconds"}
    return {str(code): {"description": text[code], **_json(ERROR)} for code in codes}


def _op(summary: str, ok: dict[str, Any], *errors: int, body: dict[str, Any] | None = None,
        auth: str | None = "agent", ok_status: str = "200", tags: list[str] | None = None,
        extra_ok: dict[str, Any] | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "responses": {ok_status: {"description": "OK", **_json(ok)}, **(extra_ok or {}), **_errors(*errors)},
    }
    if tags:
        operation["tags"] = tags
    if body is not None:
        operation["requestBody"] = {"required": True, **_json(body)}
    if auth == "agent":
        operation["security"] = [{"agentToken": []}]
    elif auth == "service":
        operation["security"] = [{"serviceToken": []}]
    return operation


ID_PARAM = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"},
             "description": "the conversation id (Rasa sender id)"}]
CONV = {"$ref": "#/components/schemas/Conversation"}
DELIVERY = {"$ref": "#/components/schemas/Delivery"}
USERNAME_PARAM = [{"name": "username", "in": "path", "required": True, "schema": {"type": "string"}}]
AGENT_STATE = {"allOf": [{"$ref": "#/components/schemas/Agent"},
                         {"type": "object", "properties": {"active": {"type": "boolean"}}}]}
PRESENCE = {"type": "object", "properties": {
    "username": {"type": "string"}, "name": {"type": "string"},
    "tiers": {"type": "array", "items": {"enum": ["tier1", "tier2"]}},
    "roles": {"type": "array", "items": {"type": "string"}},
    "status": {"enum": ["online", "away", "offline"]}, "open_conversations": {"type": "integer"},
    "max_concurrent": {"type": "integer"}, "last_seen_at": {"type": "string", "format": "date-time", "nullable": True}}}
DELIVERY_ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]


def openapi_document(demo: bool = True) -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/api/agents/login": {"post": _op(
            "Sign in; the token goes into `Authorization: Bearer` of every other agent call",
            {"type": "object", "properties": {"token": {"type": "string"}, "agent": {"$ref": "#/components/schemas/Agent"},
                                              "expires_in": {"type": "integer"}}},
            400, 401, 429, auth=None, tags=["agents"],
            body={"type": "object", "required": ["username", "password"],
                  "properties": {"username": {"type": "string"}, "password": {"type": "string"}}})},
        "/api/agents/logout": {"post": {
            "summary": "Sign out: this token is refused from now on, on every instance; its consoles are closed",
            "tags": ["agents"], "security": [{"agentToken": []}],
            "responses": {"204": {"description": "signed out"}, **_errors(401)}}},
        "/api/agents/{username}/disable": {"parameters": USERNAME_PARAM, "post": _op(
            "Supervisor only: the agent can no longer sign in; every token of theirs ends and their "
            "consoles are closed", AGENT_STATE, 401, 403, 404, 409, tags=["agents"])},
        "/api/agents/{username}/enable": {"parameters": USERNAME_PARAM, "post": _op(
            "Supervisor only: the agent may sign in again (old tokens stay ended)", AGENT_STATE, 401, 403, 404,
            tags=["agents"])},
        "/api/agents/me": {"get": _op("The signed-in agent", {"$ref": "#/components/schemas/Agent"}, 401, tags=["agents"])},
        "/api/queue": {"get": _op(
            "Waiting conversations this agent may take, most urgent first (prioritized, P-level, "
            "SLA deadline, waiting time)", {"type": "array", "items": CONV}, 401, tags=["agents"])},
        "/api/conversations/{id}": {"parameters": ID_PARAM, "get": _op(
            "A conversation with its account summary and full (redacted) transcript", CONV, 401, 404, tags=["agents"])},
        "/api/conversations/{id}/claim": {"parameters": ID_PARAM, "post": _op(
            "Claim a waiting conversation; of simultaneous claims exactly one wins", CONV, 401, 403, 404, 409, tags=["agents"])},
        "/api/conversations/{id}/messages": {"parameters": ID_PARAM, "post": _op(
            "Send a message to the user (delivered live to the widget, stored)",
            {"type": "object", "properties": {"message": {"$ref": "#/components/schemas/TranscriptEntry"},
                                              "delivered": {"type": "integer", "description": "widget sockets reached"}}},
            400, 401, 403, 404, 409, 413, tags=["agents"],
            body={"type": "object", "required": ["text"], "properties": {"text": {"type": "string", "maxLength": 4096}}})},
        "/api/conversations/{id}/transfer": {"parameters": ID_PARAM, "post": _op(
            "Put the conversation back into a queue (e.g. tier2)", CONV, 400, 401, 403, 404, 409, tags=["agents"],
            body={"type": "object", "required": ["queue"], "properties": {"queue": {"enum": ["tier1", "tier2"]}}})},
        "/api/conversations/{id}/resolve": {"parameters": ID_PARAM, "post": _op(
            "Close the conversation; the bot answers the user's next message", CONV, 401, 403, 404, 409, tags=["agents"])},
        "/api/conversations/{id}/release": {"parameters": ID_PARAM, "post": _op(
            "Hand the conversation back to the bot (the `agent_handled` slot is set in Rasa's tracker)",
            CONV, 401, 403, 404, 409, tags=["agents"])},
        "/api/tickets": {"get": _op("Web tickets, newest first", {"type": "array", "items": {"$ref": "#/components/schemas/Ticket"}},
                                    400, 401, tags=["agents"])},
        "/api/tickets/{ticket_id}": {"get": _op("One web ticket", {"$ref": "#/components/schemas/Ticket"}, 401, 404, tags=["agents"])},
        # Presence, assignment, typing (handoff/presence.py, assignment.py, waiting.py).
        "/api/agents/me/status": {"put": _op(
            "Set the signed-in agent online (assigned new conversations) or away", PRESENCE, 400, 401, tags=["agents"],
            body={"type": "object", "required": ["status"], "properties": {"status": {"enum": ["online", "away"]}}})},
        "/api/agents": {"get": _op(
            "Every agent with presence (offline: no console connected on any instance) and load",
            {"type": "array", "items": PRESENCE}, 401, tags=["agents"])},
        "/api/conversations": {"get": {**_op(
            "The signed-in agent's open (claimed) conversations", {"type": "array", "items": CONV}, 400, 401,
            tags=["agents"]), "parameters": [{"name": "mine", "in": "query", "required": True,
                                              "schema": {"enum": ["true"]}}]}},
        "/api/conversations/{id}/typing": {"parameters": ID_PARAM, "post": _op(
            "The owner is typing: the widget shows it", {"type": "object", "properties": {
                "delivered": {"type": "integer", "description": "instances holding a widget socket"}}},
            401, 403, 404, 409, tags=["agents"])},
        # Supervisors only (docs/webhooks.md): the integrations' outbox.
        "/api/deliveries": {"get": {**_op(
            "Webhook and email deliveries, newest first (supervisors only); default: failed and retrying",
            {"type": "array", "items": DELIVERY}, 400, 401, 403, tags=["supervisors"]),
            "parameters": [
                {"name": "status", "in": "query", "schema": {"type": "string", "default": "failed,retrying"},
                 "description": "comma list of pending, delivered, failed, retrying"},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 100, "maximum": 500}}]}},
        "/api/deliveries/{id}": {"parameters": DELIVERY_ID, "get": _op(
            "One delivery with its payload (supervisors only)", DELIVERY, 400, 401, 403, 404, tags=["supervisors"])},
        "/api/deliveries/{id}/replay": {"parameters": DELIVERY_ID, "post": _op(
            "Send a failed or retrying delivery again now, with the same event id (supervisors only)",
            DELIVERY, 400, 401, 403, 404, 409, tags=["supervisors"])},
        "/internal/intake": {"post": _op(
            "Queue an escalated conversation (idempotent by conversation_id); see docs/internal-api.md",
            {"$ref": "#/components/schemas/IntakeAnswer"}, 400, 401, 413, auth="service", tags=["internal"],
            body={"$ref": "#/components/schemas/Intake"})},
        "/internal/tickets": {"post": _op(
            "Store a web ticket (idempotent by ticket_id): 201 new, 200 repeat",
            {"type": "object", "properties": {"ticket_id": {"type": "string"}, "status": {"type": "string"}}},
            400, 401, 413, auth="service", ok_status="201", tags=["internal"],
            extra_ok={"200": {"description": "the ticket already existed"}},
            body={"type": "object", "required": ["ticket_id"], "properties": {
                "ticket_id": {"type": "string", "pattern": "^T-[A-Z0-9]{6}$"}, "conversation_id": {"type": "string"},
                "user_id": {"type": "string", "nullable": True}, "email": {"type": "string", "nullable": True},
                "subject": {"type": "string"}, "description": {"type": "string"}, "language": {"type": "string"},
                "transcript": {"type": "array", "items": {"$ref": "#/components/schemas/TranscriptEntry"}}}})},
        "/internal/conversations/{id}/messages": {"parameters": ID_PARAM, "post": _op(
            "A REST-channel user's message while the conversation is with the agents (stored, pushed to "
            "the consoles; leave: true leaves the queue, priority corrects the level); 409 when it is "
            "with the bot; see docs/internal-api.md",
            {"type": "object", "properties": {
                "status": {"enum": ["waiting", "claimed", "bot"]}, "position": {"type": "integer", "nullable": True},
                "left": {"type": "boolean"}, "priority": {"enum": ["P1", "P2", "P3", "P4"]}}},
            400, 401, 409, 413, auth="service", tags=["internal"],
            body={"type": "object", "required": ["text"], "properties": {
                "text": {"type": "string", "minLength": 1, "maxLength": 4000}, "leave": {"type": "boolean"},
                "priority": {"enum": ["P1", "P2", "P3", "P4"]}}})},
        "/health": {"get": _op("Liveness with a database check", {"type": "object"}, auth=None, tags=["service"])},
        "/openapi.json": {"get": _op("This document", {"type": "object"}, auth=None, tags=["service"])},
    }
    if demo:
        paths["/demo/users"] = {"get": _op(
            "DEMO ONLY (absent in production): the demo users", {"type": "array", "items": {"type": "object"}},
            auth=None, tags=["demo"])}
        paths["/demo/token"] = {"post": _op(
            "DEMO ONLY (absent in production): an identity token for a demo user",
            {"type": "object", "properties": {"token": {"type": "string"}}}, 400, auth=None, tags=["demo"],
            body={"type": "object", "required": ["user_id"], "properties": {"user_id": {"type": "string"}}})}
    document = {
        "openapi": "3.0.3",
        "info": {
            "title": "Live-agent service",
            "version": "1.0.0",
            "description": (
                "Queue, transcripts and live chat between agents and users. Websockets (not "
                "describable in OpenAPI): `GET /ws/chat` (widget protocol) and `GET /ws/agent` "
                "(first frame `{\"type\": \"auth\", \"token\"}`); see handoff/README.md."
            ),
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "agentToken": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "serviceToken": {"type": "http", "scheme": "bearer", "description": "HANDOFF_SERVICE_TOKEN"},
            },
            "schemas": {
                "Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
                    "code": {"type": "string"}, "message": {"type": "string"}}}}},
                "Agent": {"type": "object", "properties": {"username": {"type": "string"}, "name": {"type": "string"},
                                                           "tiers": {"type": "array", "items": {"enum": ["tier1", "tier2"]}},
                                                           "roles": {"type": "array", "items": {"enum": ["supervisor"]}}}},
                "Delivery": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "channel": {"enum": ["webhook", "email"]},
                    "event": {"type": "string"}, "event_id": {"type": "string"},
                    "about": {"type": "string", "description": "conversation:<id> or ticket:<id>"},
                    "status": {"enum": ["pending", "delivered", "failed"]}, "retrying": {"type": "boolean"},
                    "attempts": {"type": "integer"}, "next_attempt_at": {"type": "string", "nullable": True},
                    "last_status": {"type": "integer", "nullable": True}, "last_error": {"type": "string", "nullable": True},
                    "last_attempt_at": {"type": "string", "nullable": True}, "delivered_at": {"type": "string", "nullable": True},
                    "replayed_at": {"type": "string", "nullable": True}, "created_at": {"type": "string"},
                    "payload": {"type": "object", "description": "only in GET /api/deliveries/{id}"}}},
                "TranscriptEntry": {"type": "object", "properties": {
                    "from": {"enum": ["user", "bot", "agent", "system"]}, "text": {"type": "string"},
                    "at": {"type": "string", "format": "date-time"}}},
                "Conversation": {"type": "object", "properties": {
                    "id": {"type": "string"}, "status": {"enum": ["bot", "waiting", "claimed", "resolved"]},
                    "queue": {"enum": ["tier1", "tier2", None], "nullable": True},
                    "priority": {"type": "string", "nullable": True}, "prioritized": {"type": "boolean"},
                    "account": {"type": "object"}, "agent": {"type": "string", "nullable": True},
                    "position": {"type": "integer"}, "estimated_wait_minutes": {"type": "integer"},
                    "sla": {"type": "object", "properties": {
                        "first_response_due": {"type": "string", "nullable": True},
                        "restoration_due": {"type": "string", "nullable": True}}},
                    "transcript": {"type": "array", "items": {"$ref": "#/components/schemas/TranscriptEntry"}}}},
                "Intake": {"type": "object", "required": ["conversation_id", "queue"], "properties": {
                    "conversation_id": {"type": "string"}, "user_id": {"type": "string", "nullable": True},
                    "language": {"enum": ["de", "en"]}, "queue": {"enum": ["tier1", "tier2"]},
                    "priority": {"enum": list(PRIORITY_LEVELS)}, "prioritized": {"type": "boolean"},
                    "summary": {"type": "string"}, "account": {"type": "object"},
                    "transcript": {"type": "array", "items": {"$ref": "#/components/schemas/TranscriptEntry"}}}},
                "IntakeAnswer": {"type": "object", "properties": {
                    "conversation_id": {"type": "string"}, "status": {"type": "string"},
                    "queue": {"type": "string"}, "priority": {"type": "string"}, "prioritized": {"type": "boolean"},
                    "position": {"type": "integer"}, "estimated_wait_minutes": {"type": "integer"},
                    "sla": {"type": "object"}}},
                "Ticket": {"type": "object", "properties": {
                    "ticket_id": {"type": "string"}, "status": {"type": "string"}, "subject": {"type": "string"},
                    "transcript": {"type": "array", "items": {"$ref": "#/components/schemas/TranscriptEntry"}}}},
            },
        },
    }
    from handoff import openapi_desk  # the desk's endpoints, in a module of their own

    return openapi_desk.extend(document)
