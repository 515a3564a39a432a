"""Actions run against tracker JSON fixtures (`trackers/`), the real domain, a real database per
test (SQLite and PostgreSQL, see `tests/conftest.py`) and a real aiohttp server standing in for
the live-agent service's intake."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, Mapping

import pytest
from aiohttp import web
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.api import handoff
from bot.accounts.db import dispose_engines, session_scope
from bot.accounts.migrations import upgrade
from bot.accounts.seed import seed
from bot import users
from bot.identity import mint_token
from bot.levels import PRIORITY_LEVELS
from bot.settings import ROOT, get_settings
from scripts.runtime import free_port, start_process, stop_process, wait_until_answers

TRACKERS = Path(__file__).resolve().parent / "trackers"

# SPEC §2's expected outcome per demo user: (handoff status, queue, prioritized, reason).
DEMO_OUTCOMES = {
    "u-basic-owner": ("not_eligible", None, None, "free_account"),
    "u-pro-owner": ("queued", "tier1", False, None),
    "u-biz-admin": ("queued", "tier1", False, None),
    "u-biz-member": ("queued", "tier1", False, None),
    "u-biz-unlicensed": ("not_eligible", None, None, "unlicensed"),
    "u-edu-admin": ("queued", "tier1", False, None),
    "u-api-owner": ("queued", "tier1", False, None),
    "u-premier-member": ("queued", "tier1", True, None),
    "u-premier-admin": ("queued", "tier2", True, None),
    "u-plus-admin": ("queued", "tier2", True, None),
    "u-plus-member": ("queued", "tier1", True, None),
    None: ("login_required", None, None, None),
}


def migrate_and_seed_accounts(url: str) -> None:
    upgrade(url)
    with session_scope(url) as session:
        seed(session)
    dispose_engines()


@pytest.fixture
def accounts_db(make_database, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh database with the demo accounts (SQLite and PostgreSQL, see `--database`), used
    through the app settings."""
    url = make_database("accounts", migrate_and_seed_accounts)
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    users.clear_cache()
    yield url
    dispose_engines()
    users.clear_cache()
    get_settings.cache_clear()


@dataclass
class FakeLiveAgentService:
    """The intake and ticket endpoints of docs/internal-api.md, recording what they receive."""

    token: str
    intakes: list[dict[str, Any]] = field(default_factory=list)
    tickets: list[dict[str, Any]] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.token}"

    async def intake(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"error": "unauthorized"}, status=401)
        body = await request.json()
        self.intakes.append(body)
        if body["conversation_id"] not in self.waiting:
            self.waiting.append(body["conversation_id"])
        position = self.waiting.index(body["conversation_id"]) + 1
        return web.json_response({
            "conversation_id": body["conversation_id"], "status": "waiting", "queue": body["queue"],
            "priority": body["priority"], "prioritized": body["prioritized"], "position": position,
            "estimated_wait_minutes": 4 * position,
            "sla": {"first_response_due": None, "restoration_due": None},
        })

    async def ticket(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"error": "unauthorized"}, status=401)
        body = await request.json()
        repeat = any(t["ticket_id"] == body["ticket_id"] for t in self.tickets)
        if not repeat:
            self.tickets.append(body)
        return web.json_response({"ticket_id": body["ticket_id"], "status": "open"}, status=200 if repeat else 201)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/internal/intake", self.intake)
        app.router.add_post("/internal/tickets", self.ticket)
        return app


@pytest.fixture
async def live_agent(aiohttp_server, accounts_db):
    """A running stand-in for the live-agent service; the actions' client points at it."""
    service = FakeLiveAgentService(token=get_settings().service_token)
    server = await aiohttp_server(service.app())
    async with actions_client(str(server.make_url(""))):
        yield service


