"""Fixtures of the live-agent service tests: a real database per test (SQLite and PostgreSQL,
see `tests/conftest.py`), migrated with the service's own Alembic migrations, with the demo
agents, and a fake Rasa (a small real aiohttp app on a test server standing in for the external
Rasa server)."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import aiohttp
import pytest
import yaml
from aiohttp import web

from bot.identity import mint_token
from bot.settings import from_environment
from handoff import repository
from handoff.app import create_app
from handoff.config import HandoffConfig
from handoff.db import Database, make_engine
from handoff.migrate import upgrade

SERVICE_TOKEN = "test-service-token"
HTTP = web.AppKey("http", aiohttp.ClientSession)
IDENTITY_SECRET = "test-identity-secret-of-32-bytes-or-more"
DEMO = Path(__file__).resolve().parents[2] / "handoff" / "demo.yml"



@dataclass
class FakeRasa:
    """Canned REST replies; records what it was sent, which tracker events it got, and keeps a
    tracker per sender (user events with their metadata, bot events) as Rasa's tracker API shows."""

    received: list[dict[str, Any]] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    handoff_url: str = ""
    down: bool = False
    event_tokens: list[str] = field(default_factory=list)
    trackers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    delay: float = 0.0  # seconds before each REST answer: a slow Rasa

    async def webhook(self, request: web.Request) -> web.Response:
        if self.down:
            return web.Response(status=503)
        body = await request.json()
        self.received.append(body)
        await asyncio.sleep(self.delay)
        replies = await self.replies(request, body)
        # Like Rasa's tracker: the user event with its metadata, then the bot's messages.
        events = self.trackers.setdefault(body["sender"], [])
        events.append({"event": "user", "text": body["message"], "metadata": body.get("metadata") or {}})
        for reply in replies:
            data = {key: reply[key] for key in ("buttons", "custom") if key in reply}
            events.append({"event": "bot", "text": reply.get("text"), "data": data})
        return web.json_response(replies)

    async def tracker(self, request: web.Request) -> web.Response:
        if self.down:
            return web.Response(status=503)
        sender = request.match_info["sender"]
        return web.json_response({"sender_id": sender, "events": self.trackers.get(sender, [])})

    async def replies(self, request: web.Request, body: dict[str, Any]) -> list[dict[str, Any]]:
        text = body["message"].lower()
        sender = body["sender"]
        if "agent" in text or "mitarbeiter" in text:
            # Like the escalation action: queue through the intake, then answer with the marker.
            async with request.app[HTTP].post(
                f"{self.handoff_url}/internal/intake",
                json={
                    "conversation_id": sender, "user_id": "u-biz-admin", "language": "en",
                    "queue": "tier1", "priority": "P3", "prioritized": False,
                    "summary": "recordings missing", "account": {"id": "acc-business", "name": "Brandt Logistik GmbH"},
                    "transcript": [],
                },
                headers={"Authorization": f"Bearer {SERVICE_TOKEN}"},
            ) as response:
                queued = await response.json()
            return [
                {"recipient_id": sender, "text": "I'm handing you over to an agent."},
                {"recipient_id": sender, "custom": {"handoff": {
                    "status": "queued", "conversation_id": sender, "queue": queued["queue"],
                    "priority": queued["priority"], "prioritized": queued["prioritized"],
                    "position": queued["position"]}}},
            ]
        if "premier" in text:
            # The marker without a prior intake: the gateway queues it itself.
            return [
                {"recipient_id": sender, "text": "Queued.", "custom": {"handoff": {
                    "status": "queued", "conversation_id": sender, "queue": "tier2",
                    "priority": "P1", "prioritized": True, "position": 1}}},
            ]
        if "options" in text:
            return [{"recipient_id": sender, "text": "Pick one:", "buttons": [
                {"title": "Phone", "payload": "/ask_phone"}, {"title": "Plans", "payload": "/ask_plan"}]}]
        return [{"recipient_id": sender, "text": f"bot: {body['message']}"}]

    async def tracker_events(self, request: web.Request) -> web.Response:
        if self.down:
            return web.Response(status=503)
        self.event_tokens.append(request.query.get("token", ""))
        self.events.append((request.match_info["sender"], await request.json()))
        return web.json_response({"sender_id": request.match_info["sender"]})

    async def hello(self, request: web.Request) -> web.Response:
        if self.down:
            return web.Response(status=503)
        return web.Response(text="Hello from Rasa: 3.6.21")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/", self.hello)
        app.router.add_post("/webhooks/rest/webhook", self.webhook)
        app.router.add_post("/conversations/{sender}/tracker/events", self.tracker_events)
        app.router.add_get("/conversations/{sender}/tracker", self.tracker)

        async def http_ctx(app: web.Application):
            async with aiohttp.ClientSession() as session:
                app[HTTP] = session
                yield

        app.cleanup_ctx.append(http_ctx)
        return app


