"""Presence, auto-assignment, reassignment, first-response alerts, "mine", the waiting user's
side and typing, over the contract (CONTRACT.md, operations surface): the real service on
SQLite and PostgreSQL, real sockets, the fake Rasa of conftest.py standing in for Rasa."""
from __future__ import annotations

import asyncio
from typing import Any

from tests.handoff.conftest import hello, identity, intake, login, receive

FAST = {"assignment_check_seconds": 0.1, "presence_heartbeat_seconds": 0.1}


async def console(client, headers, status: str | None = None):
    ws = await client.ws_connect("/ws/agent")
    await ws.send_json({"type": "auth", "token": headers["Authorization"].split()[1]})
    await receive(ws, "ready")
    if status:
        response = await client.put("/api/agents/me/status", json={"status": status}, headers=headers)
        assert response.status == 200, await response.text()
    return ws


async def agents(client, headers) -> dict[str, dict[str, Any]]:
    response = await client.get("/api/agents", headers=headers)
    assert response.status == 200
    return {a["username"]: a for a in await response.json()}


async def conversation(client, headers, conversation_id: str) -> dict[str, Any]:
    return await (await client.get(f"/api/conversations/{conversation_id}", headers=headers)).json()


async def eventually(check, timeout: float = 5.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.05)


async def no_frame(ws, kind: str, seconds: float = 0.4) -> bool:
    try:
        await receive(ws, kind, timeout=seconds)
    except asyncio.TimeoutError:
        return True
    return False


# --- presence ----------------------------------------------------------------------------------

async def test_status_online_away_offline_and_the_agents_list(start):
    client = await start(presence_timeout_seconds=0.5, **FAST)
    anna = await login(client, "anna")
    assert (await client.get("/api/agents")).status == 401
    listed = await agents(client, anna)
    assert set(listed) == {"anna", "tom", "sara"}
    assert listed["anna"] == {**listed["anna"], "status": "offline", "open_conversations": 0,
                              "max_concurrent": 3, "tiers": ["tier1"], "name": "Anna (Tier 1)"}

    ws = await console(client, anna)
    assert (await agents(client, anna))["anna"]["status"] == "away"  # connected: away until online
    for bad in ({"status": "busy"}, {"status": None}, {}):
        response = await client.put("/api/agents/me/status", json=bad, headers=anna)
        assert response.status == 400 and (await response.json())["error"]["code"] == "invalid_status"
    assert (await client.put("/api/agents/me/status", data=b"{", headers=anna)).status == 400
    answered = await client.put("/api/agents/me/status", json={"status": "online"}, headers=anna)
    assert (await answered.json())["status"] == "online"
    assert (await agents(client, anna))["anna"]["status"] == "online"

    # A reload (socket closed, another opened at once) keeps the choice.
    await ws.close()
    ws = await console(client, anna)
    assert (await agents(client, anna))["anna"]["status"] == "online"
    # All sockets gone for longer than the timeout: offline; back later: away.
    await ws.close()
    assert await eventually(lambda: _status_is(client, anna, "anna", "offline"))
    ws = await console(client, anna)
    assert (await agents(client, anna))["anna"]["status"] == "away"
    await ws.close()


async def _status_is(client, headers, username, status) -> bool:
    return (await agents(client, headers))[username]["status"] == status


# --- assignment --------------------------------------------------------------------------------

async def test_new_escalations_go_to_the_least_loaded_online_agent_below_the_cap(start):
    client = await start(max_concurrent=2, **FAST)
    anna, tom = await login(client, "anna"), await login(client, "tom")
    anna_ws, tom_ws = await console(client, anna, "online"), await console(client, tom, "online")
    owners = {}
    for n in range(5):
        assert (await intake(client, f"c-load-{n}")).status == 200
        owners[n] = (await conversation(client, anna, f"c-load-{n}"))["agent"]
    # Alternating by load (anna first on a tie), the fifth waits: both are at their cap.
    assert [owners[n] for n in range(5)] == ["anna", "tom", "anna", "tom", None]
    assert (await conversation(client, anna, "c-load-4"))["status"] == "waiting"
    assert [(await receive(anna_ws, "assigned"))["conversation_id"] for _ in range(2)] == ["c-load-0", "c-load-2"]
    assert [(await receive(tom_ws, "assigned"))["conversation_id"] for _ in range(2)] == ["c-load-1", "c-load-3"]
    listed = await agents(client, anna)
    assert (listed["anna"]["open_conversations"], listed["tom"]["open_conversations"]) == (2, 2)

    # Closing one makes room: the waiting conversation is assigned to her at once.
    assert (await client.post("/api/conversations/c-load-0/resolve", headers=anna)).status == 200
    assert (await receive(anna_ws, "assigned"))["conversation_id"] == "c-load-4"
    assert (await conversation(client, anna, "c-load-4"))["agent"] == "anna"
    await anna_ws.close()
    await tom_ws.close()


