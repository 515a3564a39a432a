"""Two live-agent instances on one PostgreSQL database and one Redis: whatever one instance
does reaches the sockets of the other, limits are one limit, background work happens once.

Real PostgreSQL and Redis servers (tests/servers.py through the fixtures of tests/conftest.py),
two real apps on test servers, the fake Rasa of conftest.py standing in for the Rasa servers."""
from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
import time
from typing import Any, Iterator

import pytest
import yaml
from sqlalchemy import select

from bot.settings import ROOT, from_environment
from handoff import assignment, background, repository
from handoff.app import create_app
from handoff.config import HandoffConfig
from handoff.db import Database, make_engine
from handoff.migrate import upgrade
from handoff.models import Agent, AgentAction
from handoff.state import DATABASE
from tests.handoff.conftest import DEMO, IDENTITY_SECRET, SERVICE_TOKEN, closed_with, hello, identity, intake, login, receive
from scripts.runtime import start_process
from tests.servers import PostgresServer, RedisServer


@pytest.fixture(scope="module")
def template(postgres_server: PostgresServer) -> str:
    """A migrated database with the demo agents, copied for each test (argon2 is slow)."""
    url = postgres_server.create_database("instances_template")
    upgrade(url)
    database = Database(make_engine(url), threads=1)
    try:
        database.write_sync(repository.seed_agents, yaml.safe_load(DEMO.read_text(encoding="utf-8"))["agents"])
    finally:
        database.close()
    return "instances_template"


@pytest.fixture
def shared_database(postgres_server: PostgresServer, template: str) -> Iterator[str]:
    name = f"instances_{os.urandom(4).hex()}"
    url = postgres_server.create_database(name, template=template)
    yield url
    postgres_server.drop_database(name)


@pytest.fixture
async def two_instances(aiohttp_client, fake_rasa, shared_database, redis_url):
    """start(**overrides) -> (A, B): two apps on the same PostgreSQL database and Redis."""

    async def start(**overrides: Any):
        clients = []
        for name in ("instance-a", "instance-b"):
            env = {
                "DATABASE_URL": shared_database, "REDIS_URL": redis_url,
                "RASA_URL": str(fake_rasa.server.make_url("")).rstrip("/"),
                "HANDOFF_SERVICE_TOKEN": SERVICE_TOKEN, "BOT_IDENTITY_SECRET": IDENTITY_SECRET,
                "HANDOFF_INSTANCE": name,
            }
            config = HandoffConfig(settings=from_environment(env), sla_check_seconds=3600,
                                   relay_retry_seconds=3600, **overrides)
            clients.append(await aiohttp_client(create_app(config)))
        fake_rasa.handoff_url = str(clients[0].make_url("")).rstrip("/")  # the bot's intake goes to A
        return clients

    return start


async def agent_socket(client, headers):
    ws = await client.ws_connect("/ws/agent")
    await ws.send_json({"type": "auth", "token": headers["Authorization"].split()[1]})
    await receive(ws, "ready")
    return ws


async def test_health_names_the_instance_and_the_shared_parts(two_instances):
    a, b = await two_instances()
    for client, name in ((a, "instance-a"), (b, "instance-b")):
        body = await (await client.get("/health")).json()
        assert (body["status"], body["instance"], body["database"], body["bus"], body["rasa"]) == (
            "ok", name, "postgresql", "redis", True)


async def test_an_escalation_on_one_instance_reaches_an_agent_on_the_other(two_instances):
    a, b = await two_instances()
    anna = await login(b, "anna")
    console = await agent_socket(b, anna)
    user, welcome = await hello(a, token=identity(), locale="en")
    await user.send_json({"type": "message", "text": "agent please"})
    assert (await receive(user, "handoff"))["status"] == "queued"
    pushed = await receive(console, "escalation")
    assert pushed["conversation"]["id"] == welcome["conversation_id"]
    await user.close()
    await console.close()


