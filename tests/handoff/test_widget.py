"""The widget protocol of CONTRACT.md over a real websocket, with a fake Rasa."""
from __future__ import annotations

import asyncio

from tests.handoff.conftest import chat, hello, identity, login, receive


async def test_hello_gives_a_new_conversation(client):
    ws, welcome = await hello(client, token=identity(), locale="en")
    assert welcome["conversation_id"] and welcome["resumed"] is False
    assert welcome["mode"] == "bot" and welcome["authenticated"] is True
    await ws.close()


async def test_bad_token_counts_as_anonymous(client):
    ws, welcome = await hello(client, token="not-a-jwt")
    assert welcome["authenticated"] is False
    await ws.close()


async def test_messages_go_to_rasa_with_metadata_and_replies_come_back(client, fake_rasa):
    token = identity()
    ws, welcome = await hello(client, token=token, locale="en")
    reply = await chat(ws, "show me the options")
    assert reply == {"type": "message", "from": "bot", "text": "Pick one:", "buttons": [
        {"title": "Phone", "payload": "/ask_phone"}, {"title": "Plans", "payload": "/ask_plan"}]}
    sent = fake_rasa.received[-1]
    assert sent["sender"] == welcome["conversation_id"]
    assert sent["message"] == "show me the options"
    # The service's id of the message goes along, so Rasa's tracker can show it was answered.
    assert sent["metadata"] == {"identity_token": token, "locale": "en", "bolt_message_id": sent["metadata"]["bolt_message_id"]}
    await ws.close()


async def test_escalation_relays_the_marker_and_switches_to_agent_mode(client, fake_rasa):
    agent = await login(client, "anna")
    agent_ws = await client.ws_connect("/ws/agent")
    await agent_ws.send_json({"type": "auth", "token": agent["Authorization"].split()[1]})
    assert (await receive(agent_ws, "ready"))["agent"]["username"] == "anna"

    ws, welcome = await hello(client, token=identity(), locale="en")
    conversation_id = welcome["conversation_id"]
    text = await chat(ws, "I want an agent")
    assert text["text"] == "I'm handing you over to an agent."
    marker = await receive(ws, "handoff")
    assert marker["status"] == "queued" and marker["queue"] == "tier1" and marker["position"] == 1
    assert marker["estimated_wait_minutes"] == 4
    # Anna's console is connected but she is away: nobody is online, so after the marker the
    # user is told so and may open a ticket or wait.
    note = await receive(ws, "message")
    assert note["from"] == "system" and "no agent is online" in note["text"]
    assert [b["payload"] for b in note["buttons"]] == ['/open_ticket{"ticket_start":"here"}', "/stay_in_queue"]

    pushed = await receive(agent_ws, "escalation")
    assert pushed["conversation"]["id"] == conversation_id

    queue = await (await client.get("/api/queue", headers=agent)).json()
    assert [c["id"] for c in queue] == [conversation_id]

    # From now on the user talks to the agents, never to Rasa.
    rasa_calls = len(fake_rasa.received)
    await ws.send_json({"type": "message", "text": "are you there?"})
    pushed = await receive(agent_ws, "user_message")
    assert pushed["conversation_id"] == conversation_id and pushed["message"]["text"] == "are you there?"
    assert len(fake_rasa.received) == rasa_calls
    acknowledged = await receive(ws, "message")
    assert acknowledged["from"] == "system" and "added for the agent" in acknowledged["text"]

    claim = await client.post(f"/api/conversations/{conversation_id}/claim", headers=agent)
    assert claim.status == 200
    joined = await receive(ws, "message")
    assert joined["from"] == "system" and "Anna" in joined["text"]
    assert (await receive(ws, "mode"))["mode"] == "agent"

    sent = await client.post(f"/api/conversations/{conversation_id}/messages", headers=agent,
                             json={"text": "Hi, I'm Anna. How can I help?"})
    assert sent.status == 200 and (await sent.json())["delivered"] == 1
    live = await receive(ws, "message")
    assert live["from"] == "agent" and live["text"] == "Hi, I'm Anna. How can I help?"

    await ws.send_json({"type": "message", "text": "recordings are gone"})
    assert (await receive(agent_ws, "user_message"))["message"]["text"] == "recordings are gone"
    assert len(fake_rasa.received) == rasa_calls

    released = await client.post(f"/api/conversations/{conversation_id}/release", headers=agent)
    assert released.status == 200 and (await released.json())["tracker_event_delivered"] is True
    assert fake_rasa.events == [(conversation_id, {"event": "slot", "name": "agent_handled", "value": True})]
    assert (await receive(ws, "mode"))["mode"] == "bot"

    assert (await chat(ws, "thanks"))["text"] == "bot: thanks"

    ws2, resumed = await hello(client, token=identity(), conversation_id=conversation_id)
    replay = (await receive(ws2, "history"))["messages"]
    from_agent = next(m for m in replay if m["from"] == "agent")
    assert from_agent["agent"] == "anna" and from_agent["agent_name"] == "Anna (Tier 1)"
    await ws2.close()

    detail = await (await client.get(f"/api/conversations/{conversation_id}", headers=agent)).json()
    said = [(t["from"], t["text"]) for t in detail["transcript"]]
    assert ("user", "I want an agent") in said
    assert ("bot", "I'm handing you over to an agent.") in said
    assert ("user", "are you there?") in said
    assert ("agent", "Hi, I'm Anna. How can I help?") in said
    assert ("bot", "bot: thanks") in said
    assert all(t["at"] for t in detail["transcript"])
    await ws.close()
    await agent_ws.close()


