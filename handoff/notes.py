"""Agents' tools on one conversation: internal notes and the transcript export.

- `POST /api/conversations/{id}/notes` `{"text"}` → 201 `{"note": {"agent", "text", "at"}}`.
  Any agent of the conversation's tier (or a supervisor) may note; the note is pushed to the
  agents of that tier as `{"type": "note", "conversation_id", "note"}` and never to the widget:
  notes live in their own table, which nothing on the user's side reads.
- `GET /api/conversations/{id}/transcript?format=txt|json` → the whole transcript, redacted,
  as a download (`Content-Disposition: attachment`). Notes are not part of it.
"""
from __future__ import annotations

from typing import Any

from aiohttp import web

from handoff.errors import BadRequest, Forbidden
from handoff.httputil import answer, json_body, require_agent, text_field
from handoff.repository import desk
from handoff.state import CONFIG, DATABASE, HUB
from handoff.texts import language_of

SUPERVISOR = "supervisor"
FORMATS = ("txt", "json")
SPEAKERS = {
    "de": {"user": "Kunde", "bot": "Bolt", "agent": "Agent", "system": "System"},
    "en": {"user": "Customer", "bot": "Bolt", "agent": "Agent", "system": "System"},
}
HEADINGS = {"de": "Gesprächsverlauf {id}", "en": "Transcript {id}"}


async def add_note(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    body = await json_body(request)
    text = text_field(body, "text", request.app[CONFIG].max_text_bytes)
    conversation_id = request.match_info["id"]
    database = request.app[DATABASE]
    state = await database.read(desk.conversation_queue, conversation_id)
    if not (agent.can_handle(state["queue"]) or agent.has_role(SUPERVISOR)):
        raise Forbidden(f"{state['queue']} conversations are not for {agent.username}")
    note, state = await database.write(desk.add_note, conversation_id, agent.username, text)
    note["agent_name"] = agent.name
    await request.app[HUB].to_agents(
        {"type": "note", "conversation_id": conversation_id, "note": note}, queue=state["queue"])
    return answer({"note": note}, status=201)


def transcript_text(export: dict[str, Any]) -> str:
    """The export as plain text: a heading, then one line per message ("[time] Who: text")."""
    lang = language_of(export.get("language"))
    speakers = SPEAKERS[lang]
    lines = [HEADINGS[lang].format(id=export["id"])]
    account = export.get("account") or {}
    if account:
        lines.append(" · ".join(str(v) for v in account.values()))
    lines.append("")
    for message in export["transcript"]:
        who = speakers.get(message["from"], message["from"])
        if message["from"] == "agent" and message.get("agent_name"):
            who = f"{who} {message['agent_name']}"
        at = (message.get("at") or "")[:19].replace("T", " ")
        text = (message.get("text") or "").replace("\r\n", "\n").replace("\n", "\n    ")
        lines.append(f"[{at} UTC] {who}: {text}")
    return "\n".join(lines) + "\n"


async def transcript(request: web.Request) -> web.Response:
    await require_agent(request)
    kind = request.query.get("format", "txt")
    if kind not in FORMATS:
        raise BadRequest("'format' must be txt or json", code="invalid_format")
    export = await request.app[DATABASE].read(desk.export_transcript, request.match_info["id"])
    filename = f"transcript-{export['id'][:64]}.{kind}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"}
    if kind == "json":
        response = answer(export)
        response.headers.update(headers)
        return response
    return web.Response(text=transcript_text(export), content_type="text/plain", charset="utf-8", headers=headers)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/conversations/{id}/notes", add_note)
    app.router.add_get("/api/conversations/{id}/transcript", transcript)