def start_action_server(log: Path, inherited: Mapping[str, str] = os.environ,
                        **env: str) -> tuple[subprocess.Popen, int]:
    """The real action server (`python -m actions`) on a free port, `env` over `inherited`; returns
    (process, port) once `/health` answers. Stop it with `scripts.runtime.stop_process`."""
    port = free_port()
    process = start_process([sys.executable, "-m", "actions"], log,
                            env=dict(inherited, PYTHONPATH=str(ROOT), ACTION_SERVER_PORT=str(port), **env))
    try:
        wait_until_answers(f"http://127.0.0.1:{port}/health", process, time.monotonic() + 120, log)
    except (RuntimeError, TimeoutError) as error:
        stop_process(process)
        pytest.fail(f"the action server did not start: {error}")
    return process, port


@asynccontextmanager
async def actions_client(url: str) -> AsyncIterator[handoff.HandoffClient]:
    """The actions' client of the live-agent service points at `url` while inside; on the way out
    its background work is awaited and it is closed."""
    client = handoff.HandoffClient(url, get_settings().service_token)
    handoff.set_client(client)
    try:
        yield client
    finally:
        await handoff.wait_for_background()
        await client.close()
        handoff.set_client(None)


@pytest.fixture
async def live_agent_down(accounts_db):
    """The live-agent service cannot be reached (nothing listens on the port)."""
    async with actions_client(f"http://127.0.0.1:{free_port()}") as client:
        yield client


def token_for(user_id: str | None) -> str:
    return mint_token(user_id, get_settings().identity_secret) if user_id else ""


def load_tracker(name: str, token: str = "", **placeholders: Any) -> Tracker:
    """A tracker from `trackers/<name>.json`; `$TOKEN` and `$<NAME>` placeholders filled in."""
    raw = (TRACKERS / f"{name}.json").read_text(encoding="utf-8")
    raw = raw.replace('"$TOKEN"', json.dumps(token))
    for key, value in placeholders.items():
        raw = raw.replace(f'"${key.upper()}"', json.dumps(value))
    state = json.loads(raw)
    users = [event for event in state["events"] if event["event"] == "user"]
    latest = users[-1] if users else {}
    state.setdefault("latest_message", {
        "text": latest.get("text"),
        "intent": (latest.get("parse_data") or {}).get("intent"),
        "entities": (latest.get("parse_data") or {}).get("entities", []),
        "metadata": latest.get("metadata") or {},
    })
    state.setdefault("latest_action_name", "action_listen")
    return Tracker.from_dict(state)


@pytest.fixture
def domain_dict(domain) -> dict[str, Any]:
    """The real domain (tests/conftest.py loads `domain.yml`) as the action server receives it."""
    return domain.as_dict()


async def run_action(action, tracker: Tracker, domain_dict: dict[str, Any]):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain_dict)
    return dispatcher.messages, events


def handoff_markers(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["custom"]["handoff"] for m in messages
            if isinstance(m.get("custom"), dict) and "handoff" in m["custom"]]


def decision(messages: list[dict[str, Any]]) -> tuple[Any, ...]:
    """What the first handoff marker decided: (status, queue, priority, prioritized)."""
    marker = handoff_markers(messages)[0]
    return marker["status"], marker["queue"], marker["priority"], marker["prioritized"]


def assert_outcome(messages, user_id, live_agent, conversation_id) -> dict[str, Any]:
    """Exactly one CONTRACT marker, the one SPEC §2 gives this user (DEMO_OUTCOMES), the intake
    sent only when queued, and the reply says it in words too; returns the marker."""
    status, queue, prioritized, reason = DEMO_OUTCOMES[user_id]
    markers = handoff_markers(messages)
    assert len(markers) == 1, messages
    marker = markers[0]
    assert marker["status"] == status
    if status == "queued":
        assert marker == {"status": "queued", "conversation_id": conversation_id, "queue": queue,
                          "priority": marker["priority"], "prioritized": prioritized, "position": 1}
        assert marker["priority"] in PRIORITY_LEVELS
        assert [i["conversation_id"] for i in live_agent.intakes] == [conversation_id]
    else:
        assert live_agent.intakes == []
        assert "ticket" in marker["offers"]
        if status == "not_eligible":
            assert marker["reason"] == reason
    assert any(m.get("text") for m in messages)
    return marker


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)
