"""Presence and assignment with two live-agent instances on one PostgreSQL database and one
Redis: an agent's presence is the same on both, an escalation on one is assigned to an agent
whose console is on the other, and the periodic round (reassignment) happens once however many
instances run it. Real PostgreSQL and Redis (tests/servers.py), two real apps on test servers."""
from __future__ import annotations

import asyncio

from handoff import assignment
from handoff.models import AgentAction
from handoff.state import DATABASE
from tests.handoff.conftest import hello, identity, intake, login, receive
from tests.handoff.test_instances import agent_socket, shared_database, template, two_instances  # noqa: F401

FAST = {"presence_heartbeat_seconds": 0.1, "presence_timeout_seconds": 0.4}


async def status_on(client, headers, username: str) -> str:
    listed = await (await client.get("/api/agents", headers=headers)).json()
    return next(a["status"] for a in listed if a["username"] == username)


async def test_presence_is_one_truth_and_an_escalation_on_one_instance_is_assigned_to_a_console_on_the_other(two_instances):
    a, b = await two_instances(**FAST)
    anna = await login(a, "anna")
    console = await agent_socket(a, anna)
    assert await status_on(b, anna, "anna") == "away"
    assert (await b.put("/api/agents/me/status", json={"status": "online"}, headers=anna)).status == 200
    assert await status_on(a, anna, "anna") == "online"

    user, welcome = await hello(b, token=identity(), locale="en")
    conversation_id = welcome["conversation_id"]
    await user.send_json({"type": "message", "text": "agent please"})  # the bot's intake goes to A
    assert (await receive(user, "handoff"))["status"] == "queued"
    assert (await receive(console, "assigned"))["conversation_id"] == conversation_id
    mode = await receive(user, "mode")  # after the marker, on B's socket
    assert (mode["status"], mode["agent"]) == ("claimed", "Anna (Tier 1)")
    mine = await (await b.get("/api/conversations?mine=true", headers=anna)).json()
    assert [c["id"] for c in mine] == [conversation_id]

    # Typing crosses instances both ways.
    await asyncio.sleep(1.0)
    await user.send_json({"type": "typing"})
    assert (await receive(console, "typing"))["conversation_id"] == conversation_id
    assert (await (await a.post(f"/api/conversations/{conversation_id}/typing", headers=anna)).json())["delivered"] == 1
    assert (await receive(user, "typing"))["from"] == "agent"

    await console.close()
    for _ in range(50):  # A's socket is gone: after the timeout B sees her offline too
        if await status_on(b, anna, "anna") == "offline":
            break
        await asyncio.sleep(0.05)
    assert await status_on(b, anna, "anna") == "offline"
    await user.close()


async def test_reassignment_happens_once_however_many_instances_run_the_round(two_instances):
    a, b = await two_instances(reassign_after_seconds=0.5, assignment_check_seconds=3600, **FAST)
    anna = await login(a, "anna")
    console = await agent_socket(a, anna)
    await a.put("/api/agents/me/status", json={"status": "online"}, headers=anna)
    user, welcome = await hello(b, token=identity(), locale="en")
    conversation_id = welcome["conversation_id"]
    await intake(a, conversation_id, language="en")
    assert (await receive(console, "assigned"))["conversation_id"] == conversation_id
    await console.close()
    await asyncio.sleep(0.8)

    await asyncio.gather(*(assignment.periodic_round(client.app) for client in (a, b, a, b)))
    moved = await a.app[DATABASE].read(
        lambda session: session.query(AgentAction).filter_by(action="reassign", conversation_id=conversation_id).count()
    )
    assert moved == 1
    queue = await (await b.get("/api/queue", headers=anna)).json()
    assert [(c["id"], c["status"]) for c in queue] == [(conversation_id, "waiting")]
    transcript = (await (await b.get(f"/api/conversations/{conversation_id}", headers=anna)).json())["transcript"]
    assert sum("first in the queue" in m["text"] for m in transcript if m["from"] == "system") == 1
    await user.close()
