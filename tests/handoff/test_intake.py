"""The internal intake (docs/internal-api.md): service auth, idempotency, position, SLA."""
from __future__ import annotations

from datetime import datetime, timedelta

from tests.handoff.conftest import SERVICE_TOKEN, hello, identity, intake, login, receive


async def test_intake_needs_the_service_token(client):
    body = {"conversation_id": "c", "queue": "tier1", "priority": "P3"}
    assert (await client.post("/internal/intake", json=body)).status == 401
    wrong = await client.post("/internal/intake", json=body, headers={"Authorization": "Bearer nope"})
    assert wrong.status == 401
    assert (await wrong.json())["error"]["code"] == "unauthorized"


async def test_intake_answer_and_idempotency(client):
    first = await intake(client, "c-idem", summary="Aufnahmen fehlen")
    assert first.status == 200
    answer = await first.json()
    assert answer == {
        "conversation_id": "c-idem", "status": "waiting", "queue": "tier1", "priority": "P3",
        "prioritized": False, "position": 1, "estimated_wait_minutes": 4,
        "sla": {"first_response_due": None, "restoration_due": None},
    }
    again = await intake(client, "c-idem", priority="P2", transcript=[{"from": "user", "text": "dup", "at": None}])
    assert (await again.json())["priority"] == "P2"
    anna = await login(client)
    queue = await (await client.get("/api/queue", headers=anna)).json()
    assert [c["id"] for c in queue] == ["c-idem"]
    detail = await (await client.get("/api/conversations/c-idem", headers=anna)).json()
    # The first transcript is kept; a retry never duplicates messages. (With nobody online the
    # service adds its own note for the user, a system message: not part of what came in.)
    assert [(t["from"], t["text"]) for t in detail["transcript"] if t["from"] != "system"] == [("user", "hilfe")]
    assert detail["summary"] == "Aufnahmen fehlen"


async def test_position_and_estimated_wait(client):
    for i in range(3):
        await intake(client, f"c-pos-{i}")
    answer = await (await intake(client, "c-pos-3")).json()
    assert answer["position"] == 4 and answer["estimated_wait_minutes"] == 16
    urgent = await (await intake(client, "c-urgent", priority="P1", prioritized=True)).json()
    assert urgent["position"] == 1
    due = datetime.fromisoformat(urgent["sla"]["first_response_due"])
    restore = datetime.fromisoformat(urgent["sla"]["restoration_due"])
    assert timedelta(minutes=59) < due - datetime.now(due.tzinfo) <= timedelta(hours=1)
    assert restore - due == timedelta(hours=3)


async def test_widget_transcript_wins_over_the_sent_one(client):
    ws, welcome = await hello(client, token=identity())
    await ws.send_json({"type": "message", "text": "from the widget"})
    await receive(ws, "message")
    await intake(client, welcome["conversation_id"], transcript=[{"from": "user", "text": "from rasa", "at": None}])
    anna = await login(client)
    detail = await (await client.get(f"/api/conversations/{welcome['conversation_id']}", headers=anna)).json()
    texts = [t["text"] for t in detail["transcript"]]
    assert "from the widget" in texts and "from rasa" not in texts
    await ws.close()


async def test_intake_of_a_claimed_conversation_changes_nothing(client):
    await intake(client, "c-claimed")
    anna = await login(client)
    await client.post("/api/conversations/c-claimed/claim", headers=anna)
    answer = await (await intake(client, "c-claimed", queue="tier2")).json()
    assert answer["status"] == "claimed" and answer["queue"] == "tier1"


async def test_intake_bad_input(client):
    headers = {"Authorization": f"Bearer {SERVICE_TOKEN}", "Content-Type": "application/json"}
    for body in [b"not json", b'"a string"', b"{}", b'{"conversation_id": "c", "queue": "tier3"}',
                 b'{"conversation_id": "c", "queue": "tier1", "priority": "P9"}',
                 b'{"conversation_id": "c", "queue": "tier1", "prioritized": "yes"}',
                 b'{"conversation_id": "c", "queue": "tier1", "transcript": "x"}']:
        response = await client.post("/internal/intake", data=body, headers=headers)
        assert response.status == 400, body
        assert set((await response.json())["error"]) == {"code", "message"}


async def rest_message(client, conversation_id: str, text: str, **fields):
    return await client.post(f"/internal/conversations/{conversation_id}/messages", json={"text": text, **fields},
                             headers={"Authorization": f"Bearer {SERVICE_TOKEN}"})


async def test_a_rest_users_message_while_waiting_reaches_the_agents(client):
    """Rasa's REST channel, not the widget: action_relay_to_agent hands the message over."""
    await intake(client, "c-rest")
    anna = await login(client)
    agent = await client.ws_connect("/ws/agent")
    await agent.send_json({"type": "auth", "token": anna["Authorization"].split()[1]})
    answer = await rest_message(client, "c-rest", "Wie lange dauert das noch? Passwort ist Geheim!99")
    assert answer.status == 200
    assert await answer.json() == {"status": "waiting", "position": 1, "left": False, "priority": "P3"}
    pushed = await receive(agent, "user_message")
    assert pushed["conversation_id"] == "c-rest" and "Geheim!99" not in pushed["message"]["text"]
    detail = await (await client.get("/api/conversations/c-rest", headers=anna)).json()
    users = [t["text"] for t in detail["transcript"] if t["from"] == "user"]
    assert users[0] == "hilfe" and users[1].startswith("Wie lange dauert das noch?")
    await agent.close()


async def test_a_rest_user_leaves_the_queue(client):
    await intake(client, "c-rest-leave")
    answer = await rest_message(client, "c-rest-leave", "ich muss weg, bitte aus der Warteschlange nehmen", leave=True)
    assert await answer.json() == {"status": "bot", "left": True}
    anna = await login(client)
    assert [c["id"] for c in await (await client.get("/api/queue", headers=anna)).json()] == []
    # with the bot again: the next message is not stored for the agents
    again = await rest_message(client, "c-rest-leave", "und jetzt?")
    assert again.status == 409 and (await again.json())["error"]["code"] == "not_with_agents"


async def test_rest_messages_need_the_service_token_and_a_text(client):
    await intake(client, "c-rest-bad")
    path = "/internal/conversations/c-rest-bad/messages"
    assert (await client.post(path, json={"text": "hallo"})).status == 401
    for body in ({"text": ""}, {"text": 5}, {"text": "x" * 4001}, {"text": "ok", "leave": "yes"}):
        response = await client.post(path, json=body, headers={"Authorization": f"Bearer {SERVICE_TOKEN}"})
        assert response.status == 400, body
    unknown = await rest_message(client, "c-never-escalated", "hallo")
    assert unknown.status == 409


async def test_a_rest_user_corrects_the_priority_while_waiting(client):
    await intake(client, "c-rest-prio")
    answer = await rest_message(client, "c-rest-prio", "correction, it's P2: it hurts important parts of our work",
                                priority="P2")
    assert (await answer.json())["priority"] == "P2"
    anna = await login(client)
    detail = await (await client.get("/api/conversations/c-rest-prio", headers=anna)).json()
    assert detail["priority"] == "P2"
    assert "correction, it's P2" in " ".join(t["text"] for t in detail["transcript"] if t["from"] == "user")
    bad = await rest_message(client, "c-rest-prio", "P9!", priority="P9")
    assert bad.status == 400