async def test_nothing_is_assigned_while_everyone_is_away_and_going_online_takes_the_most_urgent(start):
    client = await start(max_concurrent=1, **FAST)
    anna = await login(client, "anna")
    anna_ws = await console(client, anna)  # connected, away
    await intake(client, "c-away-p3", priority="P3")
    await intake(client, "c-away-p1", priority="P1", prioritized=True)
    await asyncio.sleep(0.4)  # several periodic rounds
    assert [c["id"] for c in await (await client.get("/api/queue", headers=anna)).json()] == ["c-away-p1", "c-away-p3"]
    assert await no_frame(anna_ws, "assigned")

    await client.put("/api/agents/me/status", json={"status": "online"}, headers=anna)
    assert (await receive(anna_ws, "assigned"))["conversation_id"] == "c-away-p1"
    assert (await conversation(client, anna, "c-away-p3"))["status"] == "waiting"  # her cap is 1
    await anna_ws.close()


async def test_a_conversation_goes_only_to_an_agent_of_its_tier(start):
    client = await start(**FAST)
    anna = await login(client, "anna")
    anna_ws = await console(client, anna, "online")
    await intake(client, "c-tier2", queue="tier2")
    await asyncio.sleep(0.3)
    assert (await conversation(client, anna, "c-tier2"))["status"] == "waiting"
    tom = await login(client, "tom")
    tom_ws = await console(client, tom, "online")
    assert (await receive(tom_ws, "assigned"))["conversation_id"] == "c-tier2"
    await anna_ws.close()
    await tom_ws.close()


async def test_an_offline_agents_conversations_go_back_to_the_head_of_the_queue(start):
    client = await start(presence_timeout_seconds=0.3, reassign_after_seconds=0.6, **FAST)
    anna = await login(client, "anna")
    anna_ws = await console(client, anna, "online")
    user, welcome = await hello(client, token=identity(), locale="en")
    conversation_id = welcome["conversation_id"]
    await intake(client, conversation_id, language="en")
    assert (await receive(anna_ws, "assigned"))["conversation_id"] == conversation_id
    await anna_ws.close()
    requeued = await receive(user, "message", timeout=5)
    while "first in the queue" not in requeued["text"]:
        requeued = await receive(user, "message", timeout=5)
    assert (await receive(user, "mode"))["status"] == "waiting"
    await intake(client, "c-urgent", priority="P1", prioritized=True)  # nobody online: waits
    tom = await login(client, "tom")
    queue = await (await client.get("/api/queue", headers=tom)).json()
    assert [c["id"] for c in queue] == [conversation_id, "c-urgent"]  # ahead of a P1
    assert queue[0]["agent"] is None and queue[0]["status"] == "waiting"
    # The next agent online takes it first.
    tom_ws = await console(client, tom, "online")
    assert (await receive(tom_ws, "assigned"))["conversation_id"] == conversation_id
    await tom_ws.close()
    await user.close()


async def test_a_nearing_first_response_deadline_alerts_every_online_agent_of_the_tier(start):
    # Cap 0: nobody is assigned, so the P1 stays with nobody on it.
    client = await start(max_concurrent=0, deadline_alert_minutes=90, **FAST)
    anna, tom, sara = [await login(client, name) for name in ("anna", "tom", "sara")]
    anna_ws, tom_ws = await console(client, anna, "online"), await console(client, tom, "online")
    sara_ws = await console(client, sara)  # away: not alerted
    await intake(client, "c-p1", priority="P1", prioritized=True)
    await intake(client, "c-p3", priority="P3", prioritized=True)  # 24 h: not near
    for ws in (anna_ws, tom_ws):
        alert = await receive(ws, "deadline_alert")
        assert (alert["conversation_id"], alert["priority"], alert["queue"]) == ("c-p1", "P1", "tier1")
        assert 55 < alert["minutes_left"] <= 60
    assert await no_frame(sara_ws, "deadline_alert")
    assert await no_frame(anna_ws, "deadline_alert")  # once
    for ws in (anna_ws, tom_ws, sara_ws):
        await ws.close()


# --- mine ---------------------------------------------------------------------------------------

