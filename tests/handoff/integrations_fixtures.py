"""Real parts for the integration tests: a webhook receiver (the service's own
`handoff.webhook_receiver` application on a real aiohttp server), an SMTP server (aiosmtpd, in
the test's event loop), and a database that also holds the demo accounts (the transcript email
reads the address from them)."""
from __future__ import annotations

import asyncio
import email
import email.policy
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest
from aiohttp import web
from aiosmtpd.smtp import SMTP

from bot.accounts.migrations import upgrade as upgrade_accounts
from bot.accounts.seed import seed as seed_accounts
from handoff.db import Database, make_engine
from handoff.retry import Backoff
from handoff.webhook_receiver import RECEIVED, Received, create_app as receiver_app
from scripts.runtime import free_port  # noqa: F401 (the tests of this package import it from here)

WEBHOOK_SECRET = "test-webhook-secret-of-some-length"
# Quick retries so a test sees several tries within a second or two.
QUICK = {"outbox_backoff": Backoff(first=0.2, ceiling=0.4), "outbox_poll_seconds": 0.2, "outbox_lease_seconds": 5.0}


async def eventually(check: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll `check` (sync or async) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def retrying_deliveries(client, headers: dict[str, str], what: str) -> list[dict[str, Any]]:
    """The outbox as a supervisor (`headers`) lists it, once its newest delivery was tried twice."""

    async def retrying():
        listed = await (await client.get("/api/deliveries", headers=headers)).json()
        return listed if listed and listed[0]["attempts"] >= 2 else None

    return await eventually(retrying, what=what)


@dataclass
class Receiver:
    """A receiver on a fixed port that can be started late (it is 'down' until then)."""

    port: int
    aiohttp_server: Any
    secret: str = WEBHOOK_SECRET
    outage: bool = False  # while True, it answers 503 without looking at the request
    hold: asyncio.Event | None = None  # when set up, requests wait until the event is set
    server: Any = None
    received: Received = field(default_factory=Received)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/bolt"

    async def start(self) -> "Receiver":
        app = receiver_app(self.secret)
        self.received = app[RECEIVED]

        @web.middleware
        async def trouble(request: web.Request, handler: Any) -> web.StreamResponse:
            if self.hold is not None:
                await self.hold.wait()
            if self.outage:
                return web.Response(status=503)
            return await handler(request)

        app.middlewares.append(trouble)
        self.server = await self.aiohttp_server(app, port=self.port)
        return self

    @property
    def events(self) -> list[dict[str, Any]]:
        return self.received.events


@pytest.fixture
def receiver(aiohttp_server) -> Receiver:
    """Not started: `await receiver.start()`."""
    return Receiver(free_port(), aiohttp_server)


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    messages: list[tuple[list[str], email.message.EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"


@dataclass
class SmtpServer:
    port: int
    inbox: Inbox = field(default_factory=Inbox)
    server: Any = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def start(self) -> "SmtpServer":
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: SMTP(self.inbox), "127.0.0.1", self.port)
        return self

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None

    @property
    def messages(self) -> list[tuple[list[str], email.message.EmailMessage]]:
        return self.inbox.messages


@pytest.fixture
async def smtp_server():
    """Not started: `await smtp_server.start()`."""
    server = SmtpServer(free_port())
    yield server
    await server.stop()


def migrate_and_seed_agents_and_accounts(url: str) -> None:
    """The service's tables and demo agents plus the demo accounts, as `make db` leaves it."""
    from tests.handoff.conftest import migrate_and_seed_agents

    migrate_and_seed_agents(url)
    upgrade_accounts(url)
    database = Database(make_engine(url), threads=1)
    try:
        database.write_sync(seed_accounts)
    finally:
        database.close()


@pytest.fixture
def with_accounts(database_url: str) -> str:
    """Asking for it makes this test's database (`database_url`) hold the demo accounts too."""
    return database_url