async def test_marker_without_intake_still_queues(client):
    ws, welcome = await hello(client, token=identity("u-premier-admin"))
    assert (await chat(ws, "premier help", "handoff"))["queue"] == "tier2"
    tom = await login(client, "tom")
    queue = await (await client.get("/api/queue", headers=tom)).json()
    assert [c["id"] for c in queue] == [welcome["conversation_id"]]
    assert queue[0]["prioritized"] is True and queue[0]["sla"]["first_response_due"]
    anna = await login(client, "anna")
    assert await (await client.get("/api/queue", headers=anna)).json() == []
    await ws.close()


async def test_rasa_down_keeps_the_message_and_answers_it_when_rasa_is_back(start, fake_rasa):
    client = await start(relay_retry_seconds=0.1)
    agent = await login(client)
    fake_rasa.down = True
    ws, welcome = await hello(client, locale="en")
    await ws.send_json({"type": "message", "text": "hello?", "client_id": "c-1"})
    assert await receive(ws, "ack") == {"type": "ack", "client_id": "c-1", "duplicate": False}
    notice = await receive(ws, "message")
    assert notice["from"] == "system" and "can't be reached" in notice["text"]
    assert "try again" not in notice["text"]  # the service retries, not the user
    ws_de, _ = await hello(client, locale="de")
    german = (await chat(ws_de, "hallo?"))["text"]
    assert "nicht erreichbar" in german and "Ihre Nachricht" in german

    fake_rasa.down = False
    answer = await receive(ws, "message", timeout=10)
    assert (answer["from"], answer["text"]) == ("bot", "bot: hello?")
    assert (await receive(ws_de, "message", timeout=10))["text"] == "bot: hallo?"
    detail = await (await client.get(f"/api/conversations/{welcome['conversation_id']}", headers=agent)).json()
    assert [(t["from"], t["text"]) for t in detail["transcript"]] == [
        ("user", "hello?"), ("system", notice["text"]), ("bot", "bot: hello?")]
    assert [m["message"] for m in fake_rasa.received].count("hello?") == 1
    await ws.close()
    await ws_de.close()


