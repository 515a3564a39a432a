"""Agents' desk over the contract: internal notes, the audit log, canned answers from the
knowledge data, the transcript export, CSAT after resolve (real service, real database)."""
from __future__ import annotations

import asyncio
import json
import re

from bot.knowledge import load_knowledge
from tests.handoff.conftest import hello, identity, intake, login, receive

CARD = "4111 1111 1111 1111"


async def _escalated(client, text: str = "Mitarbeiter bitte"):
    """A widget whose conversation the fake Rasa queued (user u-biz-admin)."""
    ws, welcome = await hello(client, token=identity(), locale="de")
    await ws.send_json({"type": "message", "text": text})
    await receive(ws, "handoff")
    return ws, welcome["conversation_id"]


async def _frames(ws, seconds: float = 0.3) -> list[dict]:
    frames = []
    try:
        while True:
            frames.append(await asyncio.wait_for(ws.receive_json(), seconds))
    except (asyncio.TimeoutError, TypeError):
        return frames


async def test_notes_reach_agents_and_never_the_widget(client):
    ws, conversation_id = await _escalated(client)
    anna, tom = await login(client, "anna"), await login(client, "tom")
    agent_ws = await client.ws_connect("/ws/agent")
    await agent_ws.send_json({"type": "auth", "token": tom["Authorization"].split()[1]})
    await receive(agent_ws, "ready")
    created = await client.post(f"/api/conversations/{conversation_id}/notes", headers=anna,
                                json={"text": "Kunde wirkt verärgert; Karte " + CARD})
    assert created.status == 201
    note = (await created.json())["note"]
    assert note["agent"] == "anna" and CARD not in note["text"] and note["at"]
    pushed = await receive(agent_ws, "note")
    assert pushed["conversation_id"] == conversation_id and pushed["note"]["text"] == note["text"]
    detail = await (await client.get(f"/api/conversations/{conversation_id}", headers=tom)).json()
    assert [n["text"] for n in detail["notes"]] == [note["text"]]
    assert all("verärgert" not in m["text"] for m in detail["transcript"])
    # The widget: nothing live, nothing in the history after a reload.
    assert all("verärgert" not in json.dumps(f) for f in await _frames(ws))
    await ws.close()
    again, welcome = await hello(client, token=identity(), locale="de", conversation_id=conversation_id)
    history = await receive(again, "history")
    assert welcome["resumed"] and "verärgert" not in json.dumps(history)
    await again.close()
    await agent_ws.close()


async def test_notes_are_checked(client):
    await intake(client, "c-note-2", queue="tier2")
    anna, sara = await login(client, "anna"), await login(client, "sara")
    assert (await client.post("/api/conversations/c-note-2/notes", json={"text": "x"})).status == 401
    refused = await client.post("/api/conversations/c-note-2/notes", headers=anna, json={"text": "x"})
    assert refused.status == 403  # tier2 is not anna's
    for body, code in (({"text": ""}, "invalid_text"), ({"text": "ä" * 3000}, "too_long"), ({}, "invalid_text")):
        response = await client.post("/api/conversations/c-note-2/notes", headers=sara, json=body)
        assert response.status == 400 and (await response.json())["error"]["code"] == code
    bad_json = await client.post("/api/conversations/c-note-2/notes", headers=sara, data=b"{nope")
    assert bad_json.status == 400
    assert (await client.post("/api/conversations/nope/notes", headers=sara, json={"text": "x"})).status == 404
    html = await client.post("/api/conversations/c-note-2/notes", headers=sara, json={"text": "<img src=x onerror=alert(1)>"})
    assert html.status == 201 and (await html.json())["note"]["text"] == "<img src=x onerror=alert(1)>"


