"""Clients that speak the contract (CONTRACT.md) as the widget and the agent console do."""
from __future__ import annotations

import asyncio
import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.identity import mint_token
from bot.settings import get_settings

REPLY_TIMEOUT = 90.0
_ids = itertools.count(1)


def token_for(user_id: str) -> str:
    return mint_token(user_id, get_settings().identity_secret)


@dataclass
class Widget:
    """One user's chat: sends with a `client_id`, keeps what is not acknowledged yet, and after
    its socket dies reconnects (resuming the conversation) and sends that again, as widget.js does."""

    http: aiohttp.ClientSession
    base_url: str
    token: str | None = None
    locale: str = "de"
    conversation_id: str | None = None
    ws: aiohttp.ClientWebSocketResponse | None = None
    welcome: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    unacked: dict[str, str] = field(default_factory=dict)
    sent: list[str] = field(default_factory=list)
    frames: list[dict[str, Any]] = field(default_factory=list)
    inbox: "Inbox | None" = None

    async def connect(self, base_url: str | None = None) -> "Widget":
        self.base_url = base_url or self.base_url
        self.ws = await self.http.ws_connect(f"{self.base_url}/ws/chat", heartbeat=20)
        self.inbox = Inbox(self.ws)
        hello: dict[str, Any] = {"type": "hello", "locale": self.locale}
        if self.token:
            hello["token"] = self.token
        if self.conversation_id:
            hello["conversation_id"] = self.conversation_id
        await self.ws.send_json(hello)
        self.welcome = await self.next("welcome", timeout=30)
        self.conversation_id = self.welcome["conversation_id"]
        if self.welcome.get("resumed"):
            self.history = (await self.next("history", timeout=30))["messages"]
        return self

    async def send(self, text: str) -> str:
        client_id = f"c-{uuid.uuid4().hex[:12]}-{next(_ids)}"
        self.unacked[client_id] = text
        self.sent.append(text)
        assert self.ws is not None
        await self.ws.send_json({"type": "message", "text": text, "client_id": client_id})
        return client_id

    async def resend_unacked(self) -> None:
        assert self.ws is not None
        for client_id, text in list(self.unacked.items()):
            await self.ws.send_json({"type": "message", "text": text, "client_id": client_id})

    async def next(self, kind: str | None = None, timeout: float = REPLY_TIMEOUT, **match: Any) -> dict[str, Any]:
        """The next frame of `kind` (and matching `match`), skipping others; acks are recorded."""
        assert self.inbox is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise asyncio.TimeoutError(f"no {kind} frame {match} within {timeout} s; got {self.frames[-5:]}")
            frame = await self.inbox.get(remaining)
            self.frames.append(frame)
            if frame.get("type") == "ack":
                self.unacked.pop(frame.get("client_id"), None)
            if (kind is None or frame.get("type") == kind) and all(frame.get(k) == v for k, v in match.items()):
                return frame

    async def reply(self, timeout: float = REPLY_TIMEOUT) -> dict[str, Any]:
        """The bot's next message (text or buttons)."""
        while True:
            frame = await self.next("message", timeout=timeout)
            if frame.get("from") == "bot":
                return frame

    async def ask(self, text: str, timeout: float = REPLY_TIMEOUT) -> dict[str, Any]:
        await self.send(text)
        return await self.reply(timeout)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.inbox is not None:
            await self.inbox.stop()


class Inbox:
    """Reads a socket all the time, as a browser does (so the server's pings are answered even
    while the test waits for something else); frames wait here until asked for."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.queue: asyncio.Queue = asyncio.Queue()
        self.task = asyncio.create_task(self._pump())

    async def _pump(self) -> None:
        while True:
            message = await self.ws.receive()
            if message.type != aiohttp.WSMsgType.TEXT:
                await self.queue.put(ConnectionError(f"socket ended: {message.type.name}"))
                return
            await self.queue.put(message.json())

    async def get(self, timeout: float) -> dict[str, Any]:
        item = await asyncio.wait_for(self.queue.get(), timeout)
        if isinstance(item, Exception):
            await self.queue.put(item)  # ended for good: every later call says so too
            raise item
        return item

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


@dataclass
class Agent:
    http: aiohttp.ClientSession
    base_url: str
    username: str = "anna"
    token: str = ""
    ws: aiohttp.ClientWebSocketResponse | None = None
    inbox: Inbox | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def login(self) -> "Agent":
        async with self.http.post(f"{self.base_url}/api/agents/login",
                                  json={"username": self.username, "password": f"{self.username}-demo-pass"}) as r:
            assert r.status == 200, await r.text()
            self.token = (await r.json())["token"]
        return self

    async def connect(self) -> "Agent":
        self.ws = await self.http.ws_connect(f"{self.base_url}/ws/agent", heartbeat=20)
        self.inbox = Inbox(self.ws)
        await self.ws.send_json({"type": "auth", "token": self.token})
        await self.next("ready")
        return self

    async def next(self, kind: str, timeout: float = REPLY_TIMEOUT, **match: Any) -> dict[str, Any]:
        assert self.inbox is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await self.inbox.get(max(0.1, deadline - loop.time()))
            if frame.get("type") == kind and all(frame.get(k) == v for k, v in match.items()):
                return frame

    async def call(self, method: str, path: str, **json: Any) -> tuple[int, Any]:
        async with self.http.request(method, f"{self.base_url}{path}", headers=self.headers,
                                     json=json or None) as response:
            return response.status, await response.json(content_type=None)

    async def conversation(self, conversation_id: str) -> dict[str, Any]:
        status, body = await self.call("GET", f"/api/conversations/{conversation_id}")
        assert status == 200, body
        return body

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.inbox is not None:
            await self.inbox.stop()


def user_texts(conversation: dict[str, Any]) -> list[str]:
    return [m["text"] for m in conversation["transcript"] if m["from"] == "user"]
