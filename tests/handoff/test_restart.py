"""A restart of the live-agent service in the middle of a conversation loses nothing."""
from __future__ import annotations

from handoff.app import create_app
from tests.handoff.conftest import chat, hello, identity, login, receive


async def test_restart_mid_conversation(aiohttp_client, make_config, fake_rasa):
    async def start():
        client = await aiohttp_client(create_app(make_config()))
        fake_rasa.handoff_url = str(client.make_url("")).rstrip("/")
        return client

    client = await start()
    anna = await login(client)
    ws, welcome = await hello(client, token=identity(), locale="en")
    conversation_id = welcome["conversation_id"]
    await chat(ws, "hello bot")
    await chat(ws, "agent please", "handoff")
    await client.post(f"/api/conversations/{conversation_id}/claim", headers=anna)
    await client.post(f"/api/conversations/{conversation_id}/messages", headers=anna, json={"text": "Anna here"})
    before = await (await client.get(f"/api/conversations/{conversation_id}", headers=anna)).json()

    await client.close()  # the service stops: sockets are closed by the server
    assert ws.closed or (await ws.receive()).type.name in ("CLOSE", "CLOSING", "CLOSED")

    client = await start()
    # The agent's token survives the restart (signed, not stored in memory).
    after = await (await client.get(f"/api/conversations/{conversation_id}", headers=anna)).json()
    assert after["transcript"] == before["transcript"]
    assert after["status"] == "claimed" and after["agent"] == "anna"

    ws, again = await hello(client, token=identity(), conversation_id=conversation_id, locale="en")
    assert again["resumed"] is True and again["conversation_id"] == conversation_id and again["mode"] == "agent"
    history = (await receive(ws, "history"))["messages"]
    assert [(m["from"], m["text"]) for m in history] == [(t["from"], t["text"]) for t in before["transcript"]]

    # The conversation carries on where it was: the agent still owns it, Rasa stays out.
    rasa_calls = len(fake_rasa.received)
    agent_ws = await client.ws_connect("/ws/agent")
    await agent_ws.send_json({"type": "auth", "token": anna["Authorization"].split()[1]})
    await receive(agent_ws, "ready")
    await ws.send_json({"type": "message", "text": "still there?"})
    assert (await receive(agent_ws, "user_message"))["message"]["text"] == "still there?"
    await client.post(f"/api/conversations/{conversation_id}/messages", headers=anna, json={"text": "yes"})
    assert (await receive(ws, "message"))["text"] == "yes"
    assert len(fake_rasa.received) == rasa_calls
    await ws.close()
    await agent_ws.close()