async def test_audit_log_is_for_supervisors_and_records_the_actions(client):
    for conversation_id in ("c-a1", "c-a2", "c-a3"):
        await intake(client, conversation_id)
    anna, sara = await login(client, "anna"), await login(client, "sara")
    await client.post("/api/conversations/c-a1/claim", headers=anna)
    await client.post("/api/conversations/c-a1/transfer", headers=anna, json={"queue": "tier2"})
    await client.post("/api/conversations/c-a2/claim", headers=anna)
    await client.post("/api/conversations/c-a2/resolve", headers=anna)
    await client.post("/api/conversations/c-a3/claim", headers=anna)
    await client.post("/api/conversations/c-a3/release", headers=anna)
    assert (await client.get("/api/audit")).status == 401
    refused = await client.get("/api/audit", headers=anna)
    assert refused.status == 403 and (await refused.json())["error"]["code"] == "forbidden"
    rows = await (await client.get("/api/audit?action=claim,transfer,resolve,release", headers=sara)).json()
    seen = [(r["agent"], r["action"], r["conversation_id"]) for r in reversed(rows)]
    assert seen == [("anna", "claim", "c-a1"), ("anna", "transfer", "c-a1"), ("anna", "claim", "c-a2"),
                    ("anna", "resolve", "c-a2"), ("anna", "claim", "c-a3"), ("anna", "release", "c-a3")]
    assert all(r["at"] for r in rows) and rows[0]["id"] > rows[-1]["id"]
    assert rows[-1]["detail"] == {} and rows[-2]["detail"] == {"from": "tier1", "to": "tier2"}
    one = await (await client.get("/api/audit?conversation_id=c-a2&limit=1", headers=sara)).json()
    assert [(r["action"]) for r in one] == ["resolve"]
    older = await (await client.get(f"/api/audit?before={one[0]['id']}&conversation_id=c-a2", headers=sara)).json()
    assert [r["action"] for r in older] == ["claim"]
    for query in ("limit=x", "before=-1"):
        assert (await client.get(f"/api/audit?{query}", headers=sara)).status == 400


async def test_canned_answers_carry_the_knowledge_data(client):
    anna = await login(client)
    assert (await client.get("/api/canned?lang=de")).status == 401
    assert (await client.get("/api/canned?lang=fr", headers=anna)).status == 400
    knowledge = load_knowledge()
    for lang in ("de", "en"):
        entries = await (await client.get(f"/api/canned?lang={lang}", headers=anna)).json()
        by_key = {e["key"]: e for e in entries}
        assert all(set(e) == {"key", "title", "text"} for e in entries)
        for country in knowledge.phone_countries:
            entry = by_key[f"phone-{country.code.lower()}"]
            digits = re.sub(r"\D", "", entry["text"])
            assert all(number.digits in digits for number in country.phones), entry
            assert country.name.get(lang) in entry["title"]
        for plan in knowledge.plans.values():
            entry = by_key[f"plan-{plan.id.replace('_', '-')}"]
            assert plan.name.get(lang) in entry["text"]
            assert all(pf.feature.name.get(lang) in entry["text"] for pf in plan.features)
        for level, priority in knowledge.priorities.items():
            entry = by_key[level.lower()]
            assert priority.first_response.text(lang) in entry["text"]
            if priority.restoration:
                assert priority.restoration.text(lang) in entry["text"]
    german = await (await client.get("/api/canned", headers=anna)).json()
    assert "Bitte halten Sie" in by_key_text(german, "phone-de") and " du " not in json.dumps(german, ensure_ascii=False)


def by_key_text(entries, key):
    return next(e["text"] for e in entries if e["key"] == key)