async def test_claim_messages_both_ways_and_hand_back_across_instances(two_instances, fake_rasa):
    a, b = await two_instances()
    anna = await login(b, "anna")
    console = await agent_socket(b, anna)
    user, welcome = await hello(a, token=identity(), locale="en")
    conversation_id = welcome["conversation_id"]
    await user.send_json({"type": "message", "text": "agent please"})
    await receive(user, "handoff")
    await receive(console, "escalation")

    assert (await b.post(f"/api/conversations/{conversation_id}/claim", headers=anna)).status == 200
    assert (await receive(user, "mode"))["mode"] == "agent"
    sent = await b.post(f"/api/conversations/{conversation_id}/messages", headers=anna, json={"text": "Anna here"})
    assert (await sent.json())["delivered"] == 1  # one instance (A) holds the user's socket
    said = await receive(user, "message")
    while said["from"] == "system":  # the service's notes (nobody was online when queued)
        said = await receive(user, "message")
    assert said["text"] == "Anna here"
    await user.send_json({"type": "message", "text": "thanks, still broken"})
    assert (await receive(console, "user_message"))["message"]["text"] == "thanks, still broken"

    released = await b.post(f"/api/conversations/{conversation_id}/release", headers=anna)
    assert (await released.json())["tracker_event_delivered"] is True
    assert (await receive(user, "mode"))["mode"] == "bot"
    await user.send_json({"type": "message", "text": "hello again"})
    assert (await receive(user, "message"))["text"] == "bot: hello again"
    assert [sender for sender, _ in fake_rasa.events] == [conversation_id]  # agent_handled, once

    transcript = (await (await a.get(f"/api/conversations/{conversation_id}", headers=anna)).json())["transcript"]
    said = [m["text"] for m in transcript if m["from"] == "user"]
    assert said == ["agent please", "thanks, still broken", "hello again"]
    await user.close()
    await console.close()


async def test_the_sender_limit_is_one_limit_across_instances(two_instances):
    a, b = await two_instances(sender_burst=15, sender_rate=0.01)
    first, welcome = await hello(a, locale="en")
    second, _ = await hello(b, conversation_id=welcome["conversation_id"], locale="en")
    await receive(second, "history")
    limited = 0
    for n in range(20):
        socket = first if n % 2 == 0 else second
        await socket.send_json({"type": "message", "text": f"message {n}"})
        while True:
            frame = await receive(socket)
            if frame["type"] == "error":
                assert frame["code"] == "rate_limited"
                limited += 1
                break
            if frame["type"] == "message" and frame["text"] == f"bot: message {n}":
                break
    assert limited == 5  # 15 went through in all, not 15 per instance
    await first.close()
    await second.close()


async def test_messages_of_one_conversation_on_both_instances_reach_rasa_in_order_once(two_instances, fake_rasa):
    a, b = await two_instances(sender_burst=100, connection_burst=100)
    first, welcome = await hello(a, locale="en")
    second, _ = await hello(b, conversation_id=welcome["conversation_id"], locale="en")
    await receive(second, "history")
    texts = [f"turn {n}" for n in range(12)]
    await asyncio.gather(*(
        (first if n % 2 == 0 else second).send_json({"type": "message", "text": text, "client_id": f"c{n}"})
        for n, text in enumerate(texts)
    ))
    answers = set()
    while len(answers) < len(texts):
        frame = await receive(first, "message", timeout=15)
        answers.add(frame["text"])
    sent = [m["message"] for m in fake_rasa.received]
    assert sorted(sent) == sorted(texts) and len(sent) == len(texts)
    anna = await login(a, "anna")
    transcript = (await (await a.get(f"/api/conversations/{welcome['conversation_id']}", headers=anna)).json())["transcript"]
    stored = [m["text"] for m in transcript if m["from"] == "user"]
    assert sent == stored  # Rasa got them in the order they were stored, each once
    await first.close()
    await second.close()


async def test_sla_warnings_go_out_once_however_many_instances_look(two_instances):
    a, b = await two_instances(sla_warning_minutes=24 * 60)
    anna = await login(a, "anna")
    console = await agent_socket(a, anna)
    assert (await intake(b, "sla-conversation", priority="P1", prioritized=True)).status == 200
    await receive(console, "escalation")
    counts = await asyncio.gather(*(background.sla_round(client.app) for client in (a, b, a, b)))
    assert sum(counts) == 2  # first response and restoration, each once in all
    kinds = [(await receive(console, "sla_warning"))["deadline"] for _ in range(2)]
    assert sorted(kinds) == ["first_response", "restoration"]
    with pytest.raises(asyncio.TimeoutError):
        await receive(console, "sla_warning", timeout=1)
    await console.close()


async def test_agent_handled_is_posted_once_when_every_instance_retries(two_instances, fake_rasa):
    a, b = await two_instances()
    anna = await login(a, "anna")
    await intake(a, "handled-conversation")
    await a.post("/api/conversations/handled-conversation/claim", headers=anna)
    fake_rasa.down = True
    released = await b.post("/api/conversations/handled-conversation/release", headers=anna)
    assert (await released.json())["tracker_event_delivered"] is False
    fake_rasa.down = False
    await asyncio.gather(*(background.retry_round(client.app) for client in (a, b, a, b)))
    assert [sender for sender, _ in fake_rasa.events] == ["handled-conversation"]
    state = await a.app[DATABASE].read(repository.conversation_state, "handled-conversation")
    assert state["tracker_event_pending"] is False


# redis-py 4.6 drops the connection of a server that died without closing its StreamWriter; the
# warning surfaces when the garbage collector finds it, in this test or the next one.
@pytest.mark.filterwarnings("ignore:unclosed <StreamWriter:ResourceWarning",
                            "ignore:Exception ignored in. <function StreamWriter.__del__:pytest.PytestUnraisableExceptionWarning")