async def test_a_resend_with_the_same_client_id_is_processed_once(client, fake_rasa):
    ws, welcome = await hello(client, locale="en")
    await ws.send_json({"type": "message", "text": "first", "client_id": "m-1"})
    assert (await receive(ws, "ack"))["duplicate"] is False
    assert (await receive(ws, "message"))["text"] == "bot: first"
    await ws.close()
    # The socket died before the widget saw the ack: after reconnecting it sends again.
    again, resumed = await hello(client, conversation_id=welcome["conversation_id"], locale="en")
    history = (await receive(again, "history"))["messages"]
    assert [(m["from"], m["text"], m.get("client_id")) for m in history] == [
        ("user", "first", "m-1"), ("bot", "bot: first", None)]
    await again.send_json({"type": "message", "text": "first", "client_id": "m-1"})
    assert await receive(again, "ack") == {"type": "ack", "client_id": "m-1", "duplicate": True}
    await again.send_json({"type": "message", "text": "second", "client_id": "m-2"})
    assert (await receive(again, "message"))["text"] == "bot: second"
    assert [m["message"] for m in fake_rasa.received] == ["first", "second"]
    bad = {"type": "message", "text": "x", "client_id": 7}
    await again.send_json(bad)
    assert (await receive(again, "error"))["code"] == "invalid_client_id"
    await again.close()


async def test_a_message_whose_answer_was_lost_is_not_sent_to_rasa_again(start, fake_rasa):
    """Rasa answered, but the instance died before storing the answer: the retry finds the
    answer in Rasa's tracker instead of having the message processed a second time."""
    from handoff import claims
    from handoff.state import DATABASE

    client = await start(relay_retry_seconds=0.1)
    ws, welcome = await hello(client, locale="en")
    conversation_id = welcome["conversation_id"]
    stored, _, _ = await client.app[DATABASE].write(
        claims.store_user_message, conversation_id, "lost answer", None, {"locale": "en"})
    key = str(stored["id"])
    fake_rasa.trackers[conversation_id] = [
        {"event": "user", "text": "lost answer", "metadata": {"bolt_message_id": key}},
        {"event": "bot", "text": "the answer Rasa gave", "data": {}},
    ]
    reply = await receive(ws, "message", timeout=10)
    assert (reply["from"], reply["text"]) == ("bot", "the answer Rasa gave")
    assert fake_rasa.received == []
    await ws.close()


async def test_a_message_left_waiting_goes_to_rasa_before_the_next_one_each_once(start, fake_rasa):
    """The next message finds the conversation free and is stored and relayed under its lock
    (one transaction with the read of what is pending): the older one still goes first."""
    from handoff import claims
    from handoff.state import DATABASE

    client = await start(relay_retry_seconds=3600)  # the retry job stays out of it
    ws, welcome = await hello(client, locale="en")
    conversation_id = welcome["conversation_id"]
    await client.app[DATABASE].write(
        claims.store_user_message, conversation_id, "left waiting", None, {"locale": "en"})
    first = await chat(ws, "the next one")
    second = await receive(ws, "message")
    assert [first["text"], second["text"]] == ["bot: left waiting", "bot: the next one"]
    assert [body["message"] for body in fake_rasa.received] == ["left waiting", "the next one"]
    await ws.close()
    ws, welcome = await hello(client, locale="en", conversation_id=conversation_id)
    transcript = (await receive(ws, "history"))["messages"]
    assert [(m["from"], m["text"]) for m in transcript] == [
        ("user", "left waiting"), ("user", "the next one"),
        ("bot", "bot: left waiting"), ("bot", "bot: the next one")]
    await ws.close()


async def test_malformed_frames_get_errors_and_the_connection_stays_usable(client):
    ws = await client.ws_connect("/ws/chat")
    await ws.send_str("{not json")
    assert (await receive(ws))["code"] == "malformed"
    await ws.send_json(["a", "list"])
    assert (await receive(ws))["code"] == "malformed"
    assert (await chat(ws, "before hello", None))["code"] == "hello_required"
    await ws.send_json({"type": "dance"})
    assert (await receive(ws))["code"] == "unknown_type"
    await ws.send_bytes(b"\x00\x01")
    assert (await receive(ws))["code"] == "malformed"
    await ws.send_json({"type": "hello"})
    assert (await receive(ws))["type"] == "welcome"
    assert (await chat(ws, "", None))["code"] == "invalid_text"
    error = await chat(ws, "x" * 4097, None)
    assert error["type"] == "error" and error["code"] == "too_long" and "4096" in error["message"]
    assert (await chat(ws, "ü" * 2049, None))["code"] == "too_long"  # 4098 bytes of UTF-8
    assert (await chat(ws, "still here", None))["text"] == "bot: still here"
    await ws.close()


