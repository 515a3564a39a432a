"""The agent API: sign-in, authorization, queue order, claim race, transfer/resolve/release."""
from __future__ import annotations

import asyncio
import time

import jwt

from handoff import repository
from handoff.db import Database, make_engine

from handoff.security import AGENT_TOKEN_AUDIENCE
from tests.handoff.conftest import SERVICE_TOKEN, hello, identity, intake, login, receive


async def test_login(client):
    ok = await client.post("/api/agents/login", json={"username": "tom", "password": "tom-demo-pass"})
    body = await ok.json()
    assert ok.status == 200 and body["token"] and body["agent"]["tiers"] == ["tier1", "tier2"]
    for credentials in ({"username": "tom", "password": "wrong"}, {"username": "nobody", "password": "x"}):
        refused = await client.post("/api/agents/login", json=credentials)
        assert refused.status == 401
        assert (await refused.json())["error"]["code"] == "invalid_credentials"
    bad = await client.post("/api/agents/login", json={"username": "tom"})
    assert bad.status == 400


async def test_agent_endpoints_need_a_token(client):
    await intake(client, "c-1")
    for method, path in [
        ("GET", "/api/queue"), ("GET", "/api/conversations/c-1"), ("POST", "/api/conversations/c-1/claim"),
        ("POST", "/api/conversations/c-1/messages"), ("POST", "/api/conversations/c-1/transfer"),
        ("POST", "/api/conversations/c-1/resolve"), ("POST", "/api/conversations/c-1/release"),
        ("GET", "/api/tickets"), ("GET", "/api/agents/me"),
    ]:
        response = await client.request(method, path)
        assert response.status == 401, path
        assert (await response.json())["error"]["code"] == "unauthorized"


async def test_forged_expired_and_foreign_tokens_are_refused(client, make_config):
    secret = make_config().settings.agent_token_secret
    now = int(time.time())
    expired = jwt.encode({"sub": "tom", "aud": AGENT_TOKEN_AUDIENCE, "iat": now - 100, "exp": now - 10}, secret)
    forged = jwt.encode({"sub": "tom", "aud": AGENT_TOKEN_AUDIENCE, "iat": now, "exp": now + 60}, "x" * 40)
    # A help-center identity token is not an agent token.
    for token in (expired, forged, identity("tom"), "garbage"):
        response = await client.get("/api/queue", headers={"Authorization": f"Bearer {token}"})
        assert response.status == 401


async def test_tier1_agent_lacks_the_right_for_tier2(client):
    await intake(client, "c-tier2", queue="tier2")
    anna = await login(client, "anna")
    for action, body in [("claim", None), ("transfer", {"queue": "tier1"}), ("resolve", None), ("release", None)]:
        response = await client.post(f"/api/conversations/c-tier2/{action}", headers=anna, json=body)
        assert response.status == 403, action
        assert (await response.json())["error"]["code"] == "forbidden"
    tom = await login(client, "tom")
    assert (await client.post("/api/conversations/c-tier2/claim", headers=tom)).status == 200


async def test_unknown_conversation_is_404(client):
    anna = await login(client)
    for method, path in [("GET", "/api/conversations/nope"), ("POST", "/api/conversations/nope/claim")]:
        response = await client.request(method, path, headers=anna)
        assert response.status == 404
        assert (await response.json())["error"]["code"] == "not_found"


async def test_only_the_owner_writes_and_closes(client):
    await intake(client, "c-own")
    anna, tom = await login(client, "anna"), await login(client, "tom")
    not_claimed = await client.post("/api/conversations/c-own/messages", headers=anna, json={"text": "hi"})
    assert not_claimed.status == 409
    await client.post("/api/conversations/c-own/claim", headers=anna)
    for action, body in [("messages", {"text": "hi"}), ("resolve", None), ("release", None), ("transfer", {"queue": "tier2"})]:
        response = await client.post(f"/api/conversations/c-own/{action}", headers=tom, json=body)
        assert response.status == 403, action
        assert (await response.json())["error"]["code"] == "not_owner"
    assert (await client.post("/api/conversations/c-own/claim", headers=tom)).status == 409
    assert (await client.post("/api/conversations/c-own/claim", headers=anna)).status == 200  # a repeat


async def test_bad_input(client):
    await intake(client, "c-bad")
    anna = await login(client)
    await client.post("/api/conversations/c-bad/claim", headers=anna)
    cases = [
        ("/api/conversations/c-bad/messages", b"{oops", 400, "malformed_json"),
        ("/api/conversations/c-bad/messages", b"[1]", 400, "malformed_json"),
        ("/api/conversations/c-bad/messages", b'{"text": ""}', 400, "invalid_text"),
        ("/api/conversations/c-bad/messages", b'{"text": 5}', 400, "invalid_text"),
        ("/api/conversations/c-bad/messages", ('{"text": "%s"}' % ("x" * 5000)).encode(), 400, "too_long"),
        ("/api/conversations/c-bad/transfer", b'{"queue": "tier9"}', 400, "invalid_queue"),
    ]
    for path, body, status, code in cases:
        response = await client.post(path, data=body, headers={**anna, "Content-Type": "application/json"})
        assert response.status == status, (path, body[:30])
        assert (await response.json())["error"]["code"] == code
    huge = await client.post("/api/conversations/c-bad/messages", data=b"x" * (600 * 1024), headers=anna)
    assert huge.status == 413 and "error" in await huge.json()