def migrate_and_seed_agents(url: str) -> None:
    """The service's migrations and the demo agents (argon2 is slow on purpose: done once)."""
    upgrade(url)
    agents = yaml.safe_load(DEMO.read_text(encoding="utf-8"))["agents"]
    database = Database(make_engine(url), threads=1)
    try:
        database.write_sync(repository.seed_agents, agents)
    finally:
        database.close()


@pytest.fixture
def database_url(make_database, request: pytest.FixtureRequest) -> str:
    """A fresh database for the test, on SQLite and on PostgreSQL (see `--database`); with the
    demo accounts too when the test asks for `with_accounts`."""
    if "with_accounts" in request.fixturenames:
        return make_database("handoff_accounts", migrate_and_seed_agents_and_accounts)
    return make_database("handoff", migrate_and_seed_agents)


@pytest.fixture
async def fake_rasa(aiohttp_server) -> FakeRasa:
    rasa = FakeRasa()
    rasa.server = await aiohttp_server(rasa.app())
    return rasa


@pytest.fixture
def make_config(database_url: str, fake_rasa: FakeRasa, tmp_path: Path) -> Callable[..., HandoffConfig]:
    def make(**overrides: Any) -> HandoffConfig:
        env = {
            "DATABASE_URL": database_url,
            "RASA_URL": str(fake_rasa.server.make_url("")).rstrip("/"),
            "HANDOFF_SERVICE_TOKEN": SERVICE_TOKEN,
            "BOT_IDENTITY_SECRET": IDENTITY_SECRET,
            "HANDOFF_INSTANCE": "test-instance",
            **overrides.pop("env", {}),
        }
        return HandoffConfig(settings=from_environment(env), **overrides)

    return make


@pytest.fixture
async def start(aiohttp_client, make_config, fake_rasa):
    """start(**config overrides) -> a test client of a fresh app on the same database."""

    async def start_app(**overrides: Any):
        client = await aiohttp_client(create_app(make_config(**overrides)))
        fake_rasa.handoff_url = str(client.make_url("")).rstrip("/")
        return client

    return start_app


@pytest.fixture
async def client(start):
    return await start()


async def login(client, username: str = "anna", password: str | None = None) -> dict[str, str]:
    response = await client.post(
        "/api/agents/login", json={"username": username, "password": password or f"{username}-demo-pass"}
    )
    assert response.status == 200, await response.text()
    return {"Authorization": f"Bearer {(await response.json())['token']}"}


def identity(user_id: str = "u-biz-admin") -> str:
    return mint_token(user_id, IDENTITY_SECRET)


async def receive(ws, kind: str | None = None, timeout: float = 5.0) -> dict[str, Any]:
    """The next frame (of `kind`, skipping others)."""
    while True:
        frame = await asyncio.wait_for(ws.receive_json(), timeout)
        if kind is None or frame["type"] == kind:
            return frame


async def closed_with(ws, timeout: float = 5.0) -> int | None:
    """The code of the close frame the server sends next (frames before it are skipped)."""
    while True:
        msg = await asyncio.wait_for(ws.receive(), timeout)
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
            code = msg.data if msg.type == aiohttp.WSMsgType.CLOSE else ws.close_code
            await ws.close()  # the client's side of the connection too
            return code


async def hello(client, **fields: Any):
    ws = await client.ws_connect("/ws/chat")
    await ws.send_json({"type": "hello", **fields})
    welcome = await receive(ws, "welcome")
    return ws, welcome


async def chat(ws, text: str, answer: str | None = "message") -> dict[str, Any]:
    """The user says `text`; the next frame of kind `answer` (`handoff` after "agent please";
    None: the next frame, whatever it is)."""
    await ws.send_json({"type": "message", "text": text})
    return await receive(ws, answer)


async def intake(client, conversation_id: str, **fields: Any):
    body = {"conversation_id": conversation_id, "queue": "tier1", "priority": "P3", "prioritized": False,
            "language": "de", "account": {"id": "acc-business"}, "transcript": [
                {"from": "user", "text": "hilfe", "at": "2026-11-25T18:00:00+00:00"}], **fields}
    return await client.post("/internal/intake", json=body, headers={"Authorization": f"Bearer {SERVICE_TOKEN}"})


# The integrations' real parts (webhook receiver, SMTP server, accounts data), kept in a module
# of their own; imported here so that every test module of the service can ask for them.
from tests.handoff.integrations_fixtures import (  # noqa: E402,F401
    migrate_and_seed_agents_and_accounts, receiver, smtp_server, with_accounts,
)