async def test_mine_lists_the_agents_open_conversations_after_signing_in_again(client):
    await intake(client, "c-mine-1")
    await intake(client, "c-mine-2")
    anna = await login(client, "anna")
    assert (await client.post("/api/conversations/c-mine-2/claim", headers=anna)).status == 200
    again = await login(client, "anna")  # a new sign-in, no console open
    mine = await (await client.get("/api/conversations?mine=true", headers=again)).json()
    assert [(c["id"], c["status"], c["agent"]) for c in mine] == [("c-mine-2", "claimed", "anna")]
    tom = await login(client, "tom")
    assert await (await client.get("/api/conversations?mine=true", headers=tom)).json() == []
    assert (await client.get("/api/conversations", headers=tom)).status == 400
    assert (await client.get("/api/conversations?mine=true")).status == 401
    await client.post("/api/conversations/c-mine-2/resolve", headers=anna)
    assert await (await client.get("/api/conversations?mine=true", headers=anna)).json() == []


# --- the waiting user ----------------------------------------------------------------------------

async def test_the_waiting_user_sees_the_queue_move_and_keeps_place_and_agent_across_reload(start):
    client = await start()
    await intake(client, "c-ahead", priority="P1", prioritized=True)
    user, welcome = await hello(client, token=identity(), locale="en")
    conversation_id = welcome["conversation_id"]
    await intake(client, conversation_id, language="en")
    moved = await receive(user, "queue")
    assert (moved["position"], moved["estimated_wait_minutes"]) == (2, 8)
    anna = await login(client, "anna")
    await client.post("/api/conversations/c-ahead/claim", headers=anna)
    moved = await receive(user, "queue")
    assert (moved["queue"], moved["position"], moved["estimated_wait_minutes"]) == ("tier1", 1, 4)
    await user.close()

    user, welcome = await hello(client, token=identity(), conversation_id=conversation_id, locale="en")
    assert (welcome["status"], welcome["position"], welcome["estimated_wait_minutes"]) == ("waiting", 1, 4)
    await client.post(f"/api/conversations/{conversation_id}/claim", headers=anna)
    assert (await receive(user, "mode"))["agent"] == "Anna (Tier 1)"
    await user.close()
    user, welcome = await hello(client, token=identity(), conversation_id=conversation_id, locale="en")
    assert (welcome["status"], welcome["agent"]) == ("claimed", "Anna (Tier 1)")
    assert "position" not in welcome
    await user.close()


async def test_messages_while_waiting_are_acknowledged_once_and_kept_for_the_agent(client, fake_rasa):
    user, welcome = await hello(client, token=identity(), locale="de")
    conversation_id = welcome["conversation_id"]
    await intake(client, conversation_id)
    rasa_calls = len(fake_rasa.received)
    await user.send_json({"type": "message", "text": "Sind Sie da?", "client_id": "m1"})
    await user.send_json({"type": "message", "text": "Es ist dringend.", "client_id": "m2"})
    acknowledged = await receive(user, "message")
    while "hinzugefügt" not in acknowledged["text"]:
        acknowledged = await receive(user, "message")
    assert acknowledged["from"] == "system" and "Ihre Nachricht" in acknowledged["text"]
    anna = await login(client, "anna")
    transcript = (await conversation(client, anna, conversation_id))["transcript"]
    said = [m["text"] for m in transcript if m["from"] == "user"]
    assert said == ["hilfe", "Sind Sie da?", "Es ist dringend."]  # the intake's transcript first
    assert sum("hinzugefügt" in m["text"] for m in transcript if m["from"] == "system") == 1
    assert len(fake_rasa.received) == rasa_calls
    await user.close()


async def test_nobody_online_comes_after_the_queued_marker_with_ticket_or_wait(client):
    user, _ = await hello(client, token=identity(), locale="en")
    await user.send_json({"type": "message", "text": "I want an agent"})
    frames = []
    while len(frames) < 3:
        frame = await receive(user)
        if frame["type"] in ("message", "handoff"):
            frames.append(frame)
    assert frames[0]["text"] == "I'm handing you over to an agent."
    assert frames[1]["type"] == "handoff" and frames[1]["status"] == "queued"
    assert "no agent is online" in frames[2]["text"]
    assert [b["title"] for b in frames[2]["buttons"]] == ["Open a ticket", "Keep waiting"]
    await user.send_json({"type": "message", "text": "/stay_in_queue"})
    stay = await receive(user, "message")
    assert stay["text"] == "Sure, you stay in the queue (number 1)."
    await user.close()