async def test_queue_order(client):
    # Arrival order is the reverse of the expected urgency order.
    await intake(client, "plain-p4", priority="P4")
    await intake(client, "plain-p3-early", priority="P3")
    await intake(client, "plain-p3-late", priority="P3")
    await intake(client, "plain-p1", priority="P1")
    await intake(client, "prio-p4", priority="P4", prioritized=True)
    await intake(client, "prio-p2", priority="P2", prioritized=True)
    await intake(client, "tier2-p1", priority="P1", prioritized=True, queue="tier2")
    anna, tom = await login(client, "anna"), await login(client, "tom")
    anna_queue = [c["id"] for c in await (await client.get("/api/queue", headers=anna)).json()]
    assert anna_queue == ["prio-p2", "prio-p4", "plain-p1", "plain-p3-early", "plain-p3-late", "plain-p4"]
    tom_queue = await (await client.get("/api/queue", headers=tom)).json()
    assert [c["id"] for c in tom_queue] == ["tier2-p1", *anna_queue]
    first = tom_queue[0]
    assert first["position"] == 1 and first["estimated_wait_minutes"] == 4
    assert first["account"] == {"id": "acc-business"} and first["sla"]["first_response_due"]
    assert [c["position"] for c in tom_queue[1:]] == [1, 2, 3, 4, 5, 6]


async def test_claim_race_has_exactly_one_winner_each(start, database_url):
    """240 simultaneous claims by 12 agents on two app instances sharing the database."""
    racers = [{"username": f"racer{i}", "password": f"racer{i}-demo-pass", "name": f"Racer {i}",
               "tiers": ["tier1"]} for i in range(12)]
    database = Database(make_engine(database_url), threads=1)
    database.write_sync(repository.seed_agents, racers)
    database.close()
    first, second = await start(), await start()
    conversations = [f"race-{i}" for i in range(20)]
    for conversation_id in conversations:
        assert (await intake(first, conversation_id)).status == 200
    tokens = [await login(first, racer["username"]) for racer in racers]

    async def claim(n: int, conversation_id: str):
        client = first if n % 2 else second
        response = await client.post(f"/api/conversations/{conversation_id}/claim", headers=tokens[n])
        return conversation_id, response.status, racers[n]["username"]

    results = await asyncio.gather(*(claim(n, c) for c in conversations for n in range(len(racers))))
    assert len(results) == 240
    for conversation_id in conversations:
        mine = [r for r in results if r[0] == conversation_id]
        winners = [r[2] for r in mine if r[1] == 200]
        assert len(winners) == 1, conversation_id
        assert sorted(r[1] for r in mine) == [200] + [409] * 11
        detail = await (await first.get(f"/api/conversations/{conversation_id}", headers=tokens[0])).json()
        assert detail["status"] == "claimed" and detail["agent"] == winners[0]


async def test_two_simultaneous_claims_give_200_and_409(client):
    await intake(client, "c-two")
    anna, tom = await login(client, "anna"), await login(client, "tom")
    responses = await asyncio.gather(
        client.post("/api/conversations/c-two/claim", headers=anna),
        client.post("/api/conversations/c-two/claim", headers=tom),
    )
    assert sorted(r.status for r in responses) == [200, 409]


async def test_transfer_to_tier2(client):
    await intake(client, "c-transfer")
    anna, tom = await login(client, "anna"), await login(client, "tom")
    tom_ws = await client.ws_connect("/ws/agent")
    await tom_ws.send_json({"type": "auth", "token": tom["Authorization"].split()[1]})
    await receive(tom_ws, "ready")
    await client.post("/api/conversations/c-transfer/claim", headers=anna)
    moved = await client.post("/api/conversations/c-transfer/transfer", headers=anna, json={"queue": "tier2"})
    assert moved.status == 200
    assert (await moved.json())["status"] == "waiting" and (await moved.json())["queue"] == "tier2"
    assert (await receive(tom_ws, "escalation"))["conversation"]["id"] == "c-transfer"
    assert await (await client.get("/api/queue", headers=anna)).json() == []
    assert [c["id"] for c in await (await client.get("/api/queue", headers=tom)).json()] == ["c-transfer"]
    # Anna can still read what she handed over.
    assert (await client.get("/api/conversations/c-transfer", headers=anna)).status == 200
    assert (await client.post("/api/conversations/c-transfer/claim", headers=tom)).status == 200
    await tom_ws.close()