async def test_rate_limit_per_connection(start):
    client = await start(connection_burst=3, connection_rate=0.001)
    ws, _ = await hello(client)
    for i in range(3):
        assert (await chat(ws, f"m{i}", None))["text"] == f"bot: m{i}"
    assert (await chat(ws, "one too many", None))["code"] == "rate_limited"
    await ws.close()


async def test_rate_limit_per_sender_across_connections(start):
    client = await start(sender_burst=2, sender_rate=0.001)
    ws, welcome = await hello(client)
    for i in range(2):
        await chat(ws, f"m{i}")
    # A second connection on the same conversation shares the sender's budget.
    other, resumed = await hello(client, conversation_id=welcome["conversation_id"])
    assert resumed["resumed"] is True
    assert (await chat(other, "again", "error"))["code"] == "rate_limited"
    await ws.close()
    await other.close()


async def test_resume_sends_history(client):
    ws, welcome = await hello(client, token=identity())
    await chat(ws, "first")
    await ws.close()
    ws, again = await hello(client, token=identity(), conversation_id=welcome["conversation_id"])
    assert again["conversation_id"] == welcome["conversation_id"] and again["resumed"] is True
    history = await receive(ws, "history")
    assert [(m["from"], m["text"]) for m in history["messages"]] == [("user", "first"), ("bot", "bot: first")]
    await ws.close()


async def test_someone_elses_conversation_is_not_resumed(client):
    ws, welcome = await hello(client, token=identity("u-biz-admin"))
    await chat(ws, "secret stuff")
    other, theirs = await hello(client, token=identity("u-pro-owner"), conversation_id=welcome["conversation_id"])
    assert theirs["conversation_id"] != welcome["conversation_id"] and theirs["resumed"] is False
    await ws.close()
    await other.close()


async def test_secrets_are_redacted_in_the_transcript(client):
    agent = await login(client)
    ws, welcome = await hello(client)
    await chat(ws, "mein Passwort ist Sommer2024!")
    detail = await (await client.get(f"/api/conversations/{welcome['conversation_id']}", headers=agent)).json()
    assert "Sommer2024!" not in str(detail["transcript"])
    await ws.close()


async def test_two_tabs_both_get_agent_messages(client):
    agent = await login(client)
    ws1, welcome = await hello(client, token=identity())
    ws2, _ = await hello(client, token=identity(), conversation_id=welcome["conversation_id"])
    await chat(ws1, "agent please", "handoff")
    await client.post(f"/api/conversations/{welcome['conversation_id']}/claim", headers=agent)
    await client.post(f"/api/conversations/{welcome['conversation_id']}/messages", headers=agent, json={"text": "hi"})
    for ws in (ws1, ws2):
        frame = await receive(ws, "message")
        while frame["from"] != "agent":
            frame = await receive(ws, "message")
        assert frame["text"] == "hi"
    await asyncio.gather(ws1.close(), ws2.close())


async def test_waiting_users_learn_their_new_position(client):
    anna = await login(client)
    first, one = await hello(client, token=identity())
    second, two = await hello(client, token=identity("u-pro-owner"))
    for ws in (first, second):
        await chat(ws, "agent please", "handoff")
    await client.post(f"/api/conversations/{one['conversation_id']}/claim", headers=anna)
    update = await receive(second, "queue")
    while update["position"] != 1:
        update = await receive(second, "queue")
    assert update["estimated_wait_minutes"] == 4
    await first.close()
    await second.close()


async def test_the_socket_stays_alive_while_a_slow_rasa_answers(client, fake_rasa):
    """The heartbeat goes on during a relay: a client that pings every second and closes when a
    pong is late keeps its socket through a 3 s answer, and frames stay in order."""
    fake_rasa.delay = 3.0
    ws = await client.ws_connect("/ws/chat", heartbeat=1.0)
    await ws.send_json({"type": "hello", "locale": "en"})
    await receive(ws, "welcome")
    await ws.send_json({"type": "message", "text": "slow one"})
    await ws.send_json({"type": "ping"})
    assert (await receive(ws, "message", timeout=10))["text"] == "bot: slow one"
    assert (await receive(ws, timeout=5))["type"] == "pong"  # after the reply: frames in order
    assert not ws.closed
    await ws.close()