async def test_priority_correction_and_leaving_the_queue_are_acted_on_while_waiting(client, fake_rasa):
    await intake(client, "c-other", priority="P2", prioritized=True)
    user, welcome = await hello(client, token=identity(), locale="en")
    conversation_id = welcome["conversation_id"]
    await intake(client, conversation_id, language="en", priority="P3", prioritized=True)
    rasa_calls = len(fake_rasa.received)
    anna = await login(client, "anna")
    assert (await conversation(client, anna, conversation_id))["position"] == 2

    await user.send_json({"type": "message", "text": '/set_priority{"problem_priority":"P1"}'})
    said = await receive(user, "message")
    while "priority" not in said["text"]:
        said = await receive(user, "message")
    assert said["text"] == "The priority of your request is now P1. You are number 1 in the queue."
    detail = await conversation(client, anna, conversation_id)
    assert (detail["priority"], detail["position"]) == ("P1", 1)
    assert detail["sla"]["first_response_due"] < (await conversation(client, anna, "c-other"))["sla"]["first_response_due"]
    for bad in ('/set_priority{"problem_priority":"P9"}', "/set_priority{oops"):
        await user.send_json({"type": "message", "text": bad})  # no level: a message for the agent
    await asyncio.sleep(0.2)
    assert (await conversation(client, anna, conversation_id))["priority"] == "P1"

    await user.send_json({"type": "message", "text": "/leave_queue"})
    left = await receive(user, "message")
    while "left the queue" not in left["text"]:
        left = await receive(user, "message")
    assert [b["payload"] for b in left["buttons"]] == ['/open_ticket{"ticket_start":"here"}']
    assert (await receive(user, "mode"))["mode"] == "bot"
    assert len(fake_rasa.received) == rasa_calls  # none of it went to the bot
    assert (await conversation(client, anna, conversation_id))["status"] == "bot"
    assert conversation_id in [sender for sender, _ in fake_rasa.events]  # agent_handled
    assert [c["id"] for c in await (await client.get("/api/queue", headers=anna)).json()] == ["c-other"]
    await user.send_json({"type": "message", "text": "hello again"})
    assert (await receive(user, "message"))["text"] == "bot: hello again"
    await user.close()


async def test_the_ticket_offer_while_waiting_leaves_the_queue_and_starts_the_bots_ticket_form(client, fake_rasa):
    user, welcome = await hello(client, token=identity(), locale="en")
    conversation_id = welcome["conversation_id"]
    await intake(client, conversation_id, language="en")
    await user.send_json({"type": "message", "text": '/open_ticket{"ticket_start":"here"}'})
    answer = await receive(user, "message")
    while answer["from"] != "bot":
        answer = await receive(user, "message")
    assert answer["text"] == 'bot: /open_ticket{"ticket_start":"here"}'
    assert fake_rasa.received[-1]["message"] == '/open_ticket{"ticket_start":"here"}'
    # Rasa learnt that the agent part is over before the payload reached it.
    assert conversation_id in [sender for sender, _ in fake_rasa.events]
    anna = await login(client, "anna")
    assert (await conversation(client, anna, conversation_id))["status"] == "bot"
    await user.close()


def test_the_queue_payloads_are_the_bots():
    from actions.escalation import LEAVE_QUEUE_PAYLOAD, OFFER_PAYLOADS, priority_payload
    from handoff import waiting

    assert waiting.LEAVE_QUEUE == LEAVE_QUEUE_PAYLOAD and waiting.TICKET == OFFER_PAYLOADS["ticket"]
    assert waiting._priority_of(priority_payload("P2")) == "P2"


# --- typing ---------------------------------------------------------------------------------------

async def test_typing_both_ways(client):
    user, welcome = await hello(client, token=identity(), locale="en")
    conversation_id = welcome["conversation_id"]
    await intake(client, conversation_id, language="en")
    anna, tom = await login(client, "anna"), await login(client, "tom")
    anna_ws, tom_ws = await console(client, anna), await console(client, tom)
    waiting_typing = await client.post(f"/api/conversations/{conversation_id}/typing", headers=anna)
    assert waiting_typing.status == 409
    await user.send_json({"type": "typing"})  # nobody owns it yet: dropped
    assert await no_frame(anna_ws, "typing", 0.3)

    await client.post(f"/api/conversations/{conversation_id}/claim", headers=anna)
    await asyncio.sleep(1.0)  # the widget's typing frames pass at most once a second
    await user.send_json({"type": "typing"})
    assert (await receive(anna_ws, "typing"))["conversation_id"] == conversation_id
    assert await no_frame(tom_ws, "typing", 0.3)  # only the owner
    response = await client.post(f"/api/conversations/{conversation_id}/typing", headers=anna)
    assert response.status == 200 and (await response.json())["delivered"] == 1
    frame = await receive(user, "typing")
    assert frame["from"] == "agent" and frame["agent"] == "Anna (Tier 1)"
    other = await client.post(f"/api/conversations/{conversation_id}/typing", headers=tom)
    assert other.status == 403 and (await other.json())["error"]["code"] == "not_owner"
    assert (await client.post("/api/conversations/nope/typing", headers=anna)).status == 404
    for ws in (user, anna_ws, tom_ws):
        await ws.close()