async def test_pushes_stay_local_when_redis_is_gone(two_instances, redis_server):
    """Redis down: an instance still serves its own sockets; /health says degraded."""
    a, _ = await two_instances()
    user, _ = await hello(a, locale="en")
    redis_server.process.kill()
    redis_server.process.wait()
    try:
        await user.send_json({"type": "message", "text": "still there?"})
        assert (await receive(user, "message", timeout=15))["text"] == "bot: still there?"
        health = await a.get("/health")
        assert health.status == 200 and (await health.json())["status"] == "degraded"
    finally:
        await user.close()
        restart_redis(redis_server)
        gc.collect()  # here, under this test's filter, not in whichever test runs next


def restart_redis(server: RedisServer) -> None:
    """The same server again, on its port (the next tests use it)."""
    import redis

    server.process = start_process(
        ["redis-server", "--port", str(server.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(server.directory)], server.directory / "redis.log", cwd=server.directory)
    for _ in range(200):
        try:
            if server.client().ping():
                return
        except (redis.RedisError, OSError):
            time.sleep(0.05)
    raise RuntimeError("redis-server did not come back")


def test_services_starting_together_on_an_empty_database_migrate_once(postgres_server: PostgresServer):
    """Three services migrating and seeding an empty PostgreSQL at once: no UniqueViolation."""
    name = f"empty_{os.urandom(4).hex()}"
    url = postgres_server.create_database(name)
    env = dict(os.environ, DATABASE_URL=url, PYTHONPATH=str(ROOT))
    script = ("from bot.accounts.migrations import upgrade as a; from handoff.migrate import upgrade as h; "
              "from handoff.__main__ import main; import os; u = os.environ['DATABASE_URL']; "
              "a(u); h(u); main(['seed'])")
    processes = [subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(3)]
    try:
        outputs = [p.communicate(timeout=180)[0].decode() for p in processes]
        assert [p.returncode for p in processes] == [0, 0, 0], "\n".join(outputs)
        database = Database(make_engine(url), threads=1)
        try:
            agents = database.read_sync(lambda session: session.scalars(select(Agent.username)).all())
        finally:
            database.close()
        assert sorted(agents) == sorted(a["username"] for a in yaml.safe_load(DEMO.read_text())["agents"])
    finally:
        postgres_server.drop_database(name)


async def test_the_sign_in_throttle_is_one_limit_across_instances(two_instances):
    a, b = await two_instances()
    wrong = {"username": "anna", "password": "wrong"}
    statuses = [(await (a if n % 2 else b).post("/api/agents/login", json=wrong)).status for n in range(20)]
    assert statuses == [401] * 20
    for client in (a, b):
        refused = await client.post("/api/agents/login", json={"username": "anna", "password": "anna-demo-pass"})
        assert refused.status == 429 and 30 <= int(refused.headers["Retry-After"]) <= 60


# The server's close frame (4401, checked) can race the client's reply on the test client's side,
# which then leaves its half of the connection for the garbage collector.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_a_sign_out_on_one_instance_holds_on_the_other_and_closes_its_console(two_instances):
    a, b = await two_instances()
    anna = await login(a, "anna")
    console = await agent_socket(b, anna)
    assert (await a.post("/api/agents/logout", headers=anna)).status == 204
    assert (await b.get("/api/queue", headers=anna)).status == 401
    assert (await receive(console, "session_ended"))["type"] == "session_ended"
    assert await closed_with(console) == 4401


async def test_a_disable_on_one_instance_closes_the_agents_consoles_on_the_other(two_instances):
    a, b = await two_instances()
    sara, anna = await login(a, "sara"), await login(b, "anna")
    console = await agent_socket(b, anna)
    assert (await a.post("/api/agents/anna/disable", headers=sara)).status == 200
    assert (await receive(console, "session_ended"))["type"] == "session_ended"
    assert await closed_with(console) == 4401
    assert (await b.get("/api/agents/me", headers=anna)).status == 401

# --- presence and assignment across instances (CONTRACT.md, operations surface) --------------

PRESENCE_FAST = {"presence_heartbeat_seconds": 0.1, "presence_timeout_seconds": 0.4}



async def status_on(client, headers, username: str) -> str:
    listed = await (await client.get("/api/agents", headers=headers)).json()
    return next(a["status"] for a in listed if a["username"] == username)


async def test_presence_is_one_truth_and_an_escalation_on_one_instance_is_assigned_to_a_console_on_the_other(two_instances):
    a, b = await two_instances(**PRESENCE_FAST)
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
    a, b = await two_instances(reassign_after_seconds=0.5, assignment_check_seconds=3600, **PRESENCE_FAST)
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