async def test_transcript_export_is_whole_and_redacted(client):
    ws, conversation_id = await _escalated(client, "Mitarbeiter bitte, meine Karte ist " + CARD)
    anna = await login(client)
    await client.post(f"/api/conversations/{conversation_id}/claim", headers=anna)
    await client.post(f"/api/conversations/{conversation_id}/messages", headers=anna, json={"text": "Ich sehe es mir an."})
    await client.post(f"/api/conversations/{conversation_id}/notes", headers=anna, json={"text": "interne Notiz"})
    assert (await client.get(f"/api/conversations/{conversation_id}/transcript")).status == 401
    as_json = await client.get(f"/api/conversations/{conversation_id}/transcript?format=json", headers=anna)
    body = await as_json.json()
    assert as_json.status == 200 and "attachment" in as_json.headers["Content-Disposition"]
    texts = [m["text"] for m in body["transcript"]]
    assert any("Mitarbeiter bitte" in t for t in texts) and "Ich sehe es mir an." in texts
    assert CARD not in json.dumps(body) and "interne Notiz" not in json.dumps(body, ensure_ascii=False)
    as_text = await client.get(f"/api/conversations/{conversation_id}/transcript?format=txt", headers=anna)
    plain = await as_text.text()
    # In the conversation's language (the fake Rasa's intake says English).
    assert as_text.content_type == "text/plain" and plain.startswith(f"Transcript {conversation_id}")
    assert "] Agent Anna (Tier 1): Ich sehe es mir an." in plain and "] Customer: Mitarbeiter bitte" in plain
    assert CARD not in plain and "interne Notiz" not in plain
    assert (await client.get(f"/api/conversations/{conversation_id}/transcript?format=pdf", headers=anna)).status == 400
    assert (await client.get("/api/conversations/nope/transcript", headers=anna)).status == 404
    await ws.close()


async def test_csat_after_resolve_is_stored_once_and_shown(client):
    ws, conversation_id = await _escalated(client)
    anna = await login(client)
    await ws.send_json({"type": "csat", "score": 5})
    early = await receive(ws, "error")
    assert early["code"] == "not_requested" and "Bewertung" in early["message"]
    await client.post(f"/api/conversations/{conversation_id}/claim", headers=anna)
    await client.post(f"/api/conversations/{conversation_id}/resolve", headers=anna)
    await receive(ws, "csat_request")
    for bad in ({"score": 0}, {"score": 6}, {"score": "5"}, {"score": True}, {"score": 4.5}, {}):
        await ws.send_json({"type": "csat", **bad})
        assert (await receive(ws, "error"))["code"] == "invalid_score", bad
    await ws.send_json({"type": "csat", "score": 4, "comment": "ä" * 3000})
    assert (await receive(ws, "error"))["code"] == "comment_too_long"
    # A reload before rating asks again.
    await ws.close()
    ws, _ = await hello(client, token=identity(), locale="de", conversation_id=conversation_id)
    await receive(ws, "csat_request")
    await ws.send_json({"type": "csat", "score": 4, "comment": "Schnell geholfen, Karte " + CARD})
    stored = await receive(ws, "csat")
    assert stored["status"] == "stored" and stored["score"] == 4 and stored["message"].startswith("Vielen Dank")
    await ws.send_json({"type": "csat", "score": 1})
    assert (await receive(ws, "error"))["code"] == "already_rated"
    detail = await (await client.get(f"/api/conversations/{conversation_id}", headers=anna)).json()
    assert detail["csat"]["score"] == 4 and detail["csat"]["at"]
    assert "Schnell geholfen" in detail["csat"]["comment"] and CARD not in detail["csat"]["comment"]
    await ws.close()
    ws, _ = await hello(client, token=identity(), locale="de", conversation_id=conversation_id)
    assert all(f["type"] != "csat_request" for f in await _frames(ws))
    await ws.close()


async def test_no_csat_without_a_resolve(client):
    ws, conversation_id = await _escalated(client)
    anna = await login(client)
    await client.post(f"/api/conversations/{conversation_id}/claim", headers=anna)
    await client.post(f"/api/conversations/{conversation_id}/release", headers=anna)
    assert all(f["type"] != "csat_request" for f in await _frames(ws))
    detail = await (await client.get(f"/api/conversations/{conversation_id}", headers=anna)).json()
    assert detail["csat"] is None and detail["notes"] == []
    await ws.close()