async def test_resolve_gives_the_conversation_back_to_the_bot(client, fake_rasa):
    anna = await login(client)
    ws, welcome = await hello(client, token=identity(), locale="de")
    conversation_id = welcome["conversation_id"]
    await ws.send_json({"type": "message", "text": "Mitarbeiter bitte"})
    await receive(ws, "handoff")
    await client.post(f"/api/conversations/{conversation_id}/claim", headers=anna)
    resolved = await client.post(f"/api/conversations/{conversation_id}/resolve", headers=anna)
    assert resolved.status == 200 and (await resolved.json())["status"] == "resolved"
    closing = await receive(ws, "message")
    while closing["from"] != "system" or "closed" not in closing["text"]:
        closing = await receive(ws, "message")  # in English: the intake said so
    assert (await receive(ws, "mode"))["mode"] == "bot"
    assert fake_rasa.events[-1][0] == conversation_id
    assert (await client.post(f"/api/conversations/{conversation_id}/resolve", headers=anna)).status == 409
    await ws.send_json({"type": "message", "text": "danke"})
    assert (await receive(ws, "message"))["text"] == "bot: danke"
    await ws.close()


async def test_release_posts_the_tracker_event_and_retries_when_rasa_was_down(client, fake_rasa, make_config):
    from handoff.background import run_once

    await intake(client, "c-release")
    anna = await login(client)
    await client.post("/api/conversations/c-release/claim", headers=anna)
    fake_rasa.down = True
    released = await client.post("/api/conversations/c-release/release", headers=anna)
    assert released.status == 200
    body = await released.json()
    assert body["status"] == "bot" and body["tracker_event_delivered"] is False
    assert fake_rasa.events == []
    fake_rasa.down = False
    await run_once(client.app)
    assert fake_rasa.events == [("c-release", {"event": "slot", "name": "agent_handled", "value": True})]
    assert fake_rasa.event_tokens == [make_config().settings.rasa_api_token]
    await run_once(client.app)
    assert len(fake_rasa.events) == 1  # delivered once, not again


async def test_agent_socket_needs_auth_first(client):
    ws = await client.ws_connect("/ws/agent")
    await ws.send_json({"type": "hello"})
    assert (await receive(ws))["code"] == "auth_required"
    await ws.receive()
    assert ws.closed and ws.close_code == 4401
    ws = await client.ws_connect("/ws/agent")
    await ws.send_json({"type": "auth", "token": "nope"})
    assert (await receive(ws))["code"] == "invalid_token"
    await ws.receive()
    assert ws.close_code == 4401


async def test_agent_socket_auth_timeout(start):
    client = await start(auth_timeout_seconds=0.2)
    ws = await client.ws_connect("/ws/agent")
    assert (await receive(ws))["code"] == "auth_timeout"
    await ws.receive()
    assert ws.closed


async def test_agents_see_claims_by_others(client):
    await intake(client, "c-seen")
    anna, tom = await login(client, "anna"), await login(client, "tom")
    anna_ws = await client.ws_connect("/ws/agent")
    await anna_ws.send_json({"type": "auth", "token": anna["Authorization"].split()[1]})
    ready = await receive(anna_ws, "ready")
    assert [c["id"] for c in ready["queue"]] == ["c-seen"]
    await anna_ws.send_json({"type": "ping"})
    assert (await receive(anna_ws))["type"] == "pong"
    await client.post("/api/conversations/c-seen/claim", headers=tom)
    claimed = await receive(anna_ws, "claimed")
    assert claimed["conversation_id"] == "c-seen" and claimed["agent"] == "tom"
    await anna_ws.close()


async def test_tickets_for_agents(client):
    service = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
    ticket = {"ticket_id": "T-4K9Q2M", "conversation_id": "c-t", "email": "x@example.org", "subject": "Hilfe",
              "description": "Mein Passwort ist Geheim123! und es geht nicht", "language": "de",
              "transcript": [{"from": "user", "text": "hi", "at": "2026-11-25T18:00:00+00:00"}],
              "account": {"id": "acc-business"}, "escalation": {"queue": "tier1", "priority": "P3"}}
    assert (await client.post("/internal/tickets", json=ticket, headers=service)).status == 201
    again = await client.post("/internal/tickets", json=ticket, headers=service)
    assert again.status == 200 and await again.json() == {"ticket_id": "T-4K9Q2M", "status": "open"}
    assert (await client.post("/internal/tickets", json={**ticket, "ticket_id": "X"}, headers=service)).status == 400
    assert (await client.post("/internal/tickets", json=ticket)).status == 401
    anna = await login(client)
    listed = await (await client.get("/api/tickets", headers=anna)).json()
    assert [t["ticket_id"] for t in listed] == ["T-4K9Q2M"]
    assert "Geheim123!" not in listed[0]["description"]
    assert listed[0]["escalation"]["priority"] == "P3"
    one = await client.get("/api/tickets/T-4K9Q2M", headers=anna)
    assert one.status == 200
    assert (await client.get("/api/tickets/T-NOPE00", headers=anna)).status == 404
