"""The desk's part of `/openapi.json` (handoff/openapi.py calls `extend`): notes, canned
answers, transcript export, privacy, audit, the supervisors' day and `/metrics`."""
from __future__ import annotations

from typing import Any

from handoff.openapi import ID_PARAM, _op

NOTE = {"$ref": "#/components/schemas/Note"}
USER_PARAM = [{"name": "user_id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 128},
               "description": "the help center's user id (the identity token's `sub`)"}]


def paths() -> dict[str, Any]:
    return {
        "/api/conversations/{id}/notes": {"parameters": ID_PARAM, "post": _op(
            "Add an internal note (agents of the conversation's tier or supervisors; never shown to the user)",
            {"type": "object", "properties": {"note": NOTE}}, 400, 401, 403, 404, 413, ok_status="201", tags=["agents"],
            body={"type": "object", "required": ["text"], "properties": {"text": {"type": "string", "maxLength": 4096}}})},
        "/api/conversations/{id}/transcript": {"parameters": ID_PARAM, "get": {**_op(
            "The whole transcript, redacted, as a download (text or JSON); notes are not part of it",
            {"type": "object"}, 400, 401, 404, tags=["agents"]),
            "parameters": [{"name": "format", "in": "query", "schema": {"enum": ["txt", "json"], "default": "txt"}}]}},
        "/api/canned": {"get": {**_op(
            "Canned answers from the knowledge data: each phone country's numbers, the plans, each priority's times",
            {"type": "array", "items": {"type": "object", "properties": {
                "key": {"type": "string"}, "title": {"type": "string"}, "text": {"type": "string"}}}},
            400, 401, tags=["agents"]),
            "parameters": [{"name": "lang", "in": "query", "schema": {"enum": ["de", "en"], "default": "de"}}]}},
        "/api/users/{user_id}/export": {"parameters": USER_PARAM, "get": _op(
            "Every conversation (transcript, notes, CSAT) and ticket of a user (supervisors only; audited)",
            {"type": "object"}, 400, 401, 403, 404, tags=["supervisors"])},
        "/api/users/{user_id}/data": {"parameters": USER_PARAM, "delete": _op(
            "Delete a user's transcripts, tickets, outbox rows and Rasa tracker events (supervisors only; audited)",
            {"type": "object", "properties": {"user_id": {"type": "string"}, "deleted": {"type": "object"},
                                              "conversation_ids": {"type": "array", "items": {"type": "string"}}}},
            400, 401, 403, 404, tags=["supervisors"])},
        "/api/audit": {"get": {**_op(
            "Agents' actions, newest first (supervisors only)",
            {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "integer"}, "agent": {"type": "string"}, "action": {"type": "string"},
                "conversation_id": {"type": "string", "nullable": True}, "detail": {"type": "object"},
                "at": {"type": "string", "format": "date-time"}}}}, 400, 401, 403, tags=["supervisors"]),
            "parameters": [
                {"name": "action", "in": "query", "schema": {"type": "string"},
                 "description": "comma list: login, claim, message, transfer, resolve, release, export, delete, purge"},
                {"name": "agent", "in": "query", "schema": {"type": "string"}},
                {"name": "conversation_id", "in": "query", "schema": {"type": "string"}},
                {"name": "before", "in": "query", "schema": {"type": "integer"}, "description": "entries older than this id"},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 100, "maximum": 500}}]}},
        "/api/stats/today": {"get": _op(
            "Today's numbers since 00:00 UTC: volume, waiting, SLA breaches, average wait, CSAT, share solved by the bot alone "
            "(supervisors only)", {"type": "object"}, 401, 403, tags=["supervisors"])},
        "/metrics": {"get": _op("Prometheus metrics (text format; see handoff/README.md)", {"type": "string"},
                                auth=None, tags=["service"])},
    }


def extend(document: dict[str, Any]) -> dict[str, Any]:
    document["paths"].update(paths())
    schemas = document["components"]["schemas"]
    schemas["Note"] = {"type": "object", "properties": {
        "agent": {"type": "string"}, "text": {"type": "string"}, "at": {"type": "string", "format": "date-time"}}}
    schemas["Csat"] = {"type": "object", "nullable": True, "properties": {
        "score": {"type": "integer", "minimum": 1, "maximum": 5}, "comment": {"type": "string", "nullable": True},
        "at": {"type": "string", "format": "date-time"}}}
    conversation = schemas["Conversation"]["properties"]
    conversation["notes"] = {"type": "array", "items": NOTE, "description": "GET /api/conversations/{id} only"}
    conversation["csat"] = {"$ref": "#/components/schemas/Csat"}
    return document
